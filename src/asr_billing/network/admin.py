"""Admin for NAS devices, logins and online sessions.

Logins and NAS are written through network.services (audited, secrets encrypted); the
password and the RADIUS secret are write-only fields, their ciphertext is never shown.
Sessions are RADIUS accounting history: read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from asr_billing.core.admin_mixins import (
    ReadOnlyAdminMixin,
    ServiceFormAdminMixin,
    admin_link,
    adopt_instance,
    service_call,
)
from asr_billing.core.errors import ApplicationError
from asr_billing.network.admin_forms import LoginAdminForm, NasAdminForm
from asr_billing.network.models import Login, Nas, OnlineSession
from asr_billing.network.services import (
    login_create,
    login_set_password,
    login_update,
    nas_create,
    nas_update,
    normalize_mac,
)


def open_sessions(**outer):
    """An EXISTS over open sessions, e.g. open_sessions(login=OuterRef("pk"))."""
    return Exists(OnlineSession.objects.filter(stopped_at__isnull=True, **outer))


class LoginOnlineFilter(admin.SimpleListFilter):
    title = _("online")
    parameter_name = "online"

    def lookups(self, request, model_admin):
        return (("yes", _("Online")), ("no", _("Offline")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(is_online=True)
        if self.value() == "no":
            return queryset.filter(is_online=False)
        return queryset


@admin.register(Nas)
class NasAdmin(ServiceFormAdminMixin, admin.ModelAdmin):
    form = NasAdminForm
    list_display = ("name", "ip", "nas_type", "has_secret", "login_count", "online_count")
    list_filter = ("nas_type",)
    search_fields = ("name", "ip", "description")
    readonly_fields = ("has_secret",)

    def get_fieldsets(self, request, obj=None):
        fields = ["name", "ip", "nas_type", "new_secret", "coa_port", "ipoe_match",
                  "description"]
        if obj is not None:
            fields.insert(3, "has_secret")
        return ((None, {"fields": fields}),)

    def get_queryset(self, request):
        # A subquery, not a second Count: two joins would multiply each other's rows.
        online = (OnlineSession.objects.filter(nas=OuterRef("pk"), stopped_at__isnull=True)
                  .order_by().values("nas").annotate(total=Count("id")).values("total"))
        return super().get_queryset(request).annotate(
            login_total=Count("logins"),
            online_total=Coalesce(Subquery(online, output_field=IntegerField()), 0),
        )

    def has_delete_permission(self, request, obj=None):
        # Logins and sessions point at NAS devices; there is no delete service.
        return False

    @admin.display(description=_("RADIUS secret set"), boolean=True)
    def has_secret(self, obj):
        return bool(obj.radius_secret_enc)

    @admin.display(description=_("logins"), ordering="login_total")
    def login_count(self, obj):
        return getattr(obj, "login_total", None)

    @admin.display(description=_("online now"), ordering="online_total")
    def online_count(self, obj):
        """Open sessions, linked to the NAS's online list."""
        total = getattr(obj, "online_total", None)
        if not total:
            return total
        url = reverse("admin:network_onlinesession_changelist")
        return format_html('<a href="{}?nas__id__exact={}&amp;open=yes">{}</a>', url, obj.pk,
                           total)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "ip": data["ip"],
            "nas_type": data["nas_type"],
            "description": data.get("description", ""),
            "coa_port": data.get("coa_port") or 3799,
            "ipoe_match": data.get("ipoe_match") or "ip",
        }
        if change:
            service_call(
                nas_update, nas=obj, actor=request.user,
                radius_secret=data.get("new_secret") or None, **fields,
            )
        else:
            created = service_call(
                nas_create, actor=request.user, radius_secret=data.get("new_secret") or "",
                **fields,
            )
            adopt_instance(obj, created)


@admin.register(Login)
class LoginAdmin(ServiceFormAdminMixin, admin.ModelAdmin):
    form = LoginAdminForm
    list_display = ("login", "subscriber_link", "ip", "mac", "nas", "enabled", "online")
    list_select_related = ("subscriber", "nas")
    list_filter = ("enabled", "nas", LoginOnlineFilter)
    search_fields = ("login", "ip", "mac", "subscriber__contract_number", "subscriber__name")
    autocomplete_fields = ("subscriber",)
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(is_online=open_sessions(login=OuterRef("pk")))

    def get_search_results(self, request, queryset, search_term):
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        # A MAC typed in any notation (00-1A-2B..., 001a.2b3c...) finds the stored form.
        try:
            mac = normalize_mac(search_term)
        except ApplicationError:
            mac = ""
        if mac:
            queryset |= self.get_queryset(request).filter(mac=mac)
        return queryset, duplicates

    def get_readonly_fields(self, request, obj=None):
        return ("subscriber_link", "login", "created_at") if obj is not None else ()

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            main = ["subscriber", "login", "new_password"]
        else:
            main = ["subscriber_link", "login", "new_password"]
        network = ["enabled", "ip", "mac", "snat_ip", "nas"]
        tail = ["comments"] + (["created_at"] if obj is not None else [])
        return (
            (None, {"fields": main}),
            (_("Network"), {"fields": network}),
            (None, {"fields": tail}),
        )

    def has_delete_permission(self, request, obj=None):
        # Sessions and the audit log refer to logins: disable a login instead.
        return False

    @admin.display(description=_("subscriber"), ordering="subscriber__contract_number")
    def subscriber_link(self, obj):
        return admin_link(obj.subscriber)

    @admin.display(description=_("online"), boolean=True, ordering="is_online")
    def online(self, obj):
        return getattr(obj, "is_online", None)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        network = {
            "ip": data.get("ip") or None,
            "mac": data.get("mac") or "",
            "snat_ip": data.get("snat_ip") or None,
            "nas": data.get("nas"),
            "enabled": data.get("enabled", False),
        }
        if change:
            service_call(login_update, login=obj, actor=request.user, **network)
            if data.get("new_password"):
                service_call(
                    login_set_password, login=obj, password=data["new_password"],
                    actor=request.user,
                )
        else:
            created = service_call(
                login_create,
                subscriber=data["subscriber"],
                login=data["login"],
                password=data["new_password"],
                actor=request.user,
                **network,
            )
            adopt_instance(obj, created)
        if "comments" in form.changed_data:
            # Free text, not part of the audited network state.
            Login.objects.filter(pk=obj.pk).update(comments=data.get("comments", ""))
            obj.comments = data.get("comments", "")


class SessionOpenFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return (("yes", _("Open")), ("no", _("Closed")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(stopped_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(stopped_at__isnull=False)
        return queryset


@admin.register(OnlineSession)
class OnlineSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "login",
        "subscriber_link",
        "nas",
        "ip",
        "started_at",
        "updated_at",
        "stopped_at",
        "duration",
        "traffic_in",
        "traffic_out",
        "terminate_cause",
    )
    list_select_related = ("login__subscriber", "nas")
    list_filter = (SessionOpenFilter, "nas", "terminate_cause", "started_at")
    search_fields = ("login__login", "ip", "acct_session_id", "login__subscriber__contract_number")
    show_full_result_count = False

    actions = ["disconnect"]

    @admin.action(description=_("Disconnect the selected open sessions (the NAS ends them)"))
    def disconnect(self, request, queryset):
        from asr_billing.network.coa import session_disconnect

        asked = sum(session_disconnect(session=session, reason=f"admin:{request.user.pk}")
                    for session in queryset.filter(stopped_at__isnull=True))
        self.message_user(request, _(
            "%(count)d Disconnect-Request(s) queued; their outcome is in Background tasks.")
            % {"count": asked})

    # The subscriber's and the login's pages link here with these (their history).
    HISTORY_LOOKUPS = ("login__id__exact", "login__subscriber__id__exact")

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in self.HISTORY_LOOKUPS or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("subscriber"), ordering="login__subscriber__contract_number")
    def subscriber_link(self, obj):
        return admin_link(obj.login.subscriber)

    @admin.display(description=_("duration"))
    def duration(self, obj):
        """Until the Stop, or until the last news of an open session; h:mm:ss."""
        end = obj.stopped_at or obj.updated_at
        seconds = max(0, int((end - obj.started_at).total_seconds()))
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"

    # Acct-Input-Octets: what the NAS received from the subscriber.
    @admin.display(description=_("uploaded"), ordering="input_octets")
    def traffic_in(self, obj):
        return octets_text(obj.input_octets)

    @admin.display(description=_("downloaded"), ordering="output_octets")
    def traffic_out(self, obj):
        return octets_text(obj.output_octets)


def octets_text(value: int) -> str:
    """Bytes in binary units for reading, the exact count in the title."""
    size, unit = float(value), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024
    shown = f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
    return format_html('<span title="{} B">{}</span>', f"{value:,}".replace(",", " "), shown)

