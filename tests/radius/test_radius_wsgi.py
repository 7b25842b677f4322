"""radius/wsgi.py, the application of ``asr-billing radius serve``: what it does besides
the views (every endpoint test in this folder also runs through it, see conftest.radius):
other paths, the body's size and length, the connection upkeep, the metrics."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection
from prometheus_client import REGISTRY

from asr_billing.network.models import OnlineSession
from tests.radius.conftest import TOKEN, radius_wsgi, rlm_body, wsgi_post

AUTH = {"REMOTE_ADDR": "127.0.0.1", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
START = {"Acct-Status-Type": "Start", "User-Name": "bob", "NAS-IP-Address": "10.0.0.1",
         "Acct-Session-Id": "1", "Acct-Unique-Session-Id": "u1"}


@pytest.fixture
def calls(config_edit, monkeypatch, nas, subscriber, make_login):
    """The token set, bob on the NAS, and the connection upkeep counted instead of done
    (the test's transaction is open)."""
    config_edit("radius", "api.token", TOKEN)
    config_edit("app", "language", "en")
    make_login(subscriber, "bob", password="hello123")
    upkeep = []
    monkeypatch.setattr(radius_wsgi, "close_old_connections", lambda: upkeep.append(1))
    return upkeep


def test_a_start_is_written_and_the_connections_are_checked_after_it(calls):
    answer = wsgi_post("/radius/accounting/", rlm_body(START).encode(), AUTH)
    assert answer.status_code == 204 and answer.content == b""
    assert OnlineSession.objects.filter(acct_unique_id="u1", stopped_at=None).count() == 1
    assert calls == [1]


@pytest.mark.parametrize("path", ["/", "/radius/authorize", "/admin/", "/system_api/",
                                  "/radius/accounting/x/"])
def test_any_other_path_is_a_json_404(calls, path):
    answer = wsgi_post(path, rlm_body(START).encode(), AUTH)
    assert answer.status_code == 404
    assert answer.json() == {"error": "not found"}
    assert answer["Content-Type"] == "application/json"
    assert OnlineSession.objects.count() == 0


class Untouchable:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read before the caller was checked")


@pytest.mark.parametrize("meta", [
    {"HTTP_AUTHORIZATION": "Bearer wrong-token-0123456789"},  # 401
    {"REMOTE_ADDR": "192.0.2.7"},  # 403
])
def test_a_strangers_body_is_never_read(calls, meta):
    environ = {**AUTH, **meta, "CONTENT_LENGTH": "2000000", "wsgi.input": Untouchable()}
    answer = wsgi_post("/radius/accounting/", b"", environ)
    assert answer.status_code in (401, 403)
    assert OnlineSession.objects.count() == 0


def test_a_body_above_djangos_limit_is_400_and_not_read(calls, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = rlm_body(START).encode()
    assert len(body) > 100
    answer = wsgi_post("/radius/accounting/", b"",
                       {**AUTH, "CONTENT_LENGTH": str(len(body)), "wsgi.input": Untouchable()})
    assert answer.status_code == 400
    assert answer.json() == {"error": "request body too large"}
    assert OnlineSession.objects.count() == 0


def test_a_content_length_that_is_not_a_number_reads_as_no_body(calls):
    # As Django reads it: no body, so not rlm_rest's JSON.
    answer = wsgi_post("/radius/accounting/", rlm_body(START).encode(),
                       {**AUTH, "CONTENT_LENGTH": "12abc"})
    assert answer.status_code == 400
    assert answer.json() == {"error": "the body is not JSON"}
    assert OnlineSession.objects.count() == 0


def test_without_a_body_it_is_the_views_400(calls):
    answer = wsgi_post("/radius/authorize/", b"", {**AUTH, "CONTENT_LENGTH": ""})
    assert answer.status_code == 400
    assert answer.json() == {"error": "the body is not JSON"}


def test_the_reply_message_is_in_the_configured_language(calls, config_edit):
    config_edit("app", "language", "ru")
    body = rlm_body({"User-Name": "bob", "User-Password": "nope",
                     "NAS-IP-Address": "10.0.0.1"}).encode()
    answer = wsgi_post("/radius/authorize/", body, AUTH)
    assert answer.status_code == 401
    assert answer.json()["reply:Reply-Message"]["value"] == "Неверный логин или пароль."


def test_each_call_is_counted_for_metrics(calls):
    def count(status: str) -> float:
        return REGISTRY.get_sample_value(
            "asr_http_requests_total", {"group": "radius", "method": "POST",
                                        "status": status}) or 0.0

    before_ok, before_refused = count("204"), count("401")
    wsgi_post("/radius/accounting/", rlm_body(START).encode(), AUTH)
    wsgi_post("/radius/accounting/", rlm_body(START).encode(),
              {**AUTH, "HTTP_AUTHORIZATION": "Bearer wrong-token-0123456789"})
    assert count("204") == before_ok + 1
    assert count("401") == before_refused + 1


def test_an_error_no_view_expects_is_a_logged_and_counted_json_500(calls, monkeypatch,
                                                                    caplog):
    def broken(request):
        raise RuntimeError("a bug")

    def count() -> float:
        return REGISTRY.get_sample_value(
            "asr_http_requests_total", {"group": "radius", "method": "POST",
                                        "status": "500"}) or 0.0

    before = count()
    monkeypatch.setitem(radius_wsgi.VIEWS, "/radius/authorize/", broken)
    answer = wsgi_post("/radius/authorize/", b"{}", AUTH)
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error"}
    assert count() == before + 1
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Internal Server Error: /radius/authorize/"
    assert record.exc_info[0] is RuntimeError
    assert calls == [1]  # the connections are still checked



@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL: a server-side end of the connection "
                           "(CI runs it)")
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_dropped_is_replaced(config_edit, nas, subscriber,
                                                       make_login):
    """The database restarts (here: this connection's backend is terminated). The
    connection upkeep after each call marks the connection for a health check, which on
    the next call finds it dead and opens a new one — no 503 storm until the process
    restarts (without the upkeep every later call fails)."""
    config_edit("radius", "api.token", TOKEN)
    make_login(subscriber, "bob")

    def start(unique: str) -> int:
        body = rlm_body({**START, "Acct-Unique-Session-Id": unique}).encode()
        return wsgi_post("/radius/accounting/", body, AUTH).status_code

    assert start("before") == 204
    backend = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432,
                         user=settings["USER"], dbname=settings["NAME"],
                         autocommit=True) as other:
        other.execute("select pg_terminate_backend(%s)", (backend,))
        # Terminating is asynchronous: wait until the backend is gone, so the test does
        # not depend on whether the next call races it.
        for _attempt in range(200):
            alive = other.execute("select count(*) from pg_stat_activity where pid = %s",
                                  (backend,)).fetchone()[0]
            if not alive:
                break
            time.sleep(0.05)
    assert start("after") == 204
    assert connection.connection.info.backend_pid != backend
    assert set(OnlineSession.objects.values_list("acct_unique_id", flat=True)) == {
        "before", "after"}
