"""Corrections get a permission of their own (a cashier registers payments only). Whoever
could post money before — users and groups with "add operation" — keeps corrections."""

from django.db import migrations


def keep_corrections(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    content_type, _ = ContentType.objects.get_or_create(app_label="finance", model="operation")
    # post_migrate would make it after the migrations; it is needed now.
    correction, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="post_correction",
        defaults={"name": "Can post balance corrections"})
    money = Permission.objects.filter(content_type=content_type, codename="add_operation")
    for group in Group.objects.filter(permissions__in=money):
        group.permissions.add(correction)
    for user in User.objects.filter(user_permissions__in=money):
        user.user_permissions.add(correction)


class Migration(migrations.Migration):

    dependencies = [
        ("finance", "0004_reconciliation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="operation",
            options={
                "ordering": ["-id"],
                "permissions": [("post_correction", "Can post balance corrections")],
                "verbose_name": "operation",
                "verbose_name_plural": "operations",
            },
        ),
        migrations.RunPython(keep_corrections, migrations.RunPython.noop),
    ]
