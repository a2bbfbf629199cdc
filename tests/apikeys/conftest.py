"""API-key fixtures: keys made the way the app makes them, and clients that send them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apikeys import services
from apikeys.scopes import SCOPES


def key_client(raw_key: str, **headers) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key, **headers)
    return client


@pytest.fixture
def make_key():
    def make(user, *, scopes=None, **fields):
        return services.api_key_create(
            user=user, name=fields.pop("name", "CI"), scopes=scopes, **fields
        )

    return make


@pytest.fixture
def full_key(owner, make_key):
    """(ApiKey, key) of the owner with every scope."""
    return make_key(owner, scopes=list(SCOPES))
