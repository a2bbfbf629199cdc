"""/api/v1/api-keys: the key is shown once, stored as a digest, listed masked, changed,
revoked; each user sees only their own keys; an API key can never manage keys."""

import re

import pytest
from django.utils import timezone

from apikeys import keys
from apikeys.models import ApiKey
from tests.apikeys.conftest import key_client
from tests.utils import assert_error

URL = "/api/v1/api-keys"


def create(client, **payload):
    response = client.post(URL, {"name": "CI", **payload}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_key_is_shown_once_and_only_its_digest_is_stored(owner_client):
    body = create(owner_client, name="Laptop")
    raw_key = body["key"]
    assert re.fullmatch(r"pk_test_[A-Za-z0-9_-]{43}", raw_key)  # 32 random bytes, url-safe
    assert body["prefix"] == raw_key[:12] and body["apiKey"]["prefix"] == body["prefix"]
    assert body["createdAt"] == body["apiKey"]["createdAt"]
    assert "key" not in body["apiKey"]

    row = ApiKey.objects.get(id=body["apiKey"]["id"])
    assert row.key != raw_key and raw_key not in row.key
    assert row.key == keys.key_digest(raw_key) and len(row.key) == 64

    listing = owner_client.get(URL)
    assert raw_key not in listing.content.decode()
    assert raw_key[12:20] not in listing.content.decode()
    [listed] = listing.json()["apiKeys"]
    assert listed["prefix"] == body["prefix"] and "key" not in listed
    patched = owner_client.patch(f"{URL}/{listed['id']}", {"name": "x"}, format="json")
    assert raw_key not in patched.content.decode()


def test_keys_are_random_and_live_keys_are_made_in_production(owner_client, settings):
    first, second = create(owner_client)["key"], create(owner_client)["key"]
    assert first != second and first[8:] != second[8:]
    settings.IS_PRODUCTION = True
    assert create(owner_client)["key"].startswith("pk_live_")


def test_create_has_the_plans_defaults_and_takes_scopes_expiry_and_rate_limit(owner_client):
    default = create(owner_client)["apiKey"]
    assert default["scopes"] == ["podcast:create", "podcast:read"]
    assert default["rateLimit"] == 60 and default["expiresAt"] is None
    assert default["active"] is True and default["usageCount"] == 0
    assert default["lastUsedAt"] is None

    expires = (timezone.now() + timezone.timedelta(days=30)).isoformat()
    chosen = create(
        owner_client,
        scopes=["usage:read", "webhook:manage", "usage:read"],
        expiresAt=expires,
        rateLimit=500,
    )["apiKey"]
    assert chosen["scopes"] == ["usage:read", "webhook:manage"]
    assert chosen["rateLimit"] == 500 and chosen["expiresAt"].startswith(expires[:19])


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 7}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "CI", "scopes": ["podcast:fly"]}, "scopes"),
        ({"name": "CI", "scopes": []}, "scopes"),
        ({"name": "CI", "scopes": "podcast:read"}, "scopes"),
        ({"name": "CI", "rateLimit": 0}, "rateLimit"),
        ({"name": "CI", "rateLimit": "60"}, "rateLimit"),
        ({"name": "CI", "rateLimit": True}, "rateLimit"),
        ({"name": "CI", "rateLimit": 10**9}, "rateLimit"),
        ({"name": "CI", "expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
        ({"name": "CI", "expiresAt": "soon"}, "expiresAt"),
        ({"name": "CI", "active": False}, "active"),
    ],
)
def test_create_rejects_bad_input_with_a_field_error(owner_client, payload, field):
    body = assert_error(owner_client.post(URL, payload, format="json"), 400, "validation_error")
    assert field in body["details"]
    assert not ApiKey.objects.exists()


def test_patch_changes_name_scopes_and_rate_limit(owner_client):
    key_id = create(owner_client)["apiKey"]["id"]
    response = owner_client.patch(
        f"{URL}/{key_id}",
        {"name": "Server", "scopes": ["podcast:read"], "rateLimit": 10},
        format="json",
    )
    assert response.status_code == 200, response.content
    changed = response.json()["apiKey"]
    assert (changed["name"], changed["scopes"], changed["rateLimit"]) == (
        "Server",
        ["podcast:read"],
        10,
    )
    row = ApiKey.objects.get(id=key_id)
    assert (row.name, row.scopes, row.rate_limit) == ("Server", ["podcast:read"], 10)


@pytest.mark.parametrize(
    "payload", [{}, {"active": True}, {"scopes": []}, {"name": ""}, {"rateLimit": -1}]
)
def test_patch_rejects_bad_or_unknown_fields(owner_client, payload):
    key_id = create(owner_client)["apiKey"]["id"]
    assert_error(
        owner_client.patch(f"{URL}/{key_id}", payload, format="json"), 400, "validation_error"
    )


def test_delete_revokes_the_key_at_once(owner_client):
    body = create(owner_client, scopes=["podcast:read"])
    client = key_client(body["key"])
    assert client.get("/api/v1/podcasts").status_code == 200

    response = owner_client.delete(f"{URL}/{body['apiKey']['id']}")
    assert response.status_code == 200 and response.json()["success"] is True

    assert_error(client.get("/api/v1/podcasts"), 401, "invalid_api_key")
    [listed] = owner_client.get(URL).json()["apiKeys"]
    assert listed["active"] is False
    assert owner_client.delete(f"{URL}/{listed['id']}").status_code == 200  # idempotent
    assert_error(
        owner_client.patch(f"{URL}/{listed['id']}", {"name": "again"}, format="json"),
        409,
        "api_key_revoked",
    )


def test_users_never_see_or_touch_each_others_keys(owner_client, other_client, owner):
    body = create(owner_client)
    key_id = body["apiKey"]["id"]
    assert other_client.get(URL).json()["apiKeys"] == []
    assert_error(
        other_client.patch(f"{URL}/{key_id}", {"name": "mine"}, format="json"), 404, "not_found"
    )
    assert_error(other_client.delete(f"{URL}/{key_id}"), 404, "not_found")
    row = ApiKey.objects.get(id=key_id)
    assert row.active and row.name == "CI" and row.user == owner


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_an_api_key_can_never_manage_api_keys(owner, full_key, method):
    api_key, raw_key = full_key
    client = key_client(raw_key)
    path = URL if method in ("get", "post") else f"{URL}/{api_key.id}"
    response = getattr(client, method)(path, {"name": "minted"}, format="json")
    assert_error(response, 403, "api_key_not_allowed")
    assert ApiKey.objects.filter(user=owner).count() == 1
    api_key.refresh_from_db()
    assert api_key.active and api_key.name == "CI"


def test_managing_keys_needs_a_signed_in_user(db, anon_client):
    assert_error(anon_client.get(URL), 401, "not_authenticated")
    assert_error(anon_client.post(URL, {"name": "CI"}, format="json"), 401, "not_authenticated")


def test_a_user_has_a_limited_number_of_active_keys(owner_client, settings):
    settings.API_KEY_MAX_PER_USER = 2
    first = create(owner_client)
    create(owner_client)
    assert_error(
        owner_client.post(URL, {"name": "third"}, format="json"), 403, "api_key_limit_reached"
    )
    owner_client.delete(f"{URL}/{first['apiKey']['id']}")
    create(owner_client, name="third")
