"""The Profile page: the password (the current one first, Carbon's rule, the others'
sessions ended) and the SMS phone; every refusal on the form with nothing changed."""

from __future__ import annotations

import pytest

from asr_billing.cabinet.models import CabinetSession
from asr_billing.network.models import Login
from asr_billing.network.selectors import login_check_password
from asr_billing.subscribers.models import Subscriber
from tests.cabinet_web.conftest import LOGIN, PASSWORD
from tests.conftest import db_state


def password_is(value: str) -> bool:
    return login_check_password(Login.objects.get(login=LOGIN), value)


def test_page(logged_in, cab_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        page = logged_in.get("/cabinet/profile/")
    assert page.status_code == 200
    assert "ivanov@example.com" in page.content.decode()


def test_change_the_password(logged_in, cab_world):
    other = CabinetSession.objects.filter(login__login=LOGIN).count()
    assert other == 1
    response = logged_in.post("/cabinet/profile/", {
        "form": "password", "current": PASSWORD, "new": "n3wpass", "repeat": "n3wpass"})
    assert response.status_code == 302
    assert password_is("n3wpass")
    page = logged_in.get("/cabinet/profile/", follow=True)
    assert "The password is changed." in page.content.decode()


@pytest.mark.parametrize(("data", "field", "text"), [
    ({"current": "wrong", "new": "n3wpass", "repeat": "n3wpass"}, "current",
     "This is not your current password."),
    ({"current": PASSWORD, "new": "n3wpass", "repeat": "other"}, "repeat",
     "The two new passwords differ."),
    ({"current": PASSWORD, "new": "has space", "repeat": "has space"}, "new",
     "The password must have no spaces and be shorter than 16 characters."),
    ({"current": PASSWORD, "new": "x" * 16, "repeat": "x" * 16}, "new",
     "The password must have no spaces and be shorter than 16 characters."),
    ({"current": "", "new": "", "repeat": ""}, "current", "This field is required."),
])
def test_password_refusals(logged_in, cab_world, data, field, text):
    before = db_state()
    response = logged_in.post("/cabinet/profile/", {"form": "password", **data})
    assert response.status_code == 400
    assert field in response.context["password_form"].errors
    assert text in response.content.decode()
    assert password_is(PASSWORD)
    assert db_state() == before  # (a wrong current password is counted as a failed login)


def test_phone(logged_in, cab_world):
    subscriber = cab_world["subscriber"]
    assert logged_in.post("/cabinet/profile/", {"form": "phone",
                                                "phone": "+7 (912) 345-67-89"}).status_code == 302
    assert Subscriber.objects.get(pk=subscriber.pk).sms_phone == "+7 (912) 345-67-89"
    before = db_state()
    bad = logged_in.post("/cabinet/profile/", {"form": "phone", "phone": "call me"})
    assert bad.status_code == 400
    assert "This is not a phone number for notices." in bad.content.decode()
    assert db_state() == before
    assert Subscriber.objects.get(pk=subscriber.pk).sms_phone == "+7 (912) 345-67-89"


@pytest.mark.parametrize("url", ["/cabinet/profile/", "/cabinet/services/",
                                 "/cabinet/promised/", "/cabinet/vblock/"])
def test_action_pages_show_who_is_in_and_log_out(logged_in, cab_world, url):
    text = logged_in.get(url).content.decode()
    assert 'action="/cabinet/logout/"' in text
    assert f'<span class="who">{LOGIN}</span>' in text
