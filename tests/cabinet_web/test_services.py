"""The Services page: the lists, the confirmation step with cost and dates, and nothing
changed by a refusal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from asr_billing.cabinet import selectors
from asr_billing.core.models import AuditEntry
from asr_billing.subscribers.models import Subscriber, SubscriberService
from asr_billing.tariffs.models import Service
from tests.conftest import db_state


@pytest.fixture
def catalogue(db):
    return {
        "ip": Service.objects.create(name="Static IP", fee=Decimal("150.00")),
        "tv": Service.objects.create(name="TV Lite", fee=Decimal("1000.00")),
        "hidden": Service.objects.create(name="Hidden", fee=Decimal("1.00"), is_show_web=False),
        "office": Service.objects.create(name="Office only", fee=Decimal("5.00"),
                                         web_allow_enable=False),
    }


def links(subscriber):
    return list(SubscriberService.objects.filter(subscriber=subscriber).order_by("id")
                .values_list("service__name", "enabled_on", "disabled_on"))


def test_lists(logged_in, cab_world, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        page = logged_in.get("/cabinet/services/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "No services are connected." in text
    for name in ("Static IP", "TV Lite", "Office only"):
        assert name in text
    assert "Hidden" not in text
    assert f"/cabinet/services/{catalogue['ip'].pk}/connect/" in text
    assert f"/cabinet/services/{catalogue['office'].pk}/connect/" not in text


def test_connect_shows_the_cost_then_connects(logged_in, cab_world, catalogue):
    subscriber = cab_world["subscriber"]
    url = f"/cabinet/services/{catalogue['ip'].pk}/connect/"
    preview = logged_in.get(url)
    assert preview.status_code == 200
    assert preview.context["cost"] == Decimal("150.00")
    assert preview.context["available"] == Decimal("290.67")
    assert preview.context["starts"] == selectors.today()
    assert links(subscriber) == []  # looking changes nothing
    done = logged_in.post(url)
    assert done.status_code == 302 and done["Location"] == "/cabinet/services/"
    assert links(subscriber) == [("Static IP", selectors.today(), None)]
    assert AuditEntry.objects.filter(action="service_connect", subscriber=subscriber).exists()
    page = logged_in.get("/cabinet/services/").content.decode()
    assert "Static IP is connected." in page


def test_not_enough_money_is_said_on_the_form_and_changes_nothing(logged_in, cab_world,
                                                                  catalogue):
    before = db_state()
    response = logged_in.post(f"/cabinet/services/{catalogue['tv'].pk}/connect/")
    assert response.status_code == 400
    assert response.context["error"] == (
        "Not enough money to connect TV Lite: it costs 1000.00, available 290.67")
    assert db_state() == before
    assert links(cab_world["subscriber"]) == []


def test_refusals_change_nothing(logged_in, cab_world, catalogue):
    subscriber = cab_world["subscriber"]
    before = db_state()
    assert logged_in.post(f"/cabinet/services/{catalogue['hidden'].pk}/connect/").status_code \
        == 404
    assert logged_in.post("/cabinet/services/999999/connect/").status_code == 404
    office = logged_in.post(f"/cabinet/services/{catalogue['office'].pk}/connect/")
    assert office.status_code == 400
    assert office.context["error"] == "Service Office only cannot be connected from the cabinet"
    Subscriber.objects.filter(pk=subscriber.pk).update(admin_blocked=True)
    blocked = logged_in.post(f"/cabinet/services/{catalogue['ip'].pk}/connect/")
    assert blocked.status_code == 400
    assert blocked.context["error"] == \
        "Services cannot be connected while the subscriber is blocked"
    Subscriber.objects.filter(pk=subscriber.pk).update(admin_blocked=False)
    assert db_state() == before and links(subscriber) == []


def test_disconnect_shows_the_dates_then_disconnects(logged_in, cab_world, catalogue):
    subscriber = cab_world["subscriber"]
    today = selectors.today()
    link = SubscriberService.objects.create(subscriber=subscriber, service=catalogue["ip"],
                                            enabled_on=today - timedelta(days=5))
    url = f"/cabinet/services/link/{link.pk}/disconnect/"
    preview = logged_in.get(url)
    assert preview.status_code == 200
    assert (preview.context["last_day"], preview.context["stops"]) == (
        today, today + timedelta(days=1))
    assert links(subscriber)[0][2] is None
    assert logged_in.post(url).status_code == 302
    assert links(subscriber) == [("Static IP", today - timedelta(days=5),
                                  today + timedelta(days=1))]
    assert logged_in.get(url).status_code == 404  # no longer connected


def test_someone_elses_link_is_404(logged_in, cab_world, catalogue, make_subscriber):
    other = make_subscriber(name="Петров Пётр")
    link = SubscriberService.objects.create(subscriber=other, service=catalogue["ip"],
                                            enabled_on=selectors.today())
    before = db_state()
    assert logged_in.post(f"/cabinet/services/link/{link.pk}/disconnect/").status_code == 404
    assert db_state() == before
    assert links(other)[0][2] is None


def test_login_required(page_client, cab_world, catalogue):
    response = page_client.get("/cabinet/services/")
    assert response.status_code == 302 and "/cabinet/login/" in response["Location"]
