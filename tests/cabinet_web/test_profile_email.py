"""Changing the e-mail address on the Profile page: a code to the new address, the
address changed only by that code; wrong, expired and replaced codes, bad addresses and
too many requests refused with nothing changed."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from django.conf import settings

from asr_billing.cabinet.email_change import MAX_ATTEMPTS
from asr_billing.cabinet.models import EmailChange
from asr_billing.core.models import AuditEntry
from asr_billing.subscribers.models import Subscriber
from tests.conftest import db_state


@pytest.fixture
def mailbox():
    folder = settings.ASR_HOME.var_dir / "mail"
    shutil.rmtree(folder, ignore_errors=True)

    def messages() -> list[str]:
        return [p.read_text() for p in sorted(folder.glob("*.log"))] if folder.exists() else []

    return messages


@pytest.fixture
def ask(logged_in, django_capture_on_commit_callbacks, mailbox):
    """POST the new address; returns (response, the code mailed or None)."""

    def post(address: str):
        with django_capture_on_commit_callbacks(execute=True):
            response = logged_in.post("/cabinet/profile/", {"form": "email", "email": address})
        # Django's file backend appends the messages of one second to one file, and files
        # of one second sort by an object id: find the message by its address.
        messages = "".join(mailbox()).split("-" * 79)
        codes = [re.search(r"Your code: ([A-Z0-9]+)", text).group(1) for text in messages
                 if f"To: {address}\n" in text]
        return response, codes[-1] if codes else None

    return post


def email_of(world) -> str:
    return Subscriber.objects.get(pk=world["subscriber"].pk).email


def test_code_to_the_new_address_then_changed(logged_in, cab_world, ask, mailbox,
                                              django_assert_max_num_queries):
    response, code = ask("new.box@example.org")
    assert response.status_code == 302 and code
    mail = mailbox()[-1]
    assert "To: new.box@example.org" in mail and "testlogin" in mail
    assert email_of(cab_world) == "ivanov@example.com"  # not before the code
    with django_assert_max_num_queries(10):
        page = logged_in.get("/cabinet/profile/")
    assert "A code was sent to new.box@example.org" in page.content.decode()
    done = logged_in.post("/cabinet/profile/", {"form": "code", "code": code.lower()})
    assert done.status_code == 302
    assert email_of(cab_world) == "new.box@example.org"
    assert EmailChange.objects.get().confirmed
    assert AuditEntry.objects.filter(action="email_change_confirm",
                                     actor="cabinet:testlogin").exists()
    assert "Now: new.box@example.org" in logged_in.get("/cabinet/profile/").content.decode()
    before = db_state()
    again = logged_in.post("/cabinet/profile/", {"form": "code", "code": code})  # used
    assert again.status_code == 400 and "expired or was not requested" in again.content.decode()
    assert db_state() == before


@pytest.mark.parametrize("address, error", [
    ("", "Enter the new e-mail address."),
    ("not-an-address", "is not an e-mail address"),
    ("IVANOV@example.com", "This is your e-mail address already."),
])
def test_bad_address_refused(ask, cab_world, mailbox, address, error):
    before = db_state()
    response, code = ask(address)
    assert response.status_code == 400 and error in response.content.decode()
    assert code is None and not EmailChange.objects.exists()
    assert db_state() == before


def test_wrong_codes_count_then_end(logged_in, cab_world, ask):
    ask("new.box@example.org")
    before = db_state()
    for attempt in range(1, MAX_ATTEMPTS):
        response = logged_in.post("/cabinet/profile/", {"form": "code", "code": "WRONG"})
        assert response.status_code == 400 and "The code is wrong." in response.content.decode()
        assert EmailChange.objects.get().attempts == attempt
    last = logged_in.post("/cabinet/profile/", {"form": "code", "code": "WRONG"})
    assert f"The code is wrong {MAX_ATTEMPTS} times" in last.content.decode()
    assert EmailChange.objects.get().finished_at is not None
    assert db_state() == before and email_of(cab_world) == "ivanov@example.com"


def test_a_new_request_replaces_the_code(logged_in, cab_world, ask):
    _response, first = ask("one@example.org")
    _response, second = ask("two@example.org")
    refused = logged_in.post("/cabinet/profile/", {"form": "code", "code": first})
    assert refused.status_code == 400 and email_of(cab_world) == "ivanov@example.com"
    logged_in.post("/cabinet/profile/", {"form": "code", "code": second})
    assert email_of(cab_world) == "two@example.org"


def test_expired_code_refused(logged_in, cab_world, ask):
    _response, code = ask("late@example.org")
    EmailChange.objects.update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    before = db_state()
    response = logged_in.post("/cabinet/profile/", {"form": "code", "code": code})
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert db_state() == before and email_of(cab_world) == "ivanov@example.com"


def test_too_many_requests(logged_in, cab_world, ask, config_edit, mailbox):
    config_edit("cabinet", "reset.max_requests", "2")
    assert ask("a@example.org")[0].status_code == 302
    assert ask("b@example.org")[0].status_code == 302
    before = EmailChange.objects.count()
    response, _code = ask("c@example.org")
    assert response.status_code == 400 and "Too many codes requested" in (
        response.content.decode())
    assert EmailChange.objects.count() == before
    assert "".join(mailbox()).count("Your code:") == 2  # nothing sent for the third
