"""X-API-Key / Bearer authentication: the key stands for its owner; malformed, unknown,
revoked and expired keys are refused with 401; usage is counted."""

import pytest
from django.utils import timezone

from apikeys import keys, services
from apikeys.models import ApiKey
from podcasts.models import PodcastStatus
from tests.apikeys.conftest import key_client
from tests.factories import PodcastFactory
from tests.utils import assert_error

URL = "/api/v1/podcasts"


def test_a_key_is_accepted_in_x_api_key_or_as_a_bearer_token(owner, make_key):
    PodcastFactory(user=owner)
    _, raw_key = make_key(owner)
    for client in (key_client(raw_key), _bearer(raw_key)):
        response = client.get(URL)
        assert response.status_code == 200, response.content
        assert response.json()["pagination"]["total"] == 1


def _bearer(raw_key):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def _unknown_key():
    return keys.key_generate()


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "not-a-key",
        "pk_test_short",
        "pk_test_" + "!" * 43,
        "x" * 5000,
        "pk_test_ünïcödé" + "a" * 40,
    ],
)
def test_a_malformed_key_is_refused(db, presented):
    assert_error(key_client(presented).get(URL), 401, "invalid_api_key")


def test_an_unknown_key_is_refused(db):
    assert_error(key_client(_unknown_key()).get(URL), 401, "invalid_api_key")
    assert_error(_bearer(_unknown_key()).get(URL), 401, "invalid_api_key")


def test_a_presented_key_is_never_ignored_in_favour_of_a_session(owner):
    # A broken key must fail loudly, not fall back to another credential.
    client = key_client(_unknown_key())
    client.force_login(owner)  # a real session cookie
    assert_error(client.get(URL), 401, "invalid_api_key")
    client.credentials()
    assert client.get(URL).status_code == 200


def test_a_revoked_key_is_refused(owner, make_key):
    api_key, raw_key = make_key(owner)
    services.api_key_revoke(user=owner, api_key_id=api_key.id)
    assert_error(key_client(raw_key).get(URL), 401, "invalid_api_key")


def test_an_expired_key_is_refused(owner, make_key):
    api_key, raw_key = make_key(owner, expires_at=timezone.now() + timezone.timedelta(hours=1))
    assert key_client(raw_key).get(URL).status_code == 200
    ApiKey.objects.filter(id=api_key.id).update(expires_at=timezone.now())
    body = assert_error(key_client(raw_key).get(URL), 401, "api_key_expired")
    assert body["error"] == "This API key has expired"


def test_a_key_of_a_deactivated_user_is_refused(owner, make_key):
    _, raw_key = make_key(owner)
    owner.is_active = False
    owner.save()
    assert_error(key_client(raw_key).get(URL), 401, "invalid_api_key")


def test_a_test_key_does_not_work_in_production(owner, make_key, settings):
    _, raw_key = make_key(owner)
    settings.IS_PRODUCTION = True
    assert_error(key_client(raw_key).get(URL), 401, "invalid_api_key")


def test_a_stored_digest_alone_does_not_authenticate(owner, make_key):
    api_key, _ = make_key(owner)
    assert_error(key_client(api_key.key).get(URL), 401, "invalid_api_key")


def test_a_401_names_the_api_key_header(db):
    response = key_client(_unknown_key()).get(URL)
    assert "X-API-Key" in response["WWW-Authenticate"]


@pytest.mark.parametrize("presented", ["garbage", "pk_test_" + "a" * 43])
def test_every_presented_key_costs_the_same_one_digest_lookup(
    db, presented, django_assert_num_queries
):
    # Malformed keys are hashed and looked up like well-formed ones, so the time to refuse
    # a key does not depend on what it contains.
    with django_assert_num_queries(1):
        key_client(presented).get(URL)


def test_user_a_key_never_reaches_user_b_objects(owner, other_user, make_key):
    theirs = PodcastFactory(user=other_user, status=PodcastStatus.FAILED)
    mine = PodcastFactory(user=owner)
    _, raw_key = make_key(owner, scopes=["podcast:read", "podcast:create", "podcast:delete"])
    client = key_client(raw_key)
    listed = client.get(URL).json()["podcasts"]
    assert [p["id"] for p in listed] == [mine.id]
    for method, suffix in [
        ("get", ""),
        ("get", "/status"),
        ("get", "/transcript"),
        ("get", "/download"),
        ("post", "/retry"),
        ("delete", ""),
    ]:
        response = getattr(client, method)(f"{URL}/{theirs.id}{suffix}")
        assert_error(response, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.deleted_at is None and theirs.status == PodcastStatus.FAILED


# --- usageCount / lastUsedAt -----------------------------------------------------------------


def test_each_request_counts_at_once_when_flushing_is_off(owner, make_key, settings):
    settings.API_KEY_USAGE_FLUSH_SECONDS = 0
    api_key, raw_key = make_key(owner)
    client = key_client(raw_key)
    for _ in range(3):
        client.get(URL)
    api_key.refresh_from_db()
    assert api_key.usage_count == 3 and api_key.last_used_at is not None


def test_uses_are_batched_but_listed_exactly(
    owner, owner_client, make_key, settings, django_assert_num_queries
):
    settings.API_KEY_USAGE_FLUSH_SECONDS = 60
    api_key, raw_key = make_key(owner)
    client = key_client(raw_key)
    client.get(URL)  # the first use is written at once, so lastUsedAt is set
    api_key.refresh_from_db()
    first_use = api_key.last_used_at
    assert api_key.usage_count == 1 and first_use is not None

    # Later uses within the interval write nothing: key lookup, count, page.
    with django_assert_num_queries(3):
        client.get(URL)
    client.get(URL)
    api_key.refresh_from_db()
    assert api_key.usage_count == 1 and api_key.last_used_at == first_use

    [listed] = owner_client.get("/api/v1/api-keys").json()["apiKeys"]
    assert listed["usageCount"] == 3

    # Once the interval has passed the next use moves the pending count into the row.
    ApiKey.objects.filter(id=api_key.id).update(
        last_used_at=timezone.now() - timezone.timedelta(seconds=61)
    )
    from django.core.cache import cache

    cache.delete(f"apikeys:flush:{api_key.id}")
    client.get(URL)
    api_key.refresh_from_db()
    assert api_key.usage_count == 4 and api_key.last_used_at > first_use
    [listed] = owner_client.get("/api/v1/api-keys").json()["apiKeys"]
    assert listed["usageCount"] == 4
