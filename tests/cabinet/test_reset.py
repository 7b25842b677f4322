"""reset_password / submit_password: a single-use, expiring code by e-mail (the file
backend by default), the new password, and a limit on wrong codes."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from asr_billing.cabinet.mail import _connection
from asr_billing.cabinet.models import CabinetSession, PasswordResetToken
from asr_billing.network.models import Login
from asr_billing.network.selectors import login_check_password
from asr_billing.subscribers.services import subscriber_contacts_update

from .conftest import ACTOR, LOGIN, PASSWORD, db_state

MSK = ZoneInfo("Europe/Moscow")
WRONG_CODE = {"error": "The code is wrong or has expired"}


@pytest.fixture
def frozen():
    with time_machine.travel(datetime(2024, 5, 10, 12, 0, tzinfo=MSK), tick=False) as t:
        yield t


@pytest.fixture
def mailbox():
    folder = settings.ASR_HOME.var_dir / "mail"
    shutil.rmtree(folder, ignore_errors=True)

    def messages() -> list[str]:
        return [path.read_text() for path in sorted(folder.glob("*.log"))] if folder.exists() \
            else []

    return messages


@pytest.fixture
def request_code(cab, django_capture_on_commit_callbacks, mailbox):
    """Ask for a code; returns (answer, the e-mail's text, the code)."""

    def ask(login=LOGIN, base_url=""):
        with django_capture_on_commit_callbacks(execute=True):
            answer = cab("reset_password", {"login": login, "base_url": base_url})
        mails = mailbox()
        code = re.search(r"Your code: ([A-Z0-9]+)", mails[-1]).group(1) if mails else None
        return answer, (mails[-1] if mails else None), code

    return ask


def test_reset_and_submit(cab, world, frozen, request_code, mailbox):
    login = world["login"]
    suid = cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]
    answer, mail, code = request_code(base_url="https://lk.example.com/reset/")
    assert answer == {"message": "A code was sent to i***@example.com"}
    assert len(code) == 10
    assert "To: ivanov@example.com" in mail and "From: billing@localhost" in mail
    assert "Subject: Password reset code" in mail
    assert "It is valid until 10.05.2024 13:00 and works once." in mail
    assert f"https://lk.example.com/reset/?token={code}&uid={login.pk}" in mail
    token = PasswordResetToken.objects.get()
    assert code not in token.token_hash and token.email == "ivanov@example.com"

    answer = cab("submit_password", {"token": code, "uid": str(login.pk),
                                     "psw1": "brand-new1", "psw2": "brand-new1"})
    assert answer == {"message": "Сохранено"}
    assert login_check_password(Login.objects.get(pk=login.pk), "brand-new1")
    assert cab("user_info", {"suid": suid}) == {"error": "Необходимо авторизоваться"}
    assert "session_id" in cab("login", {"login": LOGIN, "passwd": "brand-new1"})
    # Single use.
    assert cab("submit_password", {"token": code, "uid": login.pk, "psw1": "other-1",
                                   "psw2": "other-1"}) == WRONG_CODE


def test_uid_may_be_the_subscribers_id_and_the_code_is_forgiving(cab, world, request_code):
    _answer, mail, code = request_code(base_url="null")
    assert "Or open this link" not in mail
    answer = cab("submit_password", {"token": f" {code[:5]}-{code[5:].lower()} ",
                                     "uid": world["subscriber"].pk, "psw1": "x1", "psw2": "x1"})
    assert answer == {"message": "Сохранено"}


def test_code_expires(cab, world, frozen, request_code):
    _answer, _mail, code = request_code()
    frozen.shift(timedelta(minutes=60))
    before = db_state()
    answer = cab("submit_password", {"token": code, "uid": world["login"].pk, "psw1": "abc1",
                                     "psw2": "abc1"})
    assert answer == WRONG_CODE
    assert {k: v for k, v in db_state().items() if k != "throttle"} == {
        k: v for k, v in before.items() if k != "throttle"}


def test_a_new_request_replaces_the_code_but_not_within_a_minute(cab, world, frozen,
                                                                request_code):
    _answer, _mail, first = request_code()
    before = db_state()
    assert request_code()[0] == {
        "error": "A code was sent less than a minute ago: check your e-mail"}
    assert db_state() == before
    frozen.shift(timedelta(minutes=1))
    _answer, _mail, second = request_code()
    uid = world["login"].pk
    assert cab("submit_password", {"token": first, "uid": uid, "psw1": "a1",
                                   "psw2": "a1"}) == WRONG_CODE
    assert cab("submit_password", {"token": second, "uid": uid, "psw1": "a1",
                                   "psw2": "a1"}) == {"message": "Сохранено"}


def test_reset_refusals(cab, world, request_code, mailbox):
    before = db_state()
    assert request_code(login="nosuch")[0] == {"error": "Login nosuch does not exist"}
    assert request_code(login="")[0] == {"error": "Argument login is required"}
    assert db_state() == before
    subscriber_contacts_update(subscriber=world["subscriber"], actor=ACTOR, email="")
    before = db_state()
    assert request_code()[0] == {
        "error": "No e-mail address is set for this login; ask your provider to reset the "
                 "password"}
    assert db_state() == before and mailbox() == []


@pytest.mark.parametrize("arg1, error", [
    ({"psw1": "a1", "psw2": "a2"}, "The passwords do not match"),
    ({"psw1": "a 1", "psw2": "a 1"}, "Пароль должен быть без пробелов и короче 16 символов"),
    ({"psw1": "a" * 16, "psw2": "a" * 16}, "Пароль должен быть без пробелов и короче 16 символов"),
    ({"psw1": "a1"}, "The passwords do not match"),
])
def test_submit_refusals(cab, world, request_code, arg1, error):
    _answer, _mail, code = request_code()
    before = db_state()
    assert cab("submit_password", {"token": code, "uid": world["login"].pk, **arg1}) == {
        "error": error}
    assert db_state() == before
    # The code still works afterwards.
    assert cab("submit_password", {"token": code, "uid": world["login"].pk, "psw1": "ok1",
                                   "psw2": "ok1"}) == {"message": "Сохранено"}


def test_submit_needs_uid(cab, world):
    assert cab("submit_password", {"token": "X", "psw1": "a", "psw2": "a"}) == {
        "error": "Argument uid is required"}


def test_wrong_codes_lock_the_uid(cab, world, frozen, request_code):
    _answer, _mail, code = request_code()
    uid = world["login"].pk
    for _attempt in range(5):
        assert cab("submit_password", {"token": "WRONGCODE1", "uid": uid, "psw1": "a1",
                                       "psw2": "a1"}) == WRONG_CODE
    assert cab("submit_password", {"token": code, "uid": uid, "psw1": "a1", "psw2": "a1"}) == {
        "error": "Too many wrong codes. Try again later."}
    frozen.shift(timedelta(minutes=15))
    assert cab("submit_password", {"token": code, "uid": uid, "psw1": "a1", "psw2": "a1"}) == {
        "message": "Сохранено"}


def test_sessions_survive_a_refused_submit(cab, world, request_code):
    suid = cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]
    request_code()
    cab("submit_password", {"token": "NOPE", "uid": world["login"].pk, "psw1": "a1",
                            "psw2": "a1"})
    assert CabinetSession.objects.get().closed_at is None
    assert cab("user_info", {"suid": suid})["balance"] == "390.67"


def test_mail_backends_from_the_config(config_edit):
    config_edit("cabinet", "email.backend", "smtp")
    config_edit("cabinet", "email.smtp_url", "smtp+starttls://robot%40isp:p%40ss@mx.isp.ru:587")
    backend = _connection()
    assert (type(backend).__module__, backend.host, backend.port, backend.username,
            backend.password, backend.use_tls, backend.use_ssl) == (
        "django.core.mail.backends.smtp", "mx.isp.ru", 587, "robot@isp", "p@ss", True, False)
    config_edit("cabinet", "email.smtp_url", "smtps://mx.isp.ru")
    backend = _connection()
    assert (backend.port, backend.use_ssl, backend.use_tls) == (465, True, False)
    config_edit("cabinet", "email.backend", "console")
    assert type(_connection()).__module__ == "django.core.mail.backends.console"
