"""Keys and a client for /api/v1/ tests."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from asr_billing.api.keys import apikey_create


@pytest.fixture
def make_key(db):
    def make(*scopes, **kwargs):
        return apikey_create(name=kwargs.pop("name", "test key"), scopes=list(scopes) or
                             ["read"], actor="test", **kwargs)

    return make


@pytest.fixture
def client_for():
    """An APIClient sending ``Authorization: Bearer <key>``."""

    def make(created):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.key}")
        return client

    return make


@pytest.fixture
def admin_api(make_key, client_for):
    return client_for(make_key("admin"))


@pytest.fixture
def read_api(make_key, client_for):
    return client_for(make_key("read"))
