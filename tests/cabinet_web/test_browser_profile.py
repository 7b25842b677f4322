"""Changing the password in Chromium, then logging in with the new one."""

from __future__ import annotations

import pytest

from asr_billing.network.models import Login
from asr_billing.network.selectors import login_check_password
from tests.cabinet_web.conftest import LOGIN, PASSWORD
from tests.cabinet_web.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_change_the_password_and_log_in_with_it(web, shots, cab_world):
    base, new_page = web
    page = new_page()
    log_in(page, base)
    page.wait_for_url(base + "/cabinet/")
    page.get_by_role("link", name="Profile").first.click()
    page.wait_for_url(base + "/cabinet/profile/")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("n3wpass")
    page.get_by_label("The new password again").fill("n3wpass")
    shots(page, "profile")
    page.get_by_role("button", name="Change the password").click()
    page.wait_for_url(base + "/cabinet/profile/")
    assert "The password is changed." in page.inner_text("main")
    assert login_check_password(Login.objects.get(login=LOGIN), "n3wpass")
    page.get_by_role("button", name="Log out").click()
    log_in(page, base, password="n3wpass")
    page.wait_for_url(base + "/cabinet/")
