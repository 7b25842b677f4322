"""The dashboard's subscribers by state read from an index (issue 14)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('subscribers', '0002_subscriber_cut_off'),
        ('tariffs', '0004_cabinet_tariff_change'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='subscriber',
            index=models.Index(fields=['negbal', 'admin_blocked', 'voluntary_blocked'], name='subscriber_states'),
        ),
    ]
