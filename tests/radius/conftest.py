"""Posting rlm_rest-shaped bodies to /radius/ (reference radius-and-payments.md §1.2)."""

from __future__ import annotations

import json

import pytest

from asr_billing.network.radius_auth import nas_cache_clear

TOKEN = "radius-test-token-0123456789"


def rlm_body(attributes: dict) -> str:
    """rlm_rest's JSON: {"Attr": {"type": …, "value": [...]}}; a list value is several."""
    body = {}
    for name, value in attributes.items():
        values = value if isinstance(value, list) else [value]
        kind = "integer" if isinstance(values[0], int) else "string"
        if name in ("NAS-IP-Address", "Framed-IP-Address"):
            kind = "ipaddr"
        if name in ("CHAP-Password", "CHAP-Challenge", "Class") or name.startswith("MS-CHAP"):
            kind = "octets"
        body[name] = {"type": kind, "value": values}
    return json.dumps(body, ensure_ascii=False)


@pytest.fixture(autouse=True)
def _fresh_nas_cache():
    # Rolled-back tests reuse NAS addresses (and on SQLite ids): start each one cold.
    nas_cache_clear()
    yield
    nas_cache_clear()


@pytest.fixture
def radius(client, config_edit):
    """A configured token and an English Reply-Message; ``radius.post(path, attrs)``."""
    config_edit("radius", "api.token", TOKEN)
    config_edit("app", "language", "en")

    class Poster:
        def post(self, path, attributes=None, *, raw=None, token=TOKEN, remote="127.0.0.1",
                 **headers):
            extra = {"REMOTE_ADDR": remote}
            if token is not None:
                extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
            for name, value in headers.items():
                extra["HTTP_" + name.upper()] = value
            data = raw if raw is not None else rlm_body(attributes or {})
            return client.post(f"/radius/{path}/", data=data,
                               content_type="application/json", **extra)

    return Poster()
