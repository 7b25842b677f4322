"""The operators' main screen: subscribers, plus groups and attribute kinds.

Money, tariff, credit, contact and block changes go through services (locked and audited):
see admin_saving.py for the form, admin_views.py for blocks, finance/admin_views.py for
payments and corrections, admin_billing_views.py for promised payments and voluntary
blocks. The changelist runs a fixed
number of queries whatever the page size (list_select_related + an EXISTS annotation).
"""

from __future__ import annotations

import re

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from asr_billing.core.admin_mixins import (
    ReadOnlyInline,
    ServiceFormAdminMixin,
    money_html,
)
from asr_billing.core.search import Digits, contains_folded
from asr_billing.finance.admin_views import (
    can_post_correction,
    can_post_money,
    subscriber_money_view,
)
from asr_billing.finance.models import Operation
from asr_billing.network.models import Login, OnlineSession
from asr_billing.subscribers import admin_billing_views, admin_views
from asr_billing.subscribers.admin_forms import (
    GroupAdminForm,
    SubscriberAddForm,
    SubscriberChangeForm,
    SubscriberServiceFormSet,
    SubscriberServiceInlineForm,
)
from asr_billing.subscribers.admin_saving import (
    attribute_values_save,
    subscriber_admin_create,
    subscriber_admin_update,
    subscriber_services_save,
)
from asr_billing.subscribers.models import (
    Attribute,
    AttributeValue,
    Group,
    Subscriber,
    SubscriberService,
)

RECENT_OPERATIONS = 10


def subscriber_online():
    return Exists(
        OnlineSession.objects.filter(login__subscriber=OuterRef("pk"), stopped_at__isnull=True)
    )


class SubscriberStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (
            ("negbal", _("Cut off by balance")),
            ("debt", _("Negative balance")),
            ("blocked", _("Blocked by administrator")),
            ("voluntary", _("Voluntary block")),
            ("active", _("Active (not cut off, not blocked)")),
            ("online", _("Online")),
            ("offline", _("Offline")),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value == "negbal":
            return queryset.filter(negbal=True)
        if value == "debt":
            return queryset.filter(account__balance__lt=0)
        if value == "blocked":
            return queryset.filter(admin_blocked=True)
        if value == "voluntary":
            return queryset.filter(voluntary_blocked=True)
        if value == "active":
            return queryset.filter(negbal=False, admin_blocked=False, voluntary_blocked=False)
        if value == "online":
            return queryset.filter(is_online=True)
        if value == "offline":
            return queryset.filter(is_online=False)
        return queryset


class LoginInline(ReadOnlyInline):
    """A summary of the subscriber's logins; each is edited on its own page."""

    model = Login
    fields = ("ip", "mac", "nas", "enabled", "online", "sessions")
    readonly_fields = fields
    show_change_link = True  # the login itself is the row's title, linked to its page

    def get_queryset(self, request):
        return (
            super().get_queryset(request)
            .select_related("nas")
            .annotate(is_online=Exists(
                OnlineSession.objects.filter(login=OuterRef("pk"), stopped_at__isnull=True)
            ))
        )

    @admin.display(description=_("online"), boolean=True)
    def online(self, obj):
        return getattr(obj, "is_online", None)

    @admin.display(description=_("sessions"))
    def sessions(self, obj):
        """The login's RADIUS sessions, newest first, with their traffic."""
        if obj.pk is None:
            return "-"
        url = reverse("admin:network_onlinesession_changelist")
        return format_html('<a href="{}?login__id__exact={}">{}</a>', url, obj.pk,
                           _("history"))


class ChoicesOnceInline(admin.TabularInline):
    """An inline whose foreign-key selects (``choice_fields``) read their options once per
    page, not once per row, and whose rows come with those objects joined."""

    choice_fields: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.choice_fields)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        for name in self.choice_fields:
            field = formset.form.base_fields.get(name)
            if field is not None:
                field.choices = list(field.choices)  # a new form class per request
        return formset


class AttributeValueInline(ChoicesOnceInline):
    model = AttributeValue
    extra = 0
    fields = ("attribute", "value")
    choice_fields = ("attribute",)
    can_delete = False  # written through audited services, which have no delete: clear it


class SubscriberServiceInline(ChoicesOnceInline):
    model = SubscriberService
    form = SubscriberServiceInlineForm
    formset = SubscriberServiceFormSet
    extra = 0
    can_delete = False  # history: a service is disconnected (a date), not deleted
    fields = ("service", "enabled_on", "disabled_on", "comment")
    choice_fields = ("service",)


# No dots: "10.20.30.4" is the start of an IP address, not a phone number.
PHONE_TERM = re.compile(r"[+\d\s()-]*\d[+\d\s()-]*")
MAC_TERM = re.compile(r"(?:[0-9a-fA-F]{2}[:.-]?){2,5}[0-9a-fA-F]{2}")


def _phone_digits(term: str) -> str:
    """The digits of a term that looks like (part of) a phone number, at least 5."""
    if not PHONE_TERM.fullmatch(term):
        return ""
    digits = "".join(ch for ch in term if ch.isdigit())
    return digits if len(digits) >= 5 else ""


def _mac_fragment(term: str) -> str:
    """A term that is (part of) a MAC address in stored form: "e8-cd-2d" -> "e8:cd:2d"."""
    if not MAC_TERM.fullmatch(term) or not any(sep in term for sep in ":.-"):
        return ""
    hex_digits = re.sub(r"[:.-]", "", term).lower()
    return ":".join(hex_digits[i:i + 2] for i in range(0, len(hex_digits), 2))


@admin.register(Subscriber)
class SubscriberAdmin(ServiceFormAdminMixin, admin.ModelAdmin):
    list_display = (
        "contract_number",
        "name",
        "group",
        "tariff",
        "balance",
        "state_badges",
    )
    list_display_links = ("contract_number", "name")
    list_select_related = ("group", "tariff", "account")
    list_filter = (SubscriberStateFilter, "tariff", "group", "is_company")
    search_fields = ("contract_number", "name", "code1c", "phone", "sms_phone", "address",
                     "logins__login", "logins__ip", "logins__mac")
    search_help_text = _("Contract number, name, 1C code, phone, address, login, IP or MAC "
                         "address.")
    show_full_result_count = False  # a COUNT(*) of every subscriber on each page load
    list_per_page = 50
    actions = ("block_selected", "unblock_selected")

    # -- queries ---------------------------------------------------------------------

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(is_online=subscriber_online())

    def get_search_results(self, request, queryset, search_term):
        """Like Django's, but logins are matched with EXISTS instead of a join, so the
        list needs no DISTINCT (which is slow on a large table). Names and addresses match
        in any letter case, Cyrillic included, on SQLite too (core/search.py). A phone
        number matches whatever its punctuation on either side ("79036572902" finds
        "+7 903 657-29-02"); a MAC address in any common notation matches the stored one."""
        whole = search_term.strip()
        # "+7 (903) 657-29-02" is one phone number, not four words.
        terms = [whole] if " " in whole and _phone_digits(whole) else search_term.split()
        if not terms:
            return queryset, False
        for term in terms:
            login_match = Q(login__icontains=term) | Q(ip__icontains=term)
            mac = _mac_fragment(term)
            if mac:
                login_match |= Q(mac__contains=mac)
            logins = Login.objects.filter(subscriber=OuterRef("pk")).filter(login_match)
            match = (
                Q(contract_number__icontains=term)
                | Q(contains_folded("name", term))
                | Q(code1c__icontains=term)
                | Q(contains_folded("address", term))
                | Exists(logins)
            )
            digits = _phone_digits(term)
            if digits:
                queryset = queryset.alias(phone_digits=Digits(F("phone")),
                                          sms_digits=Digits(F("sms_phone")))
                match |= Q(phone_digits__contains=digits) | Q(sms_digits__contains=digits)
            queryset = queryset.filter(match)
        return queryset, False

    # -- list columns ----------------------------------------------------------------

    @admin.display(description=_("balance"), ordering="account__balance")
    def balance(self, obj):
        account = getattr(obj, "account", None)
        return money_html(account.balance if account else None)

    @admin.display(description=_("credit"), ordering="account__credit_limit")
    def credit(self, obj):
        account = getattr(obj, "account", None)
        return money_html(account.credit_limit if account else None)

    @admin.display(description=_("online"), boolean=True, ordering="is_online")
    def online(self, obj):
        return getattr(obj, "is_online", None)

    @admin.display(description=_("state"))
    def state_badges(self, obj):
        """Labelled, coloured badges in one column: a tick reads "good", and "cut off for
        debt" is not; one column of short words keeps the list within a 1440 px screen
        (the credit limit is on the subscriber's page)."""
        badges = []  # (colour, short label, the state in full for the tooltip)
        if obj.negbal:
            badges.append(("#ba2121", _("cut off"), _("cut off by balance")))
        if obj.admin_blocked:
            badges.append(("#5a1a1a", _("blocked"), _("blocked by administrator")))
        if obj.voluntary_blocked:
            badges.append(("#8a5a00", _("paused"), _("voluntary block")))
        if not badges:
            badges.append(("#2e7d32", _("active"), _("active")))
        if getattr(obj, "is_online", False):
            badges.append(("#1565c0", _("online"), _("online")))
        return format_html_join(
            " ", '<span class="asr-badge" title="{}" style="background:{};color:#fff;'
            'padding:1px 6px;border-radius:8px;white-space:nowrap;font-size:11px;'
            'display:inline-block;margin:1px 0">{}</span>',
            ((full, colour, label) for colour, label, full in badges))

    # -- change page -----------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = SubscriberChangeForm if obj is not None else SubscriberAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("contract_number", "state", "balance_detail", "promised", "recent_operations",
                "online", "created_at")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                (None, {"fields": ("contract_number", "name", "group", "is_company",
                                   "connected_on")}),
                (_("Tariff and credit"), {"fields": ("tariff", "credit_limit")}),
                (_("Contacts"), {"fields": ("email", "sms_phone", "phone", "address",
                                            "apartment")}),
                (_("1C"), {"fields": ("code1c",)}),
                (None, {"fields": ("comments",)}),
            )
        return (
            (None, {"fields": ("contract_number", "name", "group", "is_company",
                               "connected_on", "created_at")}),
            (_("State"), {"fields": ("state", "online")}),
            (_("Account"), {"fields": ("balance_detail", "credit_limit", "promised",
                                       "recent_operations")}),
            (_("Tariff"), {"fields": ("tariff", "tariff_next", "tariff_next_date")}),
            (_("Contacts"), {"fields": ("email", "sms_phone", "phone", "address",
                                        "apartment")}),
            (_("1C"), {"fields": ("code1c", "synced_1c")}),
            (None, {"fields": ("comments",)}),
        )

    def get_inlines(self, request, obj):
        # Logins, attributes and services belong to a saved subscriber.
        if obj is None:
            return []
        return [LoginInline, AttributeValueInline, SubscriberServiceInline]

    def get_object(self, request, object_id, from_field=None):
        # The page shows account figures: fetch the account with the subscriber's row.
        queryset = self.get_queryset(request).select_related("account", "tariff", "group")
        field = self.opts.pk if from_field is None else self.opts.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (Subscriber.DoesNotExist, ValidationError, ValueError):
            return None

    @admin.display(description=_("state"))
    def state(self, obj):
        parts = []
        if obj.negbal:
            parts.append(_("cut off by balance"))
        if obj.admin_blocked:
            reason = obj.admin_block_reason
            parts.append(_("blocked by administrator") + (f": {reason}" if reason else ""))
        if obj.voluntary_blocked:
            parts.append(_("voluntary block"))
        return "; ".join(str(p) for p in parts) if parts else _("active")

    @admin.display(description=_("balance"))
    def balance_detail(self, obj):
        account = getattr(obj, "account", None)
        return money_html(account.balance if account else None)

    @admin.display(description=_("promised payment"))
    def promised(self, obj):
        account = getattr(obj, "account", None)
        return money_html(account.promised_amount if account else None)

    @admin.display(description=_("last operations"))
    def recent_operations(self, obj):
        rows = list(
            Operation.objects.filter(account_id=obj.pk)
            .select_related("pay_operator")
            .order_by("-id")[:RECENT_OPERATIONS]
        )
        if not rows:
            return _("No operations yet.")
        ledger = reverse("admin:finance_operation_changelist") + f"?account={obj.pk}"
        body = format_html_join(
            "",
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:finance_operation_change", args=[op.pk]),
                    op.pk,
                    date_format(localtime(op.op_date), "SHORT_DATETIME_FORMAT"),
                    op.get_type_display(),
                    money_html(op.amount),
                    money_html(op.balance_after),
                    op.description or (op.pay_operator.code if op.pay_operator_id else ""),
                )
                for op in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>ID</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>"
            "<p><a href=\"{}\">{}</a></p>",
            _("date"), _("type"), _("amount"), _("balance after"), _("description"),
            body, ledger, _("All operations of this subscriber"),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="",
                           obj=None):
        context["can_post_money"] = can_post_money(request)
        context["can_post_correction"] = can_post_correction(request)
        if change and obj is not None:
            context.update(admin_billing_views.billing_buttons(self, request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- writes (through services) -------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            subscriber_admin_update(request, obj, form)
        else:
            subscriber_admin_create(request, obj, form.cleaned_data)

    def save_formset(self, request, form, formset, change):
        if formset.model is AttributeValue:
            attribute_values_save(request, formset)
        elif formset.model is SubscriberService:
            subscriber_services_save(request, formset)
        else:
            super().save_formset(request, form, formset, change)

    def has_delete_permission(self, request, obj=None):
        # Accounts and the ledger keep subscribers forever; block or archive instead.
        return False

    # -- actions and extra pages ---------------------------------------------------------

    @admin.action(description=_("Block selected subscribers"), permissions=["change"])
    def block_selected(self, request, queryset):
        return admin_views.block_action(self, request, queryset)

    @admin.action(description=_("Unblock selected subscribers"), permissions=["change"])
    def unblock_selected(self, request, queryset):
        return admin_views.unblock_action(self, request, queryset)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        info = self.opts.app_label, self.opts.model_name

        def money(kind):
            return wrap(lambda request, object_id: subscriber_money_view(
                self, request, object_id, kind))

        def block(flag):
            return wrap(lambda request, object_id: admin_views.subscriber_block_view(
                self, request, object_id, block=flag))

        def billing(view):
            return wrap(lambda request, object_id: view(self, request, object_id))

        prefix = "{}_{}_".format(*info)
        views = admin_billing_views
        return [
            path("<path:object_id>/promised-payment/", billing(views.promised_payment_view),
                 name=prefix + "promised"),
            path("<path:object_id>/voluntary-block/", billing(views.voluntary_block_view),
                 name=prefix + "vblock"),
            path("<path:object_id>/voluntary-block/lift/",
                 billing(views.voluntary_block_lift_view), name=prefix + "vblock_lift"),
            path("<path:object_id>/payment/", money("payment"), name=prefix + "payment"),
            path("<path:object_id>/correction/", money("correction"), name=prefix + "correction"),
            path("<path:object_id>/block/", block(True), name=prefix + "block"),
            path("<path:object_id>/unblock/", block(False), name=prefix + "unblock"),
            *super().get_urls(),
        ]


class GroupTreeChangeList(ChangeList):
    """Tree order unless the operator sorts by a column. (ModelAdmin.get_ordering cannot
    name the annotation: related-field filters elsewhere order groups with it.)"""

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        if ORDER_VAR in self.params or "tree_pos" not in queryset.query.annotations:
            return ordering
        return ["tree_pos", *ordering]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    """Groups in tree order (a parent, then its subgroups by name), indented by depth."""

    form = GroupAdminForm
    list_display = ("tree_name", "parent", "subscriber_count")
    search_fields = ("name",)
    list_filter = ("parent",)
    TREE_ORDER_LIMIT = 2000  # beyond that, a CASE per group costs more than it helps

    def _tree(self) -> list[tuple[int, int]]:
        """(group id, depth) in depth-first order, children sorted by name."""
        children: dict[int | None, list[tuple[str, int]]] = {}
        rows = list(Group.objects.values_list("id", "parent_id", "name"))
        for pk, parent_id, name in rows:
            children.setdefault(parent_id, []).append((name.lower(), pk))
        order, seen = [], set()
        stack = [(pk, 0) for _name, pk in sorted(children.get(None, []), reverse=True)]
        while stack:
            pk, depth = stack.pop()
            if pk in seen:
                continue
            seen.add(pk)
            order.append((pk, depth))
            for _name, child in sorted(children.get(pk, []), reverse=True):
                stack.append((child, depth + 1))
        # Anything unreachable from a root (a cycle typed into the DB) still shows, last.
        order.extend((pk, 0) for pk, _p, _n in rows if pk not in seen)
        return order

    def _tree_for(self, request) -> list[tuple[int, int]] | None:
        """The tree order for this request, or None when there are too many groups."""
        if not hasattr(request, "_group_tree"):
            too_many = Group.objects.count() > self.TREE_ORDER_LIMIT
            request._group_tree = None if too_many else self._tree()
        return request._group_tree

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("parent").annotate(
            subscriber_total=Count("subscribers")
        )
        tree = self._tree_for(request)
        if tree is not None:
            queryset = queryset.annotate(
                tree_pos=Case(*[When(pk=pk, then=Value(i)) for i, (pk, _d) in enumerate(tree)],
                              default=Value(len(tree)), output_field=IntegerField()),
                tree_depth=Case(*[When(pk=pk, then=Value(d)) for pk, d in tree],
                                default=Value(0), output_field=IntegerField()),
            )
        return queryset

    def get_changelist(self, request, **kwargs):
        return GroupTreeChangeList

    @admin.display(description=_("name"), ordering="name")
    def tree_name(self, obj):
        depth = getattr(obj, "tree_depth", 0) or 0
        return format_html("{}{}", "\u2003" * depth, obj.name)

    @admin.display(description=_("subscribers"), ordering="subscriber_total")
    def subscriber_count(self, obj):
        return obj.subscriber_total


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "code")
    search_fields = ("name", "code")
