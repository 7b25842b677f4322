from datetime import timedelta

from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Coalesce


def fill(apps, schema_editor):
    """Counters from before: kept a day after their last failure (or their refusal's end),
    longer than any limit's window by default; the purge then takes them."""
    AuthThrottle = apps.get_model("cabinet", "AuthThrottle")
    AuthThrottle.objects.update(expires_at=Coalesce(
        "blocked_until", "last_failure_at", "window_start",
        output_field=models.DateTimeField()) + timedelta(days=1))
    # A refusal ending later than a day after the last failure keeps its own end.
    AuthThrottle.objects.filter(blocked_until__gt=F("expires_at")).update(
        expires_at=F("blocked_until"))


class Migration(migrations.Migration):

    dependencies = [
        ('cabinet', '0003_throttle_delays'),
    ]

    operations = [
        migrations.AddField(
            model_name='auththrottle',
            name='expires_at',
            field=models.DateTimeField(null=True, verbose_name='forgotten after'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='auththrottle',
            name='expires_at',
            field=models.DateTimeField(db_index=True, verbose_name='forgotten after'),
        ),
    ]
