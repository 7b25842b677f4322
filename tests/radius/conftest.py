"""Posting rlm_rest-shaped bodies to /radius/ (reference radius-and-payments.md §1.2)."""

from __future__ import annotations

import io
import json

import pytest

from asr_billing.network.radius_auth import nas_cache_clear

# Imported while collecting, before any test opens a transaction: the module closes the
# database connections it finds (the workers of radius serve fork from it).
from asr_billing.radius import wsgi as radius_wsgi

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


class WsgiAnswer:
    """radius/wsgi.py's answer, read as the tests read a Django test client's response."""

    def __init__(self, status: str, headers: list[tuple[str, str]], content: bytes):
        self.status_code = int(status.split(" ", 1)[0])
        self.headers = {name.lower(): value for name, value in headers}
        self.content = content

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]

    def json(self):
        return json.loads(self.content)


def wsgi_post(path: str, body: bytes, meta: dict, method: str = "POST") -> WsgiAnswer:
    """One call of the RADIUS-only WSGI application, as granian would make it."""
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "",
               "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8083",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
               "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body), **meta}
    started = []
    content = b"".join(radius_wsgi.application(
        environ, lambda status, headers, exc_info=None: started.append((status, headers))))
    [(status, headers)] = started
    assert headers.count(("Content-Length", str(len(content)))) == 1
    return WsgiAnswer(status, headers, content)


@pytest.fixture(params=["serve", "radius serve"])
def radius(request, client, config_edit, monkeypatch):
    """A configured token and an English Reply-Message; ``radius.post(path, attrs)``
    through Django's handler (``asr-billing serve``), then through the RADIUS-only
    application (``asr-billing radius serve``): every test of the endpoints runs on both."""
    config_edit("radius", "api.token", TOKEN)
    config_edit("app", "language", "en")
    if request.param == "radius serve":
        # As Django's test client does for its handler: the test's transaction is open,
        # and closing "old" connections after a call would close it.
        monkeypatch.setattr(radius_wsgi, "close_old_connections", lambda: None)

    class Poster:
        def post(self, path, attributes=None, *, raw=None, token=TOKEN, remote="127.0.0.1",
                 **headers):
            extra = {"REMOTE_ADDR": remote}
            if token is not None:
                extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
            for name, value in headers.items():
                extra["HTTP_" + name.upper()] = value
            data = raw if raw is not None else rlm_body(attributes or {})
            if request.param == "radius serve":
                body = data.encode() if isinstance(data, str) else data
                return wsgi_post(f"/radius/{path}/", body, extra)
            return client.post(f"/radius/{path}/", data=data,
                               content_type="application/json", **extra)

        def get(self, path, token=TOKEN):
            meta = {"REMOTE_ADDR": "127.0.0.1", "HTTP_AUTHORIZATION": f"Bearer {token}"}
            if request.param == "radius serve":
                return wsgi_post(f"/radius/{path}/", b"", meta, method="GET")
            return client.get(f"/radius/{path}/", **meta)

    return Poster()
