"""The (type, op_date) index of the operations also carries what the admin's reports and
dashboard read of a range (issue 14, docs/performance.md "Admin dashboard and reports").

Built beside the old one without blocking payments on PostgreSQL (core/migration_ops.py):
on a large ledger this takes minutes, during which the billing keeps posting."""

from django.conf import settings
from django.db import migrations, models

from asr_billing.core.migration_ops import replace_index_online


class Migration(migrations.Migration):

    atomic = False  # CREATE / DROP INDEX CONCURRENTLY

    dependencies = [
        ('finance', '0005_correction_permission'),
        ('tariffs', '0004_cabinet_tariff_change'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        replace_index_online(
            'finance', 'operation',
            old=models.Index(fields=['type', 'op_date'], name='operation_type_date'),
            new=models.Index(fields=['type', 'op_date', 'pay_operator', 'tariff', 'service',
                                     'account', 'amount'], name='operation_type_date'),
        ),
    ]
