"""The OpenAPI schema: valid, every operation described with its scope, writes with
examples; Swagger UI and ReDoc from vendored files (no CDN)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        answer = Client().get("/api/v1/schema/?format=json")
    assert answer.status_code == 200
    return answer.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_schema_validates():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    validate_schema(SchemaGenerator().get_schema(request=None, public=True))


def test_every_operation_is_described_with_its_scope(schema):
    seen = 0
    for path, method, operation in operations(schema):
        seen += 1
        assert operation.get("summary"), (path, method)
        assert re.search(r"Scope: `[a-z:]+`", operation.get("description", "")), (path, method)
        assert "ApiKey" in str(operation.get("security")), (path, method)
        for status in ("401", "403", "429"):
            assert status in operation["responses"], (path, method, status)
    assert seen >= 45


def test_writes_have_examples(schema):
    for path, method, operation in operations(schema):
        if method not in ("post", "patch") or path.endswith("/unblock/"):
            continue
        content = operation.get("requestBody", {}).get("content", {})
        examples = content.get("application/json", {}).get("examples")
        assert examples, (path, method)


def test_no_password_or_secret_in_any_answer_schema(schema):
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            continue
        properties = component.get("properties", {})
        assert not {"password", "password_enc", "radius_secret_enc", "key_hash"} & set(
            properties), name


def test_swagger_and_redoc_are_served_without_a_cdn():
    client = Client()
    for url in ("/api/v1/docs/", "/api/v1/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        assert sources, url
        for source in sources:
            assert source.startswith("/static/"), source
            assert client.get(source).status_code == 200, source
        # Nothing from another host either (ReDoc's page linked Google Fonts).
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html), url
