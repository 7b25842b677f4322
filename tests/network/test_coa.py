"""network.coa: Disconnect-Requests reach a NAS listening on loopback (a real UDP socket
that checks the request's authenticator with the secret and answers as a NAS would)."""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from asr_billing.core.models import Task
from asr_billing.core.tasks import tasks_run_due
from asr_billing.network import coa
from asr_billing.network.models import OnlineSession
from asr_billing.network.services import nas_update

SECRET = "s3cret"  # the conftest NAS's secret


class NasListener:
    """A NAS's CoA listener: records each valid Disconnect-Request, answers ``reply``."""

    def __init__(self, reply=("ack", None)):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.received: list[dict] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            length = struct.unpack("!H", data[2:4])[0]
            signed = hashlib.md5(data[:4] + b"\0" * 16 + data[20:length]  # noqa: S324
                                 + SECRET.encode()).digest()
            attributes, offset = {}, 20
            while offset < length:
                kind, size = data[offset], data[offset + 1]
                attributes[kind] = data[offset + 2:offset + size]
                offset += size
            self.received.append({"code": data[0], "valid": signed == data[4:20],
                                  "attributes": attributes})
            kind, cause = self.reply
            if kind == "silent":
                continue
            extra = b"" if cause is None else struct.pack("!BBI", 101, 6, cause)
            code = data[0] + (1 if kind == "ack" else 2)  # 40→41/42, 43→44/45
            header = struct.pack("!BBH", code, data[1], 20 + len(extra))
            answer_auth = hashlib.md5(header + data[4:20] + extra  # noqa: S324
                                      + SECRET.encode()).digest()
            self.sock.sendto(header + answer_auth + extra, peer)

    def close(self):
        self.sock.close()


@pytest.fixture
def listener(nas):
    made = []

    def make(reply=("ack", None)):
        nas_listener = NasListener(reply)
        nas_update(nas=nas, actor="test", ip="127.0.0.1", coa_port=nas_listener.port)
        made.append(nas_listener)
        return nas_listener

    yield make
    for item in made:
        item.close()


@pytest.fixture
def online(nas, subscriber, make_login):
    login = make_login(subscriber, "bob")
    return OnlineSession.objects.create(
        login=login, nas=nas, acct_session_id="81a0ff01", acct_unique_id="u1",
        ip="100.64.0.9", started_at=datetime(2026, 11, 28, tzinfo=UTC),
        updated_at=timezone.now())


def queue(session, reason, capture):
    with capture(execute=True):
        assert coa.session_disconnect(session=session, reason=reason) is True


def outcome():
    return list(Task.objects.values_list("state", "attempts", "outcome"))


def test_disconnect_ack(listener, online, config_edit, django_capture_on_commit_callbacks):
    config_edit("radius", "coa.timeout", "1")
    nas_listener = listener()
    queue(online, "negbal", django_capture_on_commit_callbacks)
    queue(online, "negbal", django_capture_on_commit_callbacks)  # the same event: one task
    assert tasks_run_due()["done"] == 1
    assert outcome() == [("done", 1, "Disconnect-ACK")]
    [request] = nas_listener.received
    assert request["code"] == 40 and request["valid"]
    assert request["attributes"][1] == b"bob"
    assert request["attributes"][44] == b"81a0ff01"
    assert request["attributes"][8] == socket.inet_aton("100.64.0.9")
    assert request["attributes"][4] == socket.inet_aton("127.0.0.1")


@pytest.mark.parametrize(("cause", "text"), [
    (503, "Disconnect-NAK, Error-Cause 503: the NAS has no such session any more"),
    (502, "Disconnect-NAK, Error-Cause 502"),
])
def test_a_nak_is_final(listener, online, django_capture_on_commit_callbacks, cause, text):
    listener(("nak", cause))
    queue(online, "negbal", django_capture_on_commit_callbacks)
    assert tasks_run_due()["done"] == 1
    assert outcome() == [("done", 1, text)]


def test_no_answer_is_retried_then_failed(listener, online, config_edit,
                                          django_capture_on_commit_callbacks):
    config_edit("radius", "coa.timeout", "1")
    config_edit("radius", "coa.max_attempts", "2")
    nas_listener = listener(("silent", None))
    queue(online, "negbal", django_capture_on_commit_callbacks)
    assert tasks_run_due()["retry"] == 1
    task = Task.objects.get()
    assert task.outcome == f"no answer from 127.0.0.1:{nas_listener.port} in 1 s"
    assert tasks_run_due(now=task.run_after)["failed"] == 1
    assert outcome()[0][:2] == ("failed", 2)
    assert len(nas_listener.received) == 2


def test_a_wrong_secret_on_the_nas_side_is_seen(listener, online, nas,
                                                django_capture_on_commit_callbacks):
    listener()
    nas_update(nas=nas, actor="test", radius_secret="other-secret")
    queue(online, "negbal", django_capture_on_commit_callbacks)
    assert tasks_run_due()["retry"] == 1
    assert "authenticator is wrong" in Task.objects.get().outcome


def test_an_ended_session_is_not_disconnected(listener, online,
                                             django_capture_on_commit_callbacks):
    nas_listener = listener()
    queue(online, "negbal", django_capture_on_commit_callbacks)
    OnlineSession.objects.filter(pk=online.pk).update(stopped_at=timezone.now())
    assert tasks_run_due()["done"] == 1
    assert outcome() == [("done", 1, "the session had ended already")]
    assert nas_listener.received == []


def test_disabled_by_config(online, config_edit):
    config_edit("radius", "coa.enabled", "no")
    assert coa.session_disconnect(session=online, reason="negbal") is False
    assert Task.objects.count() == 0


def test_the_admin_disconnects_selected_sessions(client, listener, online,
                                                 django_capture_on_commit_callbacks):
    user = get_user_model().objects.create_superuser("root", "r@example.net", "pw-1234567")
    client.force_login(user)
    nas_listener = listener()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/network/onlinesession/", {
            "action": "disconnect", "_selected_action": [online.pk]}, follow=True)
    assert response.status_code == 200
    assert tasks_run_due()["done"] == 1
    assert len(nas_listener.received) == 1
    tasks_page = client.get("/admin/core/task/")
    assert "Disconnect-ACK" in tasks_page.content.decode()


def test_class_carries_the_access():
    from asr_billing.network.radius_class import class_access, class_login_id, class_token

    full, poor = class_token(login_id=7, decided_at=5), class_token(login_id=7, decided_at=5,
                                                                   no_money=True)
    assert (full, poor) == ("asr1:7:5", "asr1:7:5:n")
    assert (class_access(full), class_access(poor), class_access("other:1")) == ("f", "n", "")
    assert class_login_id(poor) == 7


def make_session(login, nas, sid, access):
    return OnlineSession.objects.create(
        login=login, nas=nas, acct_session_id=sid, acct_unique_id=f"u-{sid}", access=access,
        started_at=datetime(2026, 11, 28, tzinfo=UTC), updated_at=timezone.now())


def keys():
    return sorted(Task.objects.values_list("key", flat=True))


def test_reconcile_disconnects_sessions_whose_access_changed(nas, subscriber, make_subscriber,
                                                              make_login,
                                                              django_capture_on_commit_callbacks):
    from asr_billing.subscribers.models import Subscriber

    paid = make_login(subscriber, "paid")
    other = make_subscriber(name="Петров Пётр")
    broke = make_login(other, "broke")
    full_ok = make_session(paid, nas, "1", "f")
    poor_paid = make_session(paid, nas, "2", "n")
    full_broke = make_session(broke, nas, "3", "f")
    make_session(broke, nas, "4", "n")  # no money and still none: left alone
    make_session(broke, nas, "5", "")  # access not known: left alone
    Subscriber.objects.filter(pk=other.pk).update(negbal=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert coa.sessions_reconcile_access() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert coa.sessions_reconcile_access() == 0  # asked once
    assert keys() == sorted([f"disconnect:{full_broke.pk}:access-lost",
                             f"disconnect:{poor_paid.pk}:access-restored"])
    assert full_ok.pk not in [t.payload["session_id"] for t in Task.objects.all()]


@pytest.mark.parametrize("change", ["admin_blocked", "voluntary_blocked", "login_disabled"])
def test_blocks_and_disabled_logins_lose_access(nas, subscriber, make_login, change,
                                                django_capture_on_commit_callbacks):
    from asr_billing.network.models import Login
    from asr_billing.subscribers.models import Subscriber

    login = make_login(subscriber, "bob")
    session = make_session(login, nas, "1", "f")
    if change == "login_disabled":
        Login.objects.filter(pk=login.pk).update(enabled=False)
    else:
        Subscriber.objects.filter(pk=subscriber.pk).update(**{change: True})
    with django_capture_on_commit_callbacks(execute=True):
        assert coa.sessions_reconcile_access() == 1
    assert keys() == [f"disconnect:{session.pk}:access-lost"]


@pytest.mark.django_db(transaction=True)  # the tick commits as in production
def test_the_scheduler_tick_disconnects_a_subscriber_who_ran_out(
        listener, nas, subscriber, make_login):
    from asr_billing.billing.scheduler import Scheduler
    from asr_billing.subscribers.models import Subscriber

    nas_listener = listener()
    session = make_session(make_login(subscriber, "bob"), nas, "77", "f")
    Subscriber.objects.filter(pk=subscriber.pk).update(negbal=True)
    scheduler = Scheduler(run=lambda **kw: None, housekeeping=lambda **kw: None)
    scheduler.tick()  # asks for the Disconnect and sends it
    assert [r["attributes"][44] for r in nas_listener.received] == [b"77"]
    task = Task.objects.get()
    assert (task.outcome, task.payload) == ("Disconnect-ACK",
                                            {"session_id": session.pk, "reason": "access-lost"})


@pytest.mark.django_db(transaction=True)  # the command commits as it does from cron
def test_run_tasks_command(listener, nas, subscriber, make_login):
    from io import StringIO

    from django.core.management import call_command

    from asr_billing.subscribers.models import Subscriber

    nas_listener = listener()
    make_session(make_login(subscriber, "bob"), nas, "9", "f")
    Subscriber.objects.filter(pk=subscriber.pk).update(admin_blocked=True)
    out = StringIO()
    call_command("run_tasks", stdout=out)
    assert out.getvalue().strip() == "disconnects_asked=1 done=1 retry=0 failed=0"
    assert len(nas_listener.received) == 1


# --- CoA-Request with new rates when the tariff changes (network.coa_rates) ------------


@pytest.fixture
def mikrotik_online(nas, online, listener):
    nas_listener = listener()
    nas_update(nas=nas, actor="test", nas_type="mikrotik")
    OnlineSession.objects.filter(pk=online.pk).update(access="f")
    return nas_listener


def change_tariff(subscriber, tariff, capture):
    from asr_billing.billing.services import tariff_change_now

    with capture(execute=True):
        tariff_change_now(subscriber=subscriber, tariff=tariff, actor="test")


def test_tariff_change_sends_the_new_rates(mikrotik_online, online, subscriber,
                                           django_capture_on_commit_callbacks):
    from asr_billing.network.coa_rates import COA_REQUEST
    from asr_billing.network.shaping import mikrotik_rate_limit
    from asr_billing.tariffs.models import Tariff

    faster = Tariff.objects.create(name="Home 300", rate_in=300000, ceil_in=300000,
                                   rate_out=100000, ceil_out=100000)
    change_tariff(subscriber, faster, django_capture_on_commit_callbacks)
    assert Task.objects.get().name == "network.coa_rates"
    assert tasks_run_due() == {"done": 1, "retry": 0, "failed": 0}
    [request] = mikrotik_online.received
    assert request["code"] == COA_REQUEST and request["valid"]
    assert request["attributes"][1] == b"bob" and request["attributes"][44] == b"81a0ff01"
    expected = mikrotik_rate_limit(faster).encode()
    vsa = request["attributes"][26]
    assert vsa == struct.pack("!IBB", 14988, 8, len(expected) + 2) + expected
    [(state, _attempts, text)] = outcome()
    assert state == "done" and text == f"CoA-ACK: Mikrotik-Rate-Limit={expected.decode()}"


def test_a_coa_nak_disconnects_instead(listener, mikrotik_online, online, subscriber,
                                       django_capture_on_commit_callbacks):
    from asr_billing.tariffs.models import Tariff

    mikrotik_online.reply = ("nak", 501)
    faster = Tariff.objects.create(name="Home 300", rate_in=300000, ceil_in=300000)
    change_tariff(subscriber, faster, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        tasks_run_due()
    assert "disconnected instead" in Task.objects.get(name="network.coa_rates").outcome
    mikrotik_online.reply = ("ack", None)
    tasks_run_due()
    assert [r["code"] for r in mikrotik_online.received] == [43, 40]


def test_same_speeds_or_no_money_profile_send_nothing(mikrotik_online, online, subscriber,
                                                      tariff,
                                                      django_capture_on_commit_callbacks):
    from asr_billing.tariffs.models import Tariff

    fields = {f: getattr(tariff, f) for f in ("rate_in", "ceil_in", "rate_out", "ceil_out")}
    twin = Tariff.objects.create(name="Home 100 promo", **fields)
    change_tariff(subscriber, twin, django_capture_on_commit_callbacks)
    assert not Task.objects.exists()  # the same speeds: nothing for the NAS to change
    OnlineSession.objects.filter(pk=online.pk).update(access="n")
    faster = Tariff.objects.create(name="Home 300", rate_in=300000, ceil_in=300000)
    change_tariff(subscriber, faster, django_capture_on_commit_callbacks)
    assert not Task.objects.exists()  # the no money profile's rates are not the tariff's


def test_attribute_encoding():
    from asr_billing.network.coa_rates import encode_attribute

    assert encode_attribute("Filter-Id", "svc") == b"\x0b\x05svc"
    assert encode_attribute("Cisco-Account-Info", "QU;1") == (
        b"\x1a\x0c" + struct.pack("!I", 9) + b"\xfa\x06QU;1")
