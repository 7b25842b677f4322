"""The admin's online list per NAS and a login's session history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from asr_billing.core.errors import InvalidInput
from asr_billing.network.models import OnlineSession
from asr_billing.network.services import nas_create, nas_update

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.net", "pw-1234567")
    client.force_login(user)
    return client


def session(login, nas, sid, *, open_=True, octets=0):
    return OnlineSession.objects.create(
        login=login, nas=nas, acct_session_id=sid, acct_unique_id=f"u-{sid}", started_at=T0,
        updated_at=T0 + timedelta(minutes=5), input_octets=octets, output_octets=2 * octets,
        stopped_at=None if open_ else T0 + timedelta(hours=1, minutes=2, seconds=3),
        terminate_cause="" if open_ else "User-Request")


def test_nas_list_counts_who_is_online(admin_client, nas, subscriber, make_login,
                                       django_assert_max_num_queries):
    bob, alice = make_login(subscriber, "bob"), make_login(subscriber, "alice")
    session(bob, nas, "1")
    session(alice, nas, "2")
    session(alice, nas, "3", open_=False)
    nas_create(name="Quiet", ip="10.0.0.9", actor="test")
    with django_assert_max_num_queries(8):
        page = admin_client.get("/admin/network/nas/").content.decode()
    assert f'?nas__id__exact={nas.pk}&amp;open=yes">2</a>' in page
    listed = admin_client.get(f"/admin/network/onlinesession/?nas__id__exact={nas.pk}&open=yes")
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 2


def test_login_history_link_and_readable_traffic(admin_client, nas, subscriber, make_login):
    bob = make_login(subscriber, "bob")
    session(bob, nas, "1", open_=False, octets=3 * 1024**3 + 5)
    page = admin_client.get(f"/admin/subscribers/subscriber/{subscriber.pk}/change/")
    assert f"/admin/network/onlinesession/?login__id__exact={bob.pk}" in page.content.decode()
    history = admin_client.get(f"/admin/network/onlinesession/?login__id__exact={bob.pk}")
    assert history.status_code == 200
    text = history.content.decode()
    assert '<span title="3 221 225 477 B">3.0 GiB</span>' in text
    assert "1:02:03" in text
    by_subscriber = admin_client.get(
        f"/admin/network/onlinesession/?login__subscriber__id__exact={subscriber.pk}")
    assert by_subscriber.context["cl"].result_count == 1


def test_session_list_query_count_does_not_grow(admin_client, nas, subscriber, make_login,
                                                django_assert_max_num_queries):
    logins = [make_login(subscriber, f"user{i}") for i in range(50)]
    for i, login in enumerate(logins):
        session(login, nas, str(i))
    with django_assert_max_num_queries(10):
        assert admin_client.get("/admin/network/onlinesession/").status_code == 200


def test_nas_coa_port_and_ipoe_match(nas):
    changed = nas_update(nas=nas, actor="test", coa_port=1700, ipoe_match="mac")
    assert (changed.coa_port, changed.ipoe_match) == (1700, "mac")
    made = nas_create(name="N", ip="10.0.0.8", actor="test", coa_port=3799, ipoe_match="ip")
    assert (made.coa_port, made.ipoe_match) == (3799, "ip")


@pytest.mark.parametrize(("field", "value", "text"), [
    ("coa_port", 0, "The CoA port must be a number from 1 to 65535"),
    ("coa_port", 70000, "The CoA port must be a number from 1 to 65535"),
    ("coa_port", "3799", "The CoA port must be a number from 1 to 65535"),
    ("ipoe_match", "login", "IPoE match is ip or mac"),
])
def test_bad_nas_settings_are_refused_and_change_nothing(nas, english, field, value, text):
    before = (nas.coa_port, nas.ipoe_match)
    with pytest.raises(InvalidInput, match=text):
        nas_update(nas=nas, actor="test", **{field: value})
    nas.refresh_from_db()
    assert (nas.coa_port, nas.ipoe_match) == before
    with pytest.raises(InvalidInput, match=text):
        nas_create(name="N", ip="10.0.0.7", actor="test", **{field: value})
