"""Secrets never reach the log files: the redaction filter on the configured handlers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.conf import settings
from django.http import QueryDict

from asr_billing.core.logging import redact
from asr_billing.core.runtime import apply_log_level

SECRETS = ["collectortestpsw", "hunter2", "s3cr", "1ctestpsw", "4111", "5500", "98765"]


class LogFile:
    """What a test added to one of the real log files."""

    def __init__(self, path: Path):
        self.path = path
        self.start = path.stat().st_size if path.exists() else 0

    def added(self) -> str:
        for name in ("asr_billing", "asr_billing.system_api", "django"):
            for handler in logging.getLogger(name).handlers:
                handler.flush()
        with open(self.path, encoding="utf-8") as file:
            file.seek(self.start)
            return file.read()


@pytest.fixture
def error_log():
    return LogFile(Path(settings.ASR_HOME.error_log))


@pytest.fixture
def api_log():
    apply_log_level("info")
    yield LogFile(Path(settings.ASR_HOME.system_api_log))
    apply_log_level("error")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into: {text}"


def test_query_string_passwords_in_error_log(error_log):
    logging.getLogger("asr_billing.system_api").error(
        "GET /system_api/?context=collector&psw=collectortestpsw&model=users&login=testlogin"
    )
    logging.getLogger("asr_billing").error("form body: psw1=hunter2&psw2=hunter2 passwd=s3cr ok")
    text = error_log.added()
    assert_no_secret(text)
    assert "context=collector&psw=***&model=users&login=testlogin" in text
    assert "form body: psw1=***&psw2=*** passwd=*** ok" in text


def test_info_lines_in_system_api_log_are_redacted(api_log):
    logging.getLogger("asr_billing.system_api").info(
        "POST /system_api/ context=api_1c psw=1ctestpsw -> 200"
    )
    text = api_log.added()
    assert " INFO asr_billing.system_api POST /system_api/ context=api_1c psw=*** -> 200" in text
    assert_no_secret(text)


def test_json_and_repr_fields(error_log):
    log = logging.getLogger("asr_billing")
    log.error('body: {"passwd": "s3cr\\"et", "login": "testlogin"}')
    log.error("kwargs: %s", {"password": "hunter2", "user_password": "hunter2", "n": 1})
    log.error('numeric: {"psw": 98765}')
    text = error_log.added()
    assert_no_secret(text)
    assert 'body: {"passwd": "***", "login": "testlogin"}' in text
    assert "kwargs: {'password': '***', 'user_password': '***', 'n': 1}" in text
    assert 'numeric: {"psw": ***}' in text


def test_querydict_repr(error_log):
    params = QueryDict("context=collector&psw=collectortestpsw&psw=hunter2&login=testlogin")
    logging.getLogger("asr_billing.system_api").error("params %s", params)
    text = error_log.added()
    assert_no_secret(text)
    assert "'context': ['collector']" in text
    assert "'login': ['testlogin']" in text


@pytest.mark.parametrize(
    "card", ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "4111111111111"]
)
def test_card_numbers(error_log, card):
    logging.getLogger("asr_billing").error("payment by card %s declined", card)
    text = error_log.added()
    assert_no_secret(text)
    assert "payment by card [card] declined" in text


def test_exception_text_is_redacted(error_log):
    log = logging.getLogger("asr_billing")
    try:
        raise ValueError("bad request psw=collectortestpsw card 4111111111111111")
    except ValueError:
        log.exception("failed with %s", "password=hunter2")
    text = error_log.added()
    assert_no_secret(text)
    assert "failed with password=***" in text
    assert "ValueError: bad request psw=*** card [card]" in text


def test_redact_keeps_ordinary_text():
    text = "subscriber 1361 paid 100.00 at 2023-03-01 10:20:30, login=testlogin, ip=10.20.30.41"
    assert redact(text) == text
