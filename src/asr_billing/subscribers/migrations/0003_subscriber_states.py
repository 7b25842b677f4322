"""The dashboard's subscribers by state read from an index (issue 14)."""

from django.db import migrations, models

from asr_billing.core.migration_ops import AddIndexOnline


class Migration(migrations.Migration):

    atomic = False  # CREATE INDEX CONCURRENTLY: writes to subscribers go on meanwhile

    dependencies = [
        ('subscribers', '0002_subscriber_cut_off'),
        ('tariffs', '0004_cabinet_tariff_change'),
    ]

    operations = [
        AddIndexOnline(
            model_name='subscriber',
            index=models.Index(fields=['negbal', 'admin_blocked', 'voluntary_blocked'], name='subscriber_states'),
        ),
    ]
