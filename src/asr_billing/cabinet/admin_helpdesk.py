"""Operators' side of the helpdesk and the notifications. A ticket is answered (and
closed) on its page through cabinet.helpdesk.ticket_answer / ticket_close; notifications
are published through cabinet.notifications.notification_create and ended early with an
action. Each write is audited by its service; messages and read marks are history."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from asr_billing.cabinet.helpdesk import TEXT_MAX, ticket_answer, ticket_close
from asr_billing.cabinet.models import (
    Audience,
    MessageAuthor,
    Notification,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from asr_billing.cabinet.notifications import TEXT_MAX as NOTIFICATION_MAX
from asr_billing.cabinet.notifications import notification_create, notification_end
from asr_billing.core.admin_mixins import (
    ReadOnlyInline,
    ServiceFormAdminMixin,
    admin_link,
    adopt_instance,
    service_call,
)

# --- Tickets --------------------------------------------------------------------------------


class TicketAnswerForm(forms.ModelForm):
    """No field of the ticket is edited; the operator writes an answer and/or closes it."""

    answer = forms.CharField(label=_("Answer"), required=False, max_length=TEXT_MAX,
                             widget=forms.Textarea(attrs={"rows": 6, "cols": 80}))
    close = forms.BooleanField(label=_("Close the ticket"), required=False)

    class Meta:
        model = Ticket
        fields = ["answer", "close"]

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("answer") or "").strip() and not cleaned.get("close"):
            raise forms.ValidationError(_("Write an answer or close the ticket."))
        return cleaned


class TicketMessageInline(ReadOnlyInline):
    model = TicketMessage
    fields = ("created_at", "author", "operator", "text", "read_at")
    readonly_fields = fields
    verbose_name_plural = _("Conversation")


@admin.register(Ticket)
class TicketAdmin(ServiceFormAdminMixin, admin.ModelAdmin):
    form = TicketAnswerForm
    list_display = ("pk", "subject", "subscriber_link", "status", "waiting", "created_at",
                    "updated_at", "message_count")
    list_display_links = ("pk", "subject")
    list_select_related = ("subscriber",)
    list_filter = ("status", "created_at")
    search_fields = ("=id", "subject", "=subscriber__contract_number", "subscriber__name")
    readonly_fields = ("subscriber_link", "subject", "status", "created_at", "updated_at",
                       "closed_at", "text")
    fieldsets = (
        (None, {"fields": ("subscriber_link", "subject", "status", "created_at",
                           "updated_at", "closed_at", "text")}),
        (_("Answer"), {"fields": ("answer", "close")}),
    )
    inlines = (TicketMessageInline,)
    show_full_result_count = False

    def get_queryset(self, request):
        unread = Q(messages__author=MessageAuthor.SUBSCRIBER, messages__read_at__isnull=True)
        return super().get_queryset(request).annotate(
            messages_total=Count("messages"), unread_total=Count("messages", filter=unread))

    def has_add_permission(self, request):
        return False  # subscribers open tickets (in the cabinet)

    def has_delete_permission(self, request, obj=None):
        return False  # a conversation is history

    @admin.display(description=_("subscriber"), ordering="subscriber__contract_number")
    def subscriber_link(self, obj):
        return admin_link(obj.subscriber)

    @admin.display(description=_("messages"), ordering="messages_total")
    def message_count(self, obj):
        return getattr(obj, "messages_total", None)

    @admin.display(description=_("waiting for support"), boolean=True)
    def waiting(self, obj):
        return obj.status == TicketStatus.OPEN

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        answer = (data.get("answer") or "").strip()
        if answer:
            service_call(ticket_answer, ticket=obj, text=answer, close=data.get("close"),
                         actor=request.user)
        else:
            service_call(ticket_close, ticket=obj, actor=request.user)


# --- Notifications ----------------------------------------------------------------------------


class NotificationForm(forms.ModelForm):
    """Who gets it is checked here as the service checks it, so the operator sees the
    mistake beside the field."""

    text = forms.CharField(label=_("text"), max_length=NOTIFICATION_MAX,
                           widget=forms.Textarea(attrs={"rows": 4, "cols": 80}))

    class Meta:
        model = Notification
        fields = ["text", "type", "audience", "subscriber", "group", "starts_at", "ends_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "starts_at" in self.fields:  # not on the read-only page of a published one
            self.fields["starts_at"].required = False
            self.fields["starts_at"].help_text = _("Empty: now.")
            self.fields["ends_at"].help_text = _("Empty: until each subscriber marks it read.")

    def clean(self):
        cleaned = super().clean()
        audience = cleaned.get("audience")
        if audience == Audience.SUBSCRIBER and not cleaned.get("subscriber"):
            self.add_error("subscriber", _("Choose the subscriber."))
        if audience == Audience.GROUP and not cleaned.get("group"):
            self.add_error("group", _("Choose the group."))
        if audience != Audience.SUBSCRIBER:
            cleaned["subscriber"] = None
        if audience != Audience.GROUP:
            cleaned["group"] = None
        return cleaned

    def _post_clean(self):
        pass  # the service validates and saves; the model's checks would run half-built


class NotificationShownFilter(admin.SimpleListFilter):
    title = _("shown now")
    parameter_name = "shown"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        from django.utils import timezone

        now = timezone.now()
        shown = Q(starts_at__lte=now) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        if self.value() == "yes":
            return queryset.filter(shown)
        if self.value() == "no":
            return queryset.exclude(shown)
        return queryset


@admin.register(Notification)
class NotificationAdmin(ServiceFormAdminMixin, admin.ModelAdmin):
    form = NotificationForm
    list_display = ("pk", "short_text", "type", "audience", "addressee", "starts_at",
                    "ends_at", "read_count", "created_by")
    list_select_related = ("subscriber", "group")
    list_filter = (NotificationShownFilter, "audience", "type")
    search_fields = ("text", "=subscriber__contract_number", "group__name")
    raw_id_fields = ("subscriber", "group")
    actions = ("end_selected",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(read_total=Count("reads"))

    def has_change_permission(self, request, obj=None):
        # A published notification is not edited (end it and publish another): its page
        # is read-only; the list and the add form stay.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # end it instead: the audit keeps who said what to whom

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"

    @admin.display(description=_("subscriber or group"))
    def addressee(self, obj):
        if obj.subscriber_id:
            return admin_link(obj.subscriber)
        if obj.group_id:
            return admin_link(obj.group)
        return "—"

    @admin.display(description=_("read by"), ordering="read_total")
    def read_count(self, obj):
        return getattr(obj, "read_total", None)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = service_call(
            notification_create, actor=request.user, text=data["text"], kind=data["type"],
            subscriber=data.get("subscriber"), group=data.get("group"),
            everyone=data["audience"] == Audience.EVERYONE,
            starts_at=data.get("starts_at"), ends_at=data.get("ends_at"),
        )
        adopt_instance(obj, created)

    def has_end_permission(self, request):
        return super().has_change_permission(request)

    @admin.action(description=_("Stop showing selected notifications now"),
                  permissions=["end"])
    def end_selected(self, request, queryset):
        ended = notification_end(notification_ids=queryset.values_list("pk", flat=True),
                                 actor=request.user)
        messages.success(request, gettext("Notifications ended: %(n)d.") % {"n": ended})
