"""Rate limits: per user (or IP), per API key, a burst limit on podcast creation; 429 in the
error shape with Retry-After; X-RateLimit-* on every response; counters shared through Redis
by separate processes."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from podnex.api import ratelimit
from tests.apikeys.conftest import key_client
from tests.utils import assert_error

URL = "/api/v1/podcasts"
ROOT = Path(__file__).resolve().parents[2]


def limit_headers(response) -> tuple[int, int, int]:
    return (
        int(response["X-RateLimit-Limit"]),
        int(response["X-RateLimit-Remaining"]),
        int(response["X-RateLimit-Reset"]),
    )


def assert_rate_limited(response) -> int:
    body = assert_error(response, 429, "rate_limited")
    assert body == {
        "success": False,
        "error": "Too many requests",
        "code": "rate_limited",
        "retryAfter": body["retryAfter"],
    }
    assert isinstance(body["retryAfter"], int) and body["retryAfter"] >= 1
    assert response["Retry-After"] == str(body["retryAfter"])
    assert int(response["X-RateLimit-Remaining"]) == 0
    return body["retryAfter"]


def test_the_user_limit_answers_429_with_retry_after(owner_client, settings):
    settings.RATE_LIMIT_MAX_REQUESTS = 3
    settings.RATE_LIMIT_WINDOW_MS = 60_000
    remaining = [limit_headers(owner_client.get(URL))[1] for _ in range(3)]
    assert remaining == [2, 1, 0]
    response = owner_client.get(URL)
    retry_after = assert_rate_limited(response)
    limit, _, reset = limit_headers(response)
    assert limit == 3 and retry_after <= 60
    now = time.time()  # X-RateLimit-Reset is an epoch second inside the current window
    assert now < reset <= now + 61


def test_users_are_limited_separately(owner_client, other_client, settings):
    settings.RATE_LIMIT_MAX_REQUESTS = 1
    owner_client.get(URL)
    assert_rate_limited(owner_client.get(URL))
    assert other_client.get(URL).status_code == 200


def test_every_response_carries_the_headers(owner, owner_client, anon_client, make_key, settings):
    settings.RATE_LIMIT_MAX_REQUESTS = 50
    _, raw_key = make_key(owner, rate_limit=7)
    responses = {
        "session 200": owner_client.get(URL),
        "session 404": owner_client.get(f"{URL}/nope"),
        "session 400": owner_client.post(URL, {}, format="json"),
        "key 200": key_client(raw_key).get(URL),
        "key 403": key_client(raw_key).delete(f"{URL}/nope"),
        "anonymous 401": anon_client.get(URL),
        "bad key 401": key_client("pk_test_nope").get(URL),
    }
    for name, response in responses.items():
        assert "X-RateLimit-Limit" in response, name
        assert "X-RateLimit-Remaining" in response and "X-RateLimit-Reset" in response, name
    # An API-key request reports the tighter of its key's and its owner's limits.
    assert limit_headers(responses["key 200"])[:2] == (7, 6)
    assert limit_headers(responses["key 403"])[:2] == (7, 5)


def test_each_api_key_has_its_own_hourly_limit(owner, owner_client, make_key):
    _, small = make_key(owner, rate_limit=2)
    _, other = make_key(owner, rate_limit=100)
    client = key_client(small)
    assert [limit_headers(client.get(URL))[:2] for _ in range(2)] == [(2, 1), (2, 0)]
    response = client.get(URL)
    assert assert_rate_limited(response) <= 3600
    assert key_client(other).get(URL).status_code == 200
    assert owner_client.get(URL).status_code == 200


def test_a_keys_new_rate_limit_applies_at_once(owner, owner_client, make_key):
    api_key, raw_key = make_key(owner, rate_limit=1)
    client = key_client(raw_key)
    client.get(URL)
    assert_rate_limited(client.get(URL))
    owner_client.patch(f"/api/v1/api-keys/{api_key.id}", {"rateLimit": 10}, format="json")
    assert client.get(URL).status_code == 200


def test_the_user_limit_is_shared_by_the_users_sessions_and_keys(
    owner, owner_client, make_key, settings
):
    settings.RATE_LIMIT_MAX_REQUESTS = 4
    _, first = make_key(owner, rate_limit=100)
    _, second = make_key(owner, rate_limit=100)
    for client in (owner_client, key_client(first), key_client(second), owner_client):
        assert client.get(URL).status_code == 200
    assert_rate_limited(key_client(first).get(URL))


def test_unauthenticated_requests_are_limited_per_ip(db, settings):
    settings.RATE_LIMIT_MAX_REQUESTS = 2
    here = {"REMOTE_ADDR": "203.0.113.7"}
    for _ in range(2):
        assert_error(key_client("pk_test_guess", **here).get(URL), 401, "invalid_api_key")
    # Guessing keys from one address stops there; another address is not affected.
    assert_rate_limited(key_client("pk_test_guess", **here).get(URL))
    other = {"REMOTE_ADDR": "198.51.100.9"}
    assert_error(key_client("pk_test_guess", **other).get(URL), 401, "invalid_api_key")


def test_a_spoofed_forwarded_for_does_not_escape_the_ip_limit(db, settings):
    settings.RATE_LIMIT_MAX_REQUESTS = 1
    key_client("x", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="1.1.1.1").get(URL)
    response = key_client("x", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="2.2.2.2").get(URL)
    assert_rate_limited(response)


def test_creating_podcasts_has_its_own_tighter_burst_limit(owner, owner_client, settings):
    settings.RATE_LIMIT_BURSTS = {"podcast_create": (2, 60)}
    for _ in range(2):
        assert owner_client.post(URL, {}, format="json").status_code == 400
    response = owner_client.post(URL, {}, format="json")
    assert_rate_limited(response)
    assert limit_headers(response)[0] == 2
    # Retrying is a create too; reading is not limited by the burst.
    assert_rate_limited(owner_client.post(f"{URL}/anything/retry"))
    assert owner_client.get(URL).status_code == 200


def test_health_schema_and_docs_are_not_limited(owner_client, settings):
    settings.RATE_LIMIT_MAX_REQUESTS = 1
    for path in ["/api/health", "/api/schema/", "/api/docs/"] * 2:
        response = owner_client.get(path)
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response


def test_a_window_resets_when_it_ends(settings):
    now = 1_800_000_000.0
    first = ratelimit.hit("test:reset", limit=2, window=60, now=now)
    assert first.count == 1 and now < first.reset_at <= now + 60
    ratelimit.hit("test:reset", limit=2, window=60, now=now)
    assert not ratelimit.hit("test:reset", limit=2, window=60, now=now).allowed
    after = ratelimit.hit("test:reset", limit=2, window=60, now=first.reset_at)
    assert after.count == 1 and after.reset_at == first.reset_at + 60


def test_a_cache_outage_lets_requests_through(owner_client, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache is down")

    monkeypatch.setattr(ratelimit, "counters_incr", broken)
    response = owner_client.get(URL)
    assert response.status_code == 200 and "X-RateLimit-Limit" not in response


# --- Across processes, through Redis --------------------------------------------------------

CHILD = """
import json, os, sys
import django
django.setup()
from django.conf import settings
settings.RATE_LIMIT_KEY_PREFIX = sys.argv[1]
from django.test import Client
client = Client()
out = []
for _ in range(int(sys.argv[3])):
    response = client.get("/api/v1/podcasts", HTTP_X_API_KEY=sys.argv[2])
    out.append([response.status_code, response.headers.get("X-RateLimit-Remaining")])
print(json.dumps(out))
"""


@pytest.mark.redis
@pytest.mark.postgres
def test_the_limit_holds_across_processes_sharing_redis(
    redis_url, postgres, transactional_db, owner, owner_client, make_key, settings
):
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    _, raw_key = make_key(owner, rate_limit=5)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "podnex.settings",
        "REDIS_URL": redis_url,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}"
            f"/{db['NAME']}"
        ),
    }
    # Another OS process, its own Redis connection: three requests on the key.
    child = subprocess.run(
        [sys.executable, "-c", CHILD, settings.RATE_LIMIT_KEY_PREFIX, raw_key, "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout.strip().splitlines()[-1]) == [[200, "4"], [200, "3"], [200, "2"]]
    # This process sees the same counter: two more are allowed, the sixth is refused.
    client = key_client(raw_key)
    assert [client.get(URL).status_code for _ in range(2)] == [200, 200]
    assert_rate_limited(client.get(URL))
    # Usage counted in Redis by both processes adds up too.
    [listed] = owner_client.get("/api/v1/api-keys").json()["apiKeys"]
    assert listed["usageCount"] == 6


# --- One round trip per request ---------------------------------------------------------------


def test_an_api_key_request_counts_its_limits_and_its_use_in_one_batch(
    owner, make_key, monkeypatch
):
    api_key, raw_key = make_key(owner)
    key_client(raw_key).get(URL)  # the first use also writes the row; not what we look at
    batches = []
    counters_incr = ratelimit.counters_incr

    def spy(counts):
        batches.append([count.key for count in counts])
        return counters_incr(counts)

    monkeypatch.setattr(ratelimit, "counters_incr", spy)
    assert key_client(raw_key).get(URL).status_code == 200
    [keys] = batches
    assert any(f":user:{owner.pk}:" in key for key in keys)
    assert any(f":apikey:{api_key.pk}:" in key for key in keys)
    assert f"apikeys:uses:{api_key.pk}" in keys and len(keys) == 3


def test_a_use_on_a_path_without_limits_is_counted_all_the_same(owner, owner_client, make_key):
    _, raw_key = make_key(owner)
    assert key_client(raw_key).get("/api/schema/").status_code == 200
    assert key_client(raw_key).get(URL).status_code == 200
    [listed] = owner_client.get("/api/v1/api-keys").json()["apiKeys"]
    assert listed["usageCount"] == 2


@pytest.mark.redis
def test_on_redis_an_api_key_request_makes_one_round_trip_like_a_session(
    redis_url, owner, owner_client, make_key, monkeypatch
):
    from redis.connection import AbstractConnection

    _, raw_key = make_key(owner)
    client = key_client(raw_key)
    client.get(URL), owner_client.get(URL)  # warm-up; the first use also writes the row
    sends = []
    send = AbstractConnection.send_packed_command

    def spy(self, command, *args, **kwargs):
        sends.append(command)
        return send(self, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", spy)
    assert client.get(URL).status_code == 200
    assert len(sends) == 1
    assert owner_client.get(URL).status_code == 200
    assert len(sends) == 2
