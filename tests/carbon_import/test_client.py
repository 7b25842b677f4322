"""The Carbon REST v2.0 client against a real server speaking that wire (a live
asr-billing demo: our rest_v2 serves Carbon's wire), and against what an operator may
point it at by mistake: a closed port, an HTML page, a refused key."""

from __future__ import annotations

import http.server
import os
import threading

import pytest

from asr_billing.carbon_import.client import CarbonClient, CarbonError
from tests.api.live import LiveDemo
from tests.docs.server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english")]

KEY = "carbon-import-test-key-0123456789"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("carbon_source")
    demo = LiveDemo(root, os.environ.get("ASR_BILLING_TEST_DB_URL", ""))
    demo.start()
    yield demo
    demo.stop()


def count(client: CarbonClient, model: str, lookup: dict) -> int:
    return client.call(model, ("objects.filter", lookup), ("count", {}))


def test_pages_read_every_object_once_in_order(source):
    client = CarbonClient(source.base)
    assert client.version()
    seen = []
    pages = list(client.pages("Abonents", {"is_folder": 0}, fields=["contract_number"],
                              page_size=40))
    for page in pages:
        assert len(page) <= 40
        seen += [item["pk"] for item in page]
    assert len(pages) > 2  # the demo's 260 subscribers take several pages
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert len(seen) == count(client, "Abonents", {"is_folder": 0})
    assert all("contract_number" in item["fields"] for page in pages for item in page)


def test_an_error_answer_names_the_call(source):
    client = CarbonClient(source.base)
    with pytest.raises(CarbonError, match=r"Abonents objects.get: the source answered: "
                                          r"Abonents matching query does not exist"):
        client.call("Abonents", ("objects.get", {"id": 99999999}))


def test_a_wrong_key_is_refused_in_one_line(source):
    source._cli("config", "set", "network", "api.rest.key", KEY)
    try:
        with pytest.raises(CarbonError, match=r"refused access: .*is --key right"):
            CarbonClient(source.base).version()
        with pytest.raises(CarbonError, match="refused access"):
            CarbonClient(source.base, "not-the-key-0123456789").version()
        assert CarbonClient(source.base, KEY).version()
    finally:
        source._cli("config", "set", "network", "api.rest.key", "")


def test_a_closed_port_cannot_be_reached():
    port = free_port()
    with pytest.raises(CarbonError, match=rf"cannot reach http://127.0.0.1:{port}/rest_api/v2: "):
        CarbonClient(f"http://127.0.0.1:{port}", timeout=5).version()


class _HtmlPage(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_server_that_is_not_carbon_is_named_so():
    server = http.server.HTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        with pytest.raises(CarbonError, match=r"does not answer as Carbon's API REST v2.0 "
                                              r"\(HTTP 200: <html><body>Welcome to nginx"):
            CarbonClient(url).version()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("url", ["10.0.0.2:8082", "ftp://10.0.0.2/", "http://", ""])
def test_an_address_that_is_no_url_is_refused(url):
    with pytest.raises(CarbonError, match="is not an http:// or https:// address"):
        CarbonClient(url)


def test_the_address_may_name_the_api_or_the_server():
    assert CarbonClient("http://h:8082").base == "http://h:8082/rest_api/v2"
    assert CarbonClient("http://h:8082/rest_api/v2/").base == "http://h:8082/rest_api/v2"
