"""Subscriber list, search, state filters, actions and edits through services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import Tariff

from .conftest import open_session

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:subscribers_subscriber_changelist")


def listed(client, **params) -> set[int]:
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def test_list_columns(admin_client, isp):
    response = admin_client.get(CHANGELIST)
    html = response.content.decode()
    assert "BILL0000003" in html
    assert "Иванов Иван Иванович" in html
    assert "Home 100" in html  # tariff
    assert "Test group" in html
    row = next(o for o in response.context["cl"].result_list if o.pk == isp.paid_online.pk)
    assert row.is_online is True
    assert row.account.balance == Decimal("1000.00")


def test_states_are_labelled_badges_in_one_column(admin_client, isp):
    html = admin_client.get(CHANGELIST).content.decode()
    for label in ("отключён по балансу", "заблокирован администратором",
                  "добровольная блокировка"):  # in full, as the badges' tooltips
        assert f'title="{label}"' in html.lower(), label
    for label in (">отключён<", ">заблокирован<", ">пауза<", ">активен<", ">в сети<"):
        assert label in html.lower(), label
    # No ticks and crosses for states: green read as "good" for a subscriber cut off.
    assert "icon-yes.svg" not in html and "icon-no.svg" not in html
    [row] = [tr for tr in html.split("<tr")[1:] if "BILL0000003" in tr]
    row = row.split("</tr>")[0].lower()
    assert "активен" in row and "в сети" in row and "отключён" not in row


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("testlogin", "paid_online"),  # login
        ("10.20.30.41", "paid_online"),  # IP of a login
        ("BILL0000003", "paid_online"),  # contract number
        ("Ромашка", "offline"),  # name
        ("1C-000123", "offline"),  # 1C code
        ("romashka", "offline"),  # a disabled login still finds its subscriber
    ],
)
def test_search(admin_client, isp, isp_ids, term, expected):
    assert listed(admin_client, q=term) == {isp_ids[expected]}


@pytest.mark.parametrize("term", ["79036572902", "+7 (903) 657-29-02", "9036572", "657-29-02"])
def test_search_by_phone_whatever_its_punctuation(admin_client, isp, isp_ids, term):
    Subscriber.objects.filter(pk=isp_ids["negbal"]).update(phone="+7 903 657-29-02")
    Subscriber.objects.filter(pk=isp_ids["offline"]).update(sms_phone="79036572902")
    assert listed(admin_client, q=term) == {isp_ids["negbal"], isp_ids["offline"]}


@pytest.mark.parametrize("term", ["иванов", "ИВАНОВ", "иВаНоВ", "Иван Иванович"])
def test_cyrillic_search_ignores_letter_case_on_both_databases(admin_client, isp, isp_ids,
                                                                term):
    assert listed(admin_client, q=term) == {isp_ids["paid_online"]}


def test_search_by_address(admin_client, isp, isp_ids):
    Subscriber.objects.filter(pk=isp_ids["blocked"]).update(address="г. Тверь, ул. Мира, 5")
    assert listed(admin_client, q="Мира") == {isp_ids["blocked"]}
    assert listed(admin_client, q="мира тверь") == {isp_ids["blocked"]}


@pytest.mark.parametrize("term", ["00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e",
                                  "3c:4d:5e"])
def test_search_by_mac_in_any_notation(admin_client, isp, isp_ids, term):
    assert listed(admin_client, q=term) == {isp_ids["paid_online"]}


def test_an_ip_address_is_not_taken_for_a_phone(admin_client, isp, isp_ids):
    Subscriber.objects.filter(pk=isp_ids["blocked"]).update(phone="10203041")
    assert listed(admin_client, q="10.20.30.41") == {isp_ids["paid_online"]}


def test_search_by_partial_ip(admin_client, isp, isp_ids):
    assert listed(admin_client, q="10.20.30.4") == {isp_ids["paid_online"], isp_ids["negbal"]}


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("negbal", {"negbal"}),
        ("debt", {"negbal"}),
        ("blocked", {"blocked"}),
        ("voluntary", {"voluntary"}),
        ("online", {"paid_online"}),
        ("offline", {"negbal", "blocked", "voluntary", "offline"}),
        ("active", {"paid_online", "offline"}),
    ],
)
def test_state_filter(admin_client, isp, isp_ids, state, expected):
    assert listed(admin_client, state=state) == {isp_ids[name] for name in expected}


def test_tariff_group_and_company_filters(admin_client, isp, isp_ids, group):
    other = Tariff.objects.create(name="Business 500", fee=Decimal("3000.00"))
    Subscriber.objects.filter(pk=isp_ids["offline"]).update(tariff=other)
    assert listed(admin_client, tariff__id__exact=other.pk) == {isp_ids["offline"]}
    assert listed(admin_client, is_company__exact=1) == {isp_ids["offline"]}
    assert len(listed(admin_client, group__id__exact=group.pk)) == 5


def test_changelist_query_count_does_not_grow_with_rows(
    admin_client, isp, make_subscriber, make_login, nas, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12) as small:
        admin_client.get(CHANGELIST)
    for n in range(30):
        subscriber = make_subscriber(f"Абонент {n}")
        login = make_login(subscriber, f"user{n}", ip=f"10.30.0.{n + 1}")
        if n % 2:
            open_session(login, nas, session_id=f"x{n}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_client.get(CHANGELIST, {"q": "Абонент"})
    assert len(response.context["cl"].result_list) == 30


def test_block_action_asks_for_a_reason_then_blocks_through_the_service(admin_client, isp):
    target = isp.paid_online
    data = {"action": "block_selected", ACTION_CHECKBOX_NAME: [target.pk]}
    response = admin_client.post(CHANGELIST, data)
    assert response.status_code == 200  # the intermediate page
    assert "reason" in response.context["form"].fields
    target.refresh_from_db()
    assert target.admin_blocked is False

    response = admin_client.post(CHANGELIST, {**data, "apply": "1", "reason": "no contract"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.admin_blocked is True
    assert target.admin_block_reason == "no contract"
    entry = AuditEntry.objects.get(action="admin_block", subscriber=target)
    assert entry.actor == "admin:admin"
    assert entry.message == "no contract"


def test_block_action_reports_already_blocked(admin_client, isp):
    data = {"action": "block_selected", ACTION_CHECKBOX_NAME: [isp.blocked.pk],
            "apply": "1", "reason": "again"}
    response = admin_client.post(CHANGELIST, data, follow=True)
    texts = [str(m) for m in response.context["messages"]]
    assert any("already blocked" in t or "уже заблокирован" in t for t in texts), texts
    assert AuditEntry.objects.filter(action="admin_block", subscriber=isp.blocked).count() == 1


def test_unblock_action(admin_client, isp):
    data = {"action": "unblock_selected", ACTION_CHECKBOX_NAME: [isp.blocked.pk]}
    response = admin_client.post(CHANGELIST, data)
    assert response.status_code == 302
    isp.blocked.refresh_from_db()
    assert isp.blocked.admin_blocked is False
    assert isp.blocked.admin_block_reason == ""
    assert AuditEntry.objects.filter(action="admin_unblock", subscriber=isp.blocked).count() == 1


def test_block_and_unblock_buttons_on_the_subscriber_page(admin_client, isp):
    target = isp.offline
    url = reverse("admin:subscribers_subscriber_block", args=[target.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'value="Block"' in text or 'value="Заблокировать"' in text
    unblock_page = admin_client.get(reverse("admin:subscribers_subscriber_unblock",
                                            args=[isp.blocked.pk])).content.decode()
    # The submit button says what it does ("block" is also the template's {% block %}).
    assert 'value="Unblock"' in unblock_page or 'value="Разблокировать"' in unblock_page
    response = admin_client.post(url, {"reason": ""})
    assert response.status_code == 200  # the reason is required
    assert response.context["form"].errors["reason"]
    target.refresh_from_db()
    assert target.admin_blocked is False
    assert admin_client.post(url, {"reason": "debt"}).status_code == 302
    target.refresh_from_db()
    assert target.admin_blocked is True
    url = reverse("admin:subscribers_subscriber_unblock", args=[target.pk])
    assert admin_client.post(url).status_code == 302
    target.refresh_from_db()
    assert target.admin_blocked is False
    actions = list(AuditEntry.objects.filter(subscriber=target).values_list("action", flat=True))
    assert "admin_block" in actions and "admin_unblock" in actions


def add_form_data(group, tariff, **extra):
    data = {
        "contract_number": "", "name": "Новый Абонент", "group": group.pk, "tariff": tariff.pk,
        "connected_on": "", "email": "", "sms_phone": "", "phone": "", "address": "",
        "apartment": "12", "code1c": "", "comments": "", "credit_limit": "0",
    }
    data.update(extra)
    return data


def test_add_creates_through_the_service_with_a_generated_contract(admin_client, isp, group,
                                                                   tariff):
    response = admin_client.post(reverse("admin:subscribers_subscriber_add"),
                                 add_form_data(group, tariff, credit_limit="300.00"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = Subscriber.objects.get(name="Новый Абонент")
    assert created.contract_number.startswith("BILL")
    assert created.contract_number != "BILL0000003"
    assert created.apartment == "12"
    assert Account.objects.get(pk=created.pk).credit_limit == Decimal("300.00")
    assert AuditEntry.objects.filter(action="subscriber_create", subscriber=created).exists()


def test_add_refuses_a_taken_contract_number(admin_client, isp, group, tariff):
    count = Subscriber.objects.count()
    response = admin_client.post(reverse("admin:subscribers_subscriber_add"),
                                 add_form_data(group, tariff, contract_number="BILL0000003"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["contract_number"]
    assert Subscriber.objects.count() == count


def test_add_refuses_a_taken_1c_code(admin_client, isp, group, tariff):
    count = Subscriber.objects.count()
    response = admin_client.post(reverse("admin:subscribers_subscriber_add"),
                                 add_form_data(group, tariff, code1c="1C-000123"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["code1c"]
    assert Subscriber.objects.count() == count


def change_form_data(subscriber, **extra):
    data = {
        "name": subscriber.name, "group": subscriber.group_id, "is_company": "",
        "connected_on": "", "tariff": subscriber.tariff_id or "", "tariff_next": "",
        "tariff_next_date": "", "email": "", "sms_phone": "", "phone": "", "address": "",
        "apartment": "", "code1c": subscriber.code1c, "comments": "",
        "credit_limit": str(subscriber.account.credit_limit),
    }
    for prefix in ("attributes", "services"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    data.update({"logins-TOTAL_FORMS": "0", "logins-INITIAL_FORMS": "0",
                 "logins-MIN_NUM_FORMS": "0", "logins-MAX_NUM_FORMS": "0"})
    data.update(extra)
    return data


def test_change_of_tariff_and_credit_go_through_audited_services(admin_client, isp):
    from asr_billing.billing.models import TariffChange

    target = isp.negbal  # balance -600.00, cut off
    old_tariff = target.tariff
    other = Tariff.objects.create(name="Economy", fee=Decimal("300.00"),
                                  disconnect_threshold=Decimal("-1000.00"))
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])
    response = admin_client.post(url, change_form_data(target, tariff=other.pk,
                                                       credit_limit="50.00", phone="+79001234567",
                                                       address="Lenina 1"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    target.refresh_from_db()
    assert target.tariff == other
    assert (target.phone, target.address) == ("+79001234567", "Lenina 1")
    assert target.account.credit_limit == Decimal("50.00")
    assert target.negbal is False  # -600 + 50 >= -1000: the services recomputed the state
    change = TariffChange.objects.get(subscriber=target)  # charging follows the change
    assert (change.old_tariff, change.new_tariff, change.scheduled) == (old_tariff, other, False)
    actions = set(AuditEntry.objects.filter(subscriber=target).values_list("action", flat=True))
    assert {"tariff_change", "credit_change", "contacts_change", "negbal_off"} <= actions


def test_bad_phone_is_refused_with_the_service_text_and_nothing_changes(admin_client, isp):
    target = isp.paid_online
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])
    response = admin_client.post(url, change_form_data(target, phone="call me", name="Renamed"))
    assert response.status_code == 200
    errors = str(response.context["adminform"].form.non_field_errors())
    assert "call me" in errors
    target.refresh_from_db()
    assert (target.phone, target.name) == ("", "Иванов Иван Иванович")  # the whole save undone
    assert not AuditEntry.objects.filter(subscriber=target, action="contacts_change").exists()


def test_tariff_schedule_through_the_service(admin_client, isp):
    from datetime import timedelta

    from django.utils import timezone

    target = isp.paid_online
    other = Tariff.objects.create(name="Turbo", fee=Decimal("900.00"))
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])
    day = timezone.localdate() + timedelta(days=5)
    response = admin_client.post(url, change_form_data(target, tariff_next=other.pk,
                                                       tariff_next_date=day.isoformat()))
    assert response.status_code == 302, response.context["adminform"].form.errors
    target.refresh_from_db()
    assert (target.tariff_next, target.tariff_next_date) == (other, day)
    assert AuditEntry.objects.filter(subscriber=target, action="tariff_schedule").exists()
    past = timezone.localdate() - timedelta(days=1)
    response = admin_client.post(url, change_form_data(target, tariff_next=other.pk,
                                                       tariff_next_date=past.isoformat()))
    assert response.status_code == 200
    assert past.isoformat() in str(response.context["adminform"].form.non_field_errors())
    target.refresh_from_db()
    assert target.tariff_next_date == day


def test_attribute_values_through_the_services(admin_client, isp):
    from asr_billing.subscribers.models import Attribute, AttributeValue

    target = isp.offline  # has INN 7701234567
    kpp = Attribute.objects.get_or_create(id=5, defaults={"name": "KPP", "code": "kpp"})[0]
    inn_value = AttributeValue.objects.get(subscriber=target, attribute_id=4)
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])
    data = change_form_data(target)
    data.update({
        "attributes-TOTAL_FORMS": "2", "attributes-INITIAL_FORMS": "1",
        "attributes-0-id": inn_value.pk, "attributes-0-subscriber": target.pk,
        "attributes-0-attribute": 4, "attributes-0-value": "7709999999",
        "attributes-1-id": "", "attributes-1-subscriber": target.pk,
        "attributes-1-attribute": kpp.pk, "attributes-1-value": "770901001",
    })
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    values = dict(AttributeValue.objects.filter(subscriber=target)
                  .values_list("attribute_id", "value"))
    assert values == {4: "7709999999", 5: "770901001"}
    assert AuditEntry.objects.filter(subscriber=target, action="attribute_set").count() == 2


def test_change_refuses_a_negative_credit(admin_client, isp):
    target = isp.paid_online
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])
    response = admin_client.post(url, change_form_data(target, credit_limit="-5"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["credit_limit"]
    target.account.refresh_from_db()
    assert target.account.credit_limit == Decimal("0.00")


@pytest.mark.parametrize("value, message", [
    ("1e13", "Ensure that there are no more than 12 digits before the decimal point."),
    ("1" * 30, "Ensure that there are no more than 14 digits in total."),
])
def test_credit_past_the_column_is_a_form_error(admin_client, isp, group, tariff, value,
                                                message, config_edit, settings):
    from tests.conftest import db_state

    config_edit("app", "language", "en")
    settings.LANGUAGE_CODE = "en"  # the lazy form errors are read after the request
    before = db_state()
    target = isp.paid_online
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])
    response = admin_client.post(url, change_form_data(target, credit_limit=value))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["credit_limit"] == [message]
    response = admin_client.post(reverse("admin:subscribers_subscriber_add"),
                                 add_form_data(group, tariff, credit_limit=value))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["credit_limit"] == [message]
    assert db_state() == before


def test_change_page_shows_account_and_last_operations(admin_client, isp):
    url = reverse("admin:subscribers_subscriber_change", args=[isp.paid_online.pk])
    html = admin_client.get(url).content.decode()
    assert "1\u00a0000,00" in html or "1000,00" in html or "1000.00" in html
    assert reverse("admin:finance_operation_change", args=[isp.payment.pk]) in html
    assert reverse("admin:subscribers_subscriber_payment", args=[isp.paid_online.pk]) in html
    assert reverse("admin:subscribers_subscriber_correction", args=[isp.paid_online.pk]) in html
    assert reverse("admin:network_login_change", args=[isp.login.pk]) in html


def test_group_tree_order_and_no_cycles(admin_client, group):
    from asr_billing.subscribers.models import Group

    child = Group.objects.create(name="A child", parent=group)
    Group.objects.create(name="B root")
    response = admin_client.get(reverse("admin:subscribers_group_changelist"))
    names = [g.name for g in response.context["cl"].result_list]
    assert names == ["B root", "Test group", "A child"]
    url = reverse("admin:subscribers_group_change", args=[group.pk])
    response = admin_client.post(url, {"name": group.name, "parent": child.pk, "comments": ""})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"]
    group.refresh_from_db()
    assert group.parent is None


def test_1c_fields_go_through_the_audited_service(admin_client, isp):
    target = isp.paid_online
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])
    response = admin_client.post(url, change_form_data(target, code1c="1C-777", synced_1c="on"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    target.refresh_from_db()
    assert (target.code1c, target.synced_1c) == ("1C-777", True)
    entry = AuditEntry.objects.get(action="sync_1c", subscriber=target)
    assert entry.new == {"code1c": "1C-777", "synced_1c": True}
    response = admin_client.post(url, change_form_data(target, code1c="1C-000123"))
    assert response.status_code == 200
    assert "1C-000123" in str(response.context["adminform"].form.errors["code1c"])
    target.refresh_from_db()
    assert target.code1c == "1C-777"


def services_inline(target, rows):
    """The services inline of change_form_data with ``rows`` (dicts of the row's fields)."""
    initial = sum(1 for row in rows if row.get("id"))
    data = {"services-TOTAL_FORMS": str(len(rows)), "services-INITIAL_FORMS": str(initial)}
    for i, row in enumerate(rows):
        data.update({f"services-{i}-{name}": value for name, value in
                     {"id": "", "subscriber": target.pk, "service": "", "enabled_on": "",
                      "disabled_on": "", "comment": "", **row}.items()})
    return data


def test_services_connect_and_disconnect_through_the_audited_services(admin_client, isp):
    from datetime import date

    from asr_billing.subscribers.models import SubscriberService

    target = isp.paid_online
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])
    data = change_form_data(target, **services_inline(target, [
        {"service": isp.service.pk, "enabled_on": "2031-05-10", "comment": "on request"},
    ]))
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    link = SubscriberService.objects.get(subscriber=target)
    assert (link.service, link.enabled_on, link.disabled_on, link.comment) == (
        isp.service, date(2031, 5, 10), None, "on request")
    entry = AuditEntry.objects.get(action="service_connect", subscriber=target)
    assert entry.new == {"service": isp.service.pk, "enabled_on": "2031-05-10"}

    # The start of a link is history: a changed date is ignored; the end goes through the
    # disconnect service (the service runs through the day before disabled_on).
    data = change_form_data(target, **services_inline(target, [
        {"id": link.pk, "service": isp.service.pk, "enabled_on": "2031-01-01",
         "disabled_on": "2031-06-01", "comment": "on request"},
    ]))
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    link.refresh_from_db()
    assert (link.enabled_on, link.disabled_on) == (date(2031, 5, 10), date(2031, 6, 1))
    entry = AuditEntry.objects.get(action="service_disconnect", subscriber=target)
    assert entry.new == {"service": isp.service.pk, "disabled_on": "2031-06-01"}


def test_services_inline_refusal_is_a_form_error_and_changes_nothing(admin_client, isp):
    from asr_billing.subscribers.models import SubscriberService

    target = isp.paid_online
    isp.service.is_active = False
    isp.service.save()
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])
    data = change_form_data(target, name="Renamed", **services_inline(target, [
        {"service": isp.service.pk, "enabled_on": "2031-05-10"},
    ]))
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Static IP" in str(response.context["adminform"].form.non_field_errors())
    assert not SubscriberService.objects.filter(subscriber=target).exists()
    target.refresh_from_db()
    assert target.name == "Иванов Иван Иванович"


def test_details_change_goes_through_the_audited_service(admin_client, isp):
    # connected_on is when charging starts: a change of it must leave a trace.
    target = isp.paid_online
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])
    response = admin_client.post(url, change_form_data(target, connected_on="2024-03-01",
                                                       address="Lenina 1"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.get(action="subscriber_update", subscriber=target)
    assert (entry.actor, entry.old, entry.new) == (
        "admin:admin",
        {"connected_on": None, "address": ""},
        {"connected_on": "2024-03-01", "address": "Lenina 1"},
    )


def test_change_page_query_count_does_not_grow_with_inline_rows(admin_client, isp):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from asr_billing.subscribers.models import Attribute, AttributeValue, SubscriberService
    from asr_billing.tariffs.models import Service

    target = isp.offline  # one attribute value (INN)
    url = reverse("admin:subscribers_subscriber_change", args=[target.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured.captured_queries)

    SubscriberService.objects.create(subscriber=target, service=isp.service,
                                     enabled_on="2025-01-01")
    queries()  # warm the caches a first request fills (content types...)
    few = queries()
    for n in range(4):
        kind = Attribute.objects.create(id=100 + n, name=f"Extra {n}", code=f"extra{n}")
        AttributeValue.objects.create(subscriber=target, attribute=kind, value=str(n))
        service = Service.objects.create(name=f"Service {n}", fee=Decimal("1.00"))
        SubscriberService.objects.create(subscriber=target, service=service,
                                         enabled_on="2025-01-01")
    assert queries() == few
