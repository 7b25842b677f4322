"""The (type, op_date) index of the operations also carries what the admin's reports and
dashboard read of a range (issue 14, docs/performance.md "Admin dashboard and reports")."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('finance', '0005_correction_permission'),
        ('tariffs', '0004_cabinet_tariff_change'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='operation',
            name='operation_type_date',
        ),
        migrations.AddIndex(
            model_name='operation',
            index=models.Index(fields=['type', 'op_date', 'pay_operator', 'tariff', 'service', 'account', 'amount'], name='operation_type_date'),
        ),
    ]
