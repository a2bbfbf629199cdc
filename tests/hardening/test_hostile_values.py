"""Hostile values in every path id, query parameter and header answer 4xx in the error
shape, never 5xx: NUL bytes (PostgreSQL refuses them in text), thousands of digits (Python
refuses to parse them), non-UTF-8 escapes, deep nesting. Unknown /api/ routes and CSRF
failures answer the error shape too, in development as in production.

Run against PostgreSQL to see the database's own refusals (CI does)."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from podcasts import storage
from podcasts.models import PodcastStatus
from tests.billing.conftest import signed_headers, webhook_key  # noqa: F401 - fixture
from tests.factories import PodcastFactory, UserFactory

HOSTILE = [
    "abc%00def",
    "%00",
    "x" * 5000,
    "%FF%FE%FD",
    "%C0%AF",
    "..%2F..%2Fetc%2Fpasswd",
    "%ED%A0%80",  # a UTF-8-encoded lone surrogate
    "9" * 5000,
    "%0D%0ASet-Cookie:%20a=b",
]
METHODS = ["get", "post", "patch", "delete"]


def _routes(resolver=None, prefix: str = "") -> list[str]:
    """Every URL pattern with at least one parameter, parameters as {name}."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _routes(entry, route)
        elif isinstance(entry, URLPattern) and "<" in route:
            found.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return found


API_ROUTES = sorted({r for r in _routes() if r.startswith("/api/")})


def assert_error_shape(response, *, path: str) -> None:
    assert response.status_code < 500, (path, response.status_code, response.content[:500])
    if response.status_code >= 400 and not response.streaming:
        body = response.json()
        assert body["success"] is False and isinstance(body["code"], str), (path, body)


@pytest.fixture
def browser(db) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(email="hostile@example.com"))
    return client


def test_there_are_routes_with_ids_to_attack():
    assert {"/api/v1/podcasts/{podcast_id}", "/api/v1/webhooks/{webhook_id}"} <= set(API_ROUTES)


@pytest.mark.parametrize("route", API_ROUTES)
def test_every_path_parameter_takes_any_bytes_without_a_5xx(browser, route):
    for value in HOSTILE:
        path = re.sub(r"\{\w+\}", value, route)
        for method in METHODS:
            response = getattr(browser, method)(path, content_type="application/json")
            assert_error_shape(response, path=f"{method} {path}")


@pytest.mark.parametrize(
    "query",
    [
        "page=%00",
        "status=%00",
        "limit=" + "9" * 5000,
        "page=" + "9" * 5000,
        "sort=%FF",
        "month=%00",
        "format=%00",
        "lastEventId=%00",
    ],
)
def test_query_parameters_take_any_bytes_without_a_5xx(browser, query):
    for path in ["/api/v1/podcasts", "/api/v1/user/usage", "/api/v1/webhooks", "/api/v1/api-keys"]:
        assert_error_shape(browser.get(f"{path}?{query}"), path=f"{path}?{query}")


@pytest.mark.parametrize(
    "header, value",
    [
        ("HTTP_X_SESSION_TOKEN", "abc\x00def"),
        ("HTTP_X_API_KEY", "pk_live_\x00"),
        ("HTTP_AUTHORIZATION", "Bearer \x00\x00"),
        ("HTTP_IDEMPOTENCY_KEY", "key\x00"),
        ("HTTP_X_REQUEST_ID", "\x00" * 200),
        ("HTTP_LAST_EVENT_ID", "9" * 5000),
        ("HTTP_COOKIE", 'sessionid="\\000\\000abcdefghij"'),
    ],
)
def test_headers_take_any_bytes_without_a_5xx(db, header, value):
    client = Client(raise_request_exception=False)
    for path in ["/api/v1/podcasts", "/api/auth/app/v1/auth/session", "/api/v1/user/profile"]:
        response = client.get(path, **{header: value})
        assert response.status_code < 500, (path, header, response.content[:300])


def test_a_nul_in_a_path_id_is_a_404_in_the_error_shape(browser):
    response = browser.get("/api/v1/podcasts/abc%00def")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_nul_in_a_query_value_is_a_400_in_the_error_shape(browser):
    response = browser.get("/api/v1/podcasts?status=%00")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_a_json_body_with_a_nul_or_a_lone_surrogate_is_a_400(browser):
    for note in ['"a\\u0000b"', '"a\\ud800b"']:
        body = '{"noteContent": ' + note + ', "duration": "short"}'
        response = browser.post("/api/v1/podcasts", data=body, content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json()["success"] is False


def test_a_sign_up_with_a_nul_in_the_email_is_a_4xx(db):
    client = Client(raise_request_exception=False)
    response = client.post(
        "/api/auth/app/v1/auth/login",
        data='{"email": "a\\u0000@example.com", "password": "x"}',
        content_type="application/json",
    )
    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize(
    "path", ["/api/v1/nowhere", "/api/v1/podcasts/x/nowhere", "/api/nothing", "/api/v2/podcasts"]
)
@pytest.mark.parametrize("debug", [True, False])
def test_unknown_api_routes_answer_the_error_shape_in_development_too(db, settings, path, debug):
    settings.DEBUG = debug
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_a_csrf_failure_on_the_browser_auth_api_answers_the_error_shape(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/auth/browser/v1/auth/login",
        data={"email": "a@example.com", "password": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


# --- The signed download link's Range header ------------------------------------------------


@pytest.fixture
def audio_link(owner):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.COMPLETED)
    key = storage.audio_key(user_id=owner.id, podcast_id=podcast.id)
    podcast.audio_url = storage.audio_upload(key=key, data=b"0123456789" * 10)
    podcast.save()
    return storage.audio_signed_url(key=key, filename="p.mp3").url


@pytest.mark.parametrize(
    "header, status",
    [
        ("bytes=" + "9" * 5000 + "-", 416),
        ("bytes=0-" + "9" * 5000, 206),
        ("bytes=-" + "9" * 5000, 206),
        ("bytes=" + "0" * 5000 + "1-2", 206),
        ("bytes=\x00-1", 400),
    ],
)
def test_a_range_header_with_thousands_of_digits_is_answered(db, audio_link, header, status):
    response = Client(raise_request_exception=False).get(audio_link, HTTP_RANGE=header)
    assert response.status_code == status, response.content[:300]


# --- Dodo: a correctly signed but hostile event -----------------------------------------------


def _signed_post(body: bytes, *, webhook_id: str | None = None):
    return Client(raise_request_exception=False).post(
        "/api/v1/billing/webhooks",
        data=body,
        content_type="application/json",
        **signed_headers(body, webhook_id=webhook_id),
    )


@pytest.mark.usefixtures("webhook_key")
def test_a_signed_dodo_event_with_a_404_character_webhook_id_is_a_400(db):
    body = json.dumps({"type": "payment.succeeded", "data": {}}).encode()
    response = _signed_post(body, webhook_id="msg_" + "a" * 400)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_webhook_id"


@pytest.mark.usefixtures("webhook_key")
def test_a_signed_dodo_event_nested_100k_deep_is_a_400(db):
    body = b'{"type": "x", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = _signed_post(body)
    assert response.status_code == 400, response.content
    assert response.json()["success"] is False


@pytest.mark.usefixtures("webhook_key")
def test_a_signed_dodo_event_with_a_nul_in_its_type_is_not_a_5xx(db):
    body = b'{"type": "subscription.active\\u0000", "timestamp": "\\u0000", "data": {}}'
    response = _signed_post(body)
    assert 200 <= response.status_code < 500, response.content
