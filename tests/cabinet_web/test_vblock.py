"""The Voluntary block page: the terms, the dates, a confirmation step, the block made by
the same service as web_cabinet.block_user, lifting it; bad dates and refusals said on
the page with nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from asr_billing.billing.models import VoluntaryBlock
from asr_billing.cabinet import selectors
from tests.conftest import db_state


def blocks(subscriber):
    return list(VoluntaryBlock.objects.filter(subscriber=subscriber)
                .values_list("start_date", "end_date", "ended_at"))


def test_terms_dates_confirm_then_blocked(logged_in, cab_world, config_edit,
                                          django_assert_max_num_queries):
    config_edit("billing", "vblock.cost", "50.00")
    subscriber = cab_world["subscriber"]
    today = selectors.today()
    with django_assert_max_num_queries(10):
        page = logged_in.get("/cabinet/vblock/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "1 to 90 days" in text and "50.00" in text
    start, end = today + timedelta(days=2), today + timedelta(days=11)
    preview = logged_in.post("/cabinet/vblock/", {"start": start.isoformat(),
                                                  "end": end.strftime("%d.%m.%Y")})
    assert preview.status_code == 200
    assert (preview.context["start"], preview.context["end"], preview.context["days"]) == (
        start, end, 10)
    assert "(10 days); 50.00" in preview.content.decode()
    assert blocks(subscriber) == []  # the preview changes nothing
    done = logged_in.post("/cabinet/vblock/", {"start": start.isoformat(),
                                               "end": end.isoformat(), "confirm": "1"})
    assert done.status_code == 302
    assert blocks(subscriber) == [(start, end, None)]
    planned = logged_in.get("/cabinet/vblock/")
    assert planned.context["current"].start_date == start
    assert "Cancel the block" in planned.content.decode()
    assert logged_in.post("/cabinet/vblock/lift/").status_code == 302
    assert blocks(subscriber)[0][2] is not None
    assert logged_in.get("/cabinet/vblock/").context["current"] is None


@pytest.mark.parametrize(("data", "field", "text"), [
    ({"start": "", "end": ""}, "start", "Enter the first day."),
    ({"start": "yesterday", "end": "2026-01-01"}, "start",
     "Enter a date such as 2025-01-31 or 31.01.2025."),
    ({"start": "2030-01-10", "end": "2030-01-01"}, "end",
     "The end date is before the start date."),
])
def test_bad_dates_are_said_on_the_form(logged_in, cab_world, data, field, text):
    before = db_state()
    response = logged_in.post("/cabinet/vblock/", {**data, "confirm": "1"})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert text in response.content.decode()  # said on the form, in the page's language
    assert db_state() == before
    assert blocks(cab_world["subscriber"]) == []


def test_the_service_refusals_are_said_and_change_nothing(logged_in, cab_world, config_edit):
    today = selectors.today()
    before = db_state()
    past = logged_in.post("/cabinet/vblock/", {
        "start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat(),
        "confirm": "1"})
    assert past.status_code == 400
    assert past.context["error"] == "A voluntary block cannot start in the past."
    long = logged_in.post("/cabinet/vblock/", {
        "start": today.isoformat(), "end": (today + timedelta(days=200)).isoformat(),
        "confirm": "1"})
    assert long.context["error"] == "A voluntary block can last at most 90 days."
    config_edit("billing", "vblock.cost", "5000.00")
    poor = logged_in.post("/cabinet/vblock/", {
        "start": today.isoformat(), "end": (today + timedelta(days=3)).isoformat(),
        "confirm": "1"})
    assert poor.status_code == 400
    assert poor.context["error"].startswith("Not enough money for the voluntary block")
    assert db_state() == before
    assert blocks(cab_world["subscriber"]) == []


def test_lifting_without_a_block_is_said(logged_in, cab_world):
    before = db_state()
    response = logged_in.post("/cabinet/vblock/lift/", follow=True)
    assert "There is no voluntary block to lift" in response.content.decode()
    assert db_state() == before


def test_a_block_in_force_is_lifted(logged_in, cab_world):
    today = selectors.today()
    assert logged_in.post("/cabinet/vblock/", {
        "start": today.isoformat(), "end": (today + timedelta(days=5)).isoformat(),
        "confirm": "1"}).status_code == 302
    cab_world["subscriber"].refresh_from_db()
    assert cab_world["subscriber"].voluntary_blocked is True
    page = logged_in.get("/cabinet/vblock/").content.decode()
    assert "Lift the block" in page
    assert "From  to ." not in page  # the dates are there (a template's "block" is its own)
    from django.utils.formats import date_format
    from django.utils.translation import override

    with override("en"):
        last = date_format(today + timedelta(days=5), "SHORT_DATE_FORMAT")
    assert f"to {last}." in page
    home = logged_in.get("/cabinet/").content.decode()
    assert f"to {last}." in home and "From  to ." not in home
    logged_in.post("/cabinet/vblock/lift/")
    cab_world["subscriber"].refresh_from_db()
    assert cab_world["subscriber"].voluntary_blocked is False
