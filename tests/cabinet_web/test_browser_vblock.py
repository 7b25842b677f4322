"""A voluntary block end to end in Chromium: dates, the confirmation, the block in the
database, lifting it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from asr_billing.billing.models import VoluntaryBlock
from asr_billing.cabinet import selectors
from tests.cabinet_web.browser import logged_in, open_from_menu

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_take_and_lift_a_voluntary_block(web, shots, cab_world):
    subscriber = cab_world["subscriber"]
    today = selectors.today()
    start, end = today + timedelta(days=1), today + timedelta(days=7)
    base, page = logged_in(web)
    open_from_menu(page, base, "Voluntary block", "/cabinet/vblock/")
    page.get_by_label("First day").fill(start.isoformat())
    page.get_by_label("Last day").fill(end.isoformat())
    shots(page, "vblock")
    page.get_by_role("button", name="Next").click()
    assert "(7 days)" in page.locator('[data-figure="confirm"]').inner_text()
    shots(page, "vblock-confirm")
    assert not VoluntaryBlock.objects.exists()
    page.get_by_role("button", name="Block").click()
    page.wait_for_url(base + "/cabinet/vblock/")
    block = VoluntaryBlock.objects.get(subscriber=subscriber)
    assert (block.start_date, block.end_date, block.ended_at) == (start, end, None)
    page.get_by_role("button", name="Cancel the block").click()
    page.wait_for_url(base + "/cabinet/vblock/")
    block.refresh_from_db()
    assert block.ended_at is not None
