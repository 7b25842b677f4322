"""reset_password / submit_password: a single-use, expiring code by e-mail (the file
backend by default), the new password, and a limit on wrong codes."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta

import pytest
from django.conf import settings

from asr_billing.cabinet.mail import _connection
from asr_billing.cabinet.models import AuthThrottle, CabinetSession, PasswordResetToken
from asr_billing.network.models import Login
from asr_billing.network.selectors import login_check_password
from asr_billing.subscribers.services import subscriber_contacts_update

from .conftest import ACTOR, LOGIN, PASSWORD, db_state

WRONG_CODE = {"error": "The code is wrong or has expired"}
SENT = {"message": "If this login exists and has an e-mail address, a code has been sent to "
                   "it."}


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
    assert answer == SENT
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
                                                                request_code, mailbox):
    _answer, _mail, first = request_code()
    before = db_state()
    # Within a minute nothing is sent, and the answer does not say so.
    assert request_code()[0] == SENT
    assert without_counters(db_state()) == without_counters(before)
    assert len(mailbox()) == 1
    frozen.shift(timedelta(minutes=1))
    _answer, _mail, second = request_code()
    uid = world["login"].pk
    assert cab("submit_password", {"token": first, "uid": uid, "psw1": "a1",
                                   "psw2": "a1"}) == WRONG_CODE
    assert cab("submit_password", {"token": second, "uid": uid, "psw1": "a1",
                                   "psw2": "a1"}) == {"message": "Сохранено"}


def without_counters(state: dict) -> dict:
    return {k: v for k, v in state.items() if k != "throttle"}


def test_unknown_logins_and_logins_without_e_mail_get_the_same_answer(cab, world,
                                                                      request_code, mailbox):
    before = db_state()
    assert request_code(login="nosuch")[0] == SENT
    assert without_counters(db_state()) == without_counters(before)
    subscriber_contacts_update(subscriber=world["subscriber"], actor=ACTOR, email="")
    before = db_state()
    assert request_code()[0] == SENT
    assert without_counters(db_state()) == without_counters(before)
    assert mailbox() == []
    assert request_code(login="")[0] == {"error": "Argument login is required"}


def test_the_answer_is_byte_identical_whatever_the_login(client, world, frozen, mailbox,
                                                         django_capture_on_commit_callbacks):
    """The Go and Laravel cabinets show the answer as it is: it must not tell an
    enumerator anything — not the existence of the login, nor its e-mail, nor a recent
    code."""
    from .conftest import url

    def answer(login: str) -> tuple[int, str, bytes]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.get(url("reset_password", {"login": login, "base_url": ""}))
        return response.status_code, response["Content-Type"], response.content

    sent = answer(LOGIN)
    assert len(mailbox()) == 1
    assert answer("nosuch") == answer("другой") == sent
    frozen.shift(timedelta(seconds=30))
    assert answer(LOGIN) == sent  # a code went out 30 s ago: nothing sent now
    assert sent == (200, "application/json; charset=utf-8",
                    b'{"message": "If this login exists and has an e-mail address, a code has '
                    b'been sent to it."}')
    assert len(mailbox()) == 1


def test_no_code_sent_costs_the_same_queries_but_the_two_inserts(world, frozen):
    """No obvious timing shortcut: an unknown login, a login without an e-mail address and
    one that got a code a minute ago run the statements of a code sent, less the INSERTs
    of the code and of its audit row."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from asr_billing.cabinet.reset import cabinet_password_reset_request

    def statements(login: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            cabinet_password_reset_request(login=login, source_ip="192.0.2.1")
        return [re.sub(r"'[^']*'|\b\d+\b|\"s\d+_x\d+\"", "?", q["sql"])
                for q in queries.captured_queries]

    cabinet_password_reset_request(login="warm-up", source_ip="192.0.2.1")  # the IP's row
    unknown = statements("nosuch")
    sent = statements(LOGIN)
    inserts = [q for q in sent if q not in unknown]
    assert [q.split(" (")[0] for q in inserts] == [
        'INSERT INTO "cabinet_passwordresettoken"', 'INSERT INTO "core_auditentry"']
    assert [q for q in sent if q not in inserts] == unknown
    too_soon = statements(LOGIN)  # the second request for a name: its counter exists
    assert too_soon == statements("nosuch")
    subscriber_contacts_update(subscriber=world["subscriber"], actor=ACTOR, email="")
    PasswordResetToken.objects.all().delete()
    AuthThrottle.objects.filter(scope="reset_login").delete()
    assert statements(LOGIN) == unknown  # no e-mail address


def test_requests_are_limited_per_login_name_known_or_not(client, world, frozen, mailbox):
    from .conftest import url

    def ask(login: str) -> bytes:
        return client.get(url("reset_password", {"login": login, "base_url": ""})).content

    refused = b'{"error": "Too many password reset requests. Try again in 60 min."}'
    for login in (LOGIN, "nosuch"):
        answers = [ask(login) for _n in range(4)]  # cabinet['reset.max_requests'] = 3
        assert answers[3] == refused, login
        assert answers[:3] == [answers[0]] * 3 and answers[0] != refused
    before = db_state()
    assert ask(LOGIN) == refused
    assert db_state() == before  # a refusal counts nothing
    frozen.shift(timedelta(minutes=60))
    assert ask(LOGIN) != refused


@pytest.mark.parametrize("via", ["direct", "web"])
def test_requests_are_limited_per_client_address(cab, world, frozen, config_edit, via):
    config_edit("network", "api.allowed_ips", "127.0.0.1 192.0.2.0/24")
    config_edit("cabinet", "reset.ip_max_requests", "3")

    def ask(login: str, client: str):
        if via == "direct":
            return cab("reset_password", {"login": login, "base_url": ""}, remote=client)
        return cab("reset_password", {"login": login, "base_url": "", "src_ip": client})

    for name in ("anna", "boris", "vera"):
        assert ask(name, "192.0.2.66") == SENT
    assert ask("gleb", "192.0.2.66") == {
        "error": "Too many password reset requests. Try again in 60 min."}
    assert ask(LOGIN, "192.0.2.10") == SENT


def test_a_cabinet_server_is_not_limited_as_one_address(cab, world, frozen, config_edit):
    config_edit("cabinet", "reset.ip_max_requests", "3")
    for n in range(6):
        assert cab("reset_password", {"login": f"name{n}", "base_url": ""}) == SENT
    assert cab("reset_password", {"login": LOGIN, "base_url": ""}) == SENT


def test_reset_password_over_rest_v2_answers_the_same(client, world):
    # CODE C-LARA CarbonClient: web_cabinet.reset_password through POST Users
    import json

    def ask(login: str) -> list[str]:
        response = client.post("/rest_api/v2/Users/", {
            "method1": "web_cabinet.reset_password",
            "arg1": json.dumps({"login": login, "base_url": ""})})
        return response.json()["result"]

    assert ask(LOGIN) == ask("nosuch") == [json.dumps(SENT, ensure_ascii=False)]


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


def test_typos_in_the_new_password_do_not_use_up_the_codes_attempts(cab, world, frozen,
                                                                    request_code):
    # The new password is checked before the code is tried (and counted): ten typos,
    # twice cabinet['login.max_failures'], with a wrong code or the right one, count nothing.
    _answer, _mail, code = request_code()
    uid = world["login"].pk
    typos = [{"psw1": "new1", "psw2": "new2"}, {"psw1": "new 1", "psw2": "new 1"}]
    for attempt in range(10):
        token = code if attempt % 2 else "WRONGCODE1"
        assert "error" in cab("submit_password", {"token": token, "uid": uid,
                                                  **typos[attempt % 2]})
    assert not AuthThrottle.objects.filter(scope="reset").exists()
    assert cab("submit_password", {"token": code, "uid": uid, "psw1": "new1",
                                   "psw2": "new1"}) == {"message": "Сохранено"}


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
