"""HMAC-signed requests: good, bad, stale, replayed; a signing key must sign."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from asr_billing.api.signing import sign

pytestmark = pytest.mark.django_db
URL = "/api/v1/tariffs/?limit=5"


def signed_get(created, *, url=URL, nonce="n" * 16, timestamp=None, secret=None, body=b""):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = sign(secret or created.signing_secret, timestamp=timestamp, nonce=nonce,
                     method="GET", path=url, body=body)
    client = APIClient()
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {created.key}",
                      HTTP_X_SIGNATURE=signature, HTTP_X_SIGNATURE_TIMESTAMP=timestamp,
                      HTTP_X_SIGNATURE_NONCE=nonce)


def test_a_good_signature_passes(make_key):
    created = make_key("read", signed=True)
    assert created.signing_secret
    assert signed_get(created).status_code == 200


def test_a_signing_key_must_sign(make_key, client_for):
    answer = client_for(make_key("read", signed=True)).get(URL)
    assert answer.status_code == 401
    assert answer.json()["code"] == "signature_missing"


def test_a_bad_signature_is_refused(make_key):
    created = make_key("read", signed=True)
    answer = signed_get(created, secret="another secret")
    assert answer.status_code == 401 and answer.json()["code"] == "signature_bad"


def test_a_signature_of_another_path_is_refused(make_key):
    created = make_key("read", signed=True)
    timestamp = str(int(time.time()))
    signature = sign(created.signing_secret, timestamp=timestamp, nonce="m" * 16, method="GET",
                     path="/api/v1/tariffs/?limit=6", body=b"")
    answer = APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {created.key}",
                             HTTP_X_SIGNATURE=signature, HTTP_X_SIGNATURE_TIMESTAMP=timestamp,
                             HTTP_X_SIGNATURE_NONCE="m" * 16)
    assert answer.json()["code"] == "signature_bad"


@pytest.mark.parametrize("offset", [-301, 400, -100000])
def test_a_stale_signature_is_refused(make_key, offset):
    created = make_key("read", signed=True)
    answer = signed_get(created, timestamp=int(time.time()) + offset)
    assert answer.status_code == 401 and answer.json()["code"] == "signature_stale"


def test_a_replay_is_refused(make_key):
    created = make_key("read", signed=True)
    assert signed_get(created, nonce="replay-nonce-0001").status_code == 200
    again = signed_get(created, nonce="replay-nonce-0001")
    assert again.status_code == 401 and again.json()["code"] == "signature_replay"
    assert signed_get(created, nonce="replay-nonce-0002").status_code == 200


@pytest.mark.parametrize("nonce", ["short", "x" * 65, "bad nonce with spaces"])
def test_a_bad_nonce_is_refused(make_key, nonce):
    answer = signed_get(make_key("read", signed=True), nonce=nonce)
    assert answer.status_code == 401 and answer.json()["code"] == "signature_nonce"


def test_a_signed_post_covers_the_body(make_key, subscriber):
    created = make_key("admin", signed=True)
    url = "/api/v1/subscribers/"
    body = b'{"name": "Signed", "group": %d}' % subscriber.group_id
    timestamp = str(int(time.time()))
    signature = sign(created.signing_secret, timestamp=timestamp, nonce="p" * 16,
                     method="POST", path=url, body=body)
    headers = dict(HTTP_AUTHORIZATION=f"Bearer {created.key}", HTTP_X_SIGNATURE=signature,
                   HTTP_X_SIGNATURE_TIMESTAMP=timestamp, HTTP_X_SIGNATURE_NONCE="p" * 16)
    changed = body.replace(b"Signed", b"Forged")
    refused = APIClient().post(url, changed, content_type="application/json", **headers)
    assert refused.status_code == 401
    from asr_billing.subscribers.models import Subscriber

    assert not Subscriber.objects.filter(name="Forged").exists()
    headers["HTTP_X_SIGNATURE_NONCE"] = "q" * 16
    headers["HTTP_X_SIGNATURE"] = sign(created.signing_secret, timestamp=timestamp,
                                       nonce="q" * 16, method="POST", path=url, body=body)
    done = APIClient().post(url, body, content_type="application/json", **headers)
    assert done.status_code == 201, done.content


def test_an_unsigned_key_with_a_signature_header_is_checked(make_key):
    created = make_key("read")
    answer = APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {created.key}",
                             HTTP_X_SIGNATURE="00", HTTP_X_SIGNATURE_TIMESTAMP="1",
                             HTTP_X_SIGNATURE_NONCE="n" * 16)
    assert answer.status_code == 401
