"""The admin site's header and the audit log (read-only). Counters stay hidden: they are
internal sequences (contract numbers), and editing one by hand would hand out duplicates."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from asr_billing.core.admin_login import OperatorLoginForm
from asr_billing.core.admin_mixins import ReadOnlyAdminMixin, admin_link
from asr_billing.core.models import AuditEntry, Task, TaskState

admin.site.site_header = "asr-billing"
admin.site.site_title = "asr-billing"
admin.site.index_title = _("Billing administration")
# "View site" opens the subscribers' cabinet, not the admin again.
admin.site.site_url = "/cabinet/"
# The first page: the dashboard above the apps (core/dashboard.py).
admin.site.index_template = "admin/asr_dashboard_index.html"
_apps_index = admin.site.index


def _dashboard_index(request, extra_context=None):
    from asr_billing.core.admin_reports import visible_reports
    from asr_billing.core.dashboard import dashboard

    return _apps_index(request, {"dashboard": dashboard(request.user),
                                 "reports": visible_reports(request.user),
                                 **(extra_context or {})})


admin.site.index = _dashboard_index
_site_urls = admin.site.get_urls


def _urls_with_reports():
    # The reports (core/admin_reports.py) come before the site's catch-all app pattern.
    from asr_billing.core.admin_reports import report_urls

    return [*report_urls(admin.site), *_site_urls()]


admin.site.get_urls = _urls_with_reports
admin.site.login_form = OperatorLoginForm  # failed logins are limited (core/admin_login.py)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "who",
        "action",
        "subscriber_link",
        "object_type",
        "object_id",
        "message",
    )
    list_filter = ("action", "object_type", "created_at")
    search_fields = (
        "subscriber__contract_number",
        "subscriber__name",
        "actor",
        "action",
        "object_id",
        "message",
    )
    list_select_related = ("subscriber", "actor_user")
    show_full_result_count = False  # COUNT(*) over years of audit rows costs more than it tells
    fields = (
        "created_at",
        "actor_user",
        "actor",
        "action",
        "subscriber_link",
        "object_type",
        "object_id",
        "old",
        "new",
        "message",
    )
    readonly_fields = fields

    @admin.display(description=_("actor"), ordering="actor")
    def who(self, obj):
        return obj.actor_user.get_username() if obj.actor_user_id else obj.actor

    @admin.display(description=_("subscriber"), ordering="subscriber__contract_number")
    def subscriber_link(self, obj):
        return admin_link(obj.subscriber) if obj.subscriber_id else "—"


@admin.register(Task)
class TaskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the background worker did: CoA / Disconnect to NAS devices and the like."""

    list_display = ("id", "name", "key", "state", "attempts", "run_after", "finished_at",
                    "outcome")
    list_filter = ("state", "name")
    search_fields = ("key", "outcome")
    show_full_result_count = False
    actions = ["retry_now"]

    @admin.action(description=_("Run again now"))
    def retry_now(self, request, queryset):
        from django.utils import timezone

        moved = queryset.filter(state__in=(TaskState.FAILED, TaskState.PENDING)).update(
            state=TaskState.PENDING, run_after=timezone.now(), attempts=0)
        self.message_user(request, _("%(count)d task(s) will run again.") % {"count": moved})

    def has_change_permission(self, request, obj=None):
        # The list's action needs it; the change form still shows read-only fields.
        return obj is None and request.user.is_superuser
