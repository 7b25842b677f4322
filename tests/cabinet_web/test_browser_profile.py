"""Changing the password in Chromium, then logging in with the new one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from asr_billing.network.models import Login
from asr_billing.network.selectors import login_check_password
from tests.cabinet_web.browser import log_in, logged_in, open_from_menu
from tests.cabinet_web.conftest import LOGIN, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_change_the_password_and_log_in_with_it(web, shots, cab_world):
    base, page = logged_in(web)
    open_from_menu(page, base, "Profile", "/cabinet/profile/")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("n3wpass")
    page.get_by_label("The new password again").fill("n3wpass")
    shots(page, "profile")
    page.get_by_role("button", name="Change the password").click()
    page.wait_for_url(base + "/cabinet/profile/")
    expect(page.locator("main")).to_contain_text("The password is changed.")
    assert login_check_password(Login.objects.get(login=LOGIN), "n3wpass")
    page.get_by_role("button", name="Log out").click()
    log_in(page, base, password="n3wpass")
    page.wait_for_url(base + "/cabinet/")


def test_change_the_email_with_the_code_it_gets(web, shots, cab_world):
    import re
    import shutil

    from django.conf import settings

    from asr_billing.subscribers.models import Subscriber

    folder = settings.ASR_HOME.var_dir / "mail"
    shutil.rmtree(folder, ignore_errors=True)
    base, page = logged_in(web)
    page.goto(base + "/cabinet/profile/")
    page.get_by_label("New e-mail").fill("new.box@example.org")
    page.get_by_role("button", name="Send a code").click()
    page.wait_for_url(base + "/cabinet/profile/")
    expect(page.locator("main")).to_contain_text("A code was sent to new.box@example.org")
    mail = "".join(path.read_text() for path in folder.glob("*.log"))
    assert "To: new.box@example.org" in mail
    code = re.search(r"Your code: ([A-Z0-9]+)", mail).group(1)
    assert Subscriber.objects.get(pk=cab_world["subscriber"].pk).email == "ivanov@example.com"
    shots(page, "profile-email-code")
    page.get_by_label("Code from the e-mail").fill(code)
    page.get_by_role("button", name="Confirm the e-mail").click()
    page.wait_for_url(base + "/cabinet/profile/")
    expect(page.locator("main")).to_contain_text("Your e-mail is now new.box@example.org.")
    assert Subscriber.objects.get(pk=cab_world["subscriber"].pk).email == "new.box@example.org"
