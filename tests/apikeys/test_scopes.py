"""Scopes: each podcast route needs its scope from an API key (403 naming the missing scope
otherwise); sessions have every scope; views that declare nothing refuse API keys; and the
schema documents it all."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from apikeys.authentication import ApiKeyAuthentication
from apikeys.permissions import ApiKeyScopePermission
from apikeys.scopes import SCOPES
from podcasts.models import PodcastStatus
from tests.apikeys.conftest import key_client
from tests.factories import PodcastFactory
from tests.utils import assert_error

# (method, path with {id}, body, scope it needs)
ROUTES = [
    ("get", "/api/v1/podcasts", None, "podcast:read"),
    # An empty body is refused by validation, which runs only once the scope has passed.
    ("post", "/api/v1/podcasts", {}, "podcast:create"),
    ("get", "/api/v1/podcasts/{id}", None, "podcast:read"),
    ("delete", "/api/v1/podcasts/{id}", None, "podcast:delete"),
    ("post", "/api/v1/podcasts/{id}/retry", None, "podcast:create"),
    ("get", "/api/v1/podcasts/{id}/status", None, "podcast:read"),
    ("get", "/api/v1/podcasts/{id}/transcript", None, "podcast:read"),
    ("get", "/api/v1/podcasts/{id}/download", None, "podcast:read"),
]


def _call(client, method, path, body, podcast):
    return getattr(client, method)(path.format(id=podcast.id), body, format="json")


@pytest.mark.parametrize("method, path, body, scope", ROUTES)
def test_a_key_with_the_scope_is_let_through(owner, make_key, method, path, body, scope):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.QUEUED)
    _, raw_key = make_key(owner, scopes=[scope])
    response = _call(key_client(raw_key), method, path, body, podcast)
    # The view answered (200/202, or 400/409 for this body and state), not the permission.
    assert response.status_code in (200, 202, 400, 409), response.content
    assert response.json().get("code") not in ("insufficient_scope", "api_key_not_allowed")


@pytest.mark.parametrize("method, path, body, scope", ROUTES)
def test_a_key_without_the_scope_gets_403_naming_it(owner, make_key, method, path, body, scope):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.FAILED)
    others = [s for s in SCOPES if s != scope]
    _, raw_key = make_key(owner, scopes=others)
    body = assert_error(
        _call(key_client(raw_key), method, path, body, podcast), 403, "insufficient_scope"
    )
    assert body["requiredScope"] == scope and scope in body["error"]
    podcast.refresh_from_db()
    assert podcast.deleted_at is None and podcast.status == PodcastStatus.FAILED
    assert podcast.retry_count == 0


def test_voices_need_podcast_read(owner, make_key):
    _, without = make_key(owner, scopes=["podcast:create"])
    body = assert_error(key_client(without).get("/api/v1/voices"), 403, "insufficient_scope")
    assert body["requiredScope"] == "podcast:read"


def test_a_key_deletes_with_podcast_delete(owner, make_key):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.COMPLETED)
    _, raw_key = make_key(owner, scopes=["podcast:delete"])
    assert key_client(raw_key).delete(f"/api/v1/podcasts/{podcast.id}").status_code == 200
    podcast.refresh_from_db()
    assert podcast.deleted_at is not None


def test_narrowing_a_keys_scopes_takes_effect_at_once(owner, owner_client, make_key):
    api_key, raw_key = make_key(owner, scopes=["podcast:read"])
    client = key_client(raw_key)
    assert client.get("/api/v1/podcasts").status_code == 200
    owner_client.patch(f"/api/v1/api-keys/{api_key.id}", {"scopes": ["usage:read"]}, format="json")
    assert_error(client.get("/api/v1/podcasts"), 403, "insufficient_scope")


def test_a_view_that_declares_no_scope_refuses_api_keys(owner, full_key):
    _, raw_key = full_key
    assert_error(key_client(raw_key).get("/api/v1/user/profile"), 403, "api_key_not_allowed")


def test_a_session_has_every_scope(owner_client, owner):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.QUEUED)
    for method, path, body, _ in ROUTES:
        response = _call(owner_client, method, path, body, podcast)
        assert response.status_code != 403, (method, path, response.content)


def _api_views(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            cls = getattr(pattern.callback, "cls", None)
            if cls is not None and issubclass(cls, APIView):
                yield prefix + str(pattern.pattern), cls


def test_every_api_view_that_accepts_api_keys_checks_their_scopes():
    # A view that replaces permission_classes must keep ApiKeyScopePermission, or API keys
    # would reach it with every scope. (Public views, AllowAny, need no scope.)
    checked = 0
    for route, cls in _api_views():
        if ApiKeyAuthentication not in cls.authentication_classes:
            continue
        if AllowAny in cls.permission_classes:
            continue
        checked += 1
        assert ApiKeyScopePermission in cls.permission_classes, route
    assert checked >= 8


def test_the_schema_documents_the_scopes(anon_client, db):
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = schema.json()
    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme["type"] == "apiKey" and scheme["name"] == "X-API-Key"
    for scope in SCOPES:
        assert f"`{scope}`" in scheme["description"]

    paths = schema["paths"]
    for method, path, _, scope in ROUTES:
        operation = paths[path.replace("{id}", "{podcast_id}")][method]
        assert operation["x-required-scope"] == scope
        assert f"`{scope}`" in operation["description"]
        assert {"ApiKeyAuth": []} in operation["security"]
    for method in ("get", "post"):
        operation = paths["/api/v1/api-keys"][method]
        assert "x-required-scope" not in operation
        assert {"ApiKeyAuth": []} not in operation["security"]
    assert "429" in paths["/api/v1/podcasts"]["post"]["responses"]


@pytest.mark.parametrize("path", ["/api/v1/user/usage", "/api/v1/user/subscription"])
def test_usage_and_subscription_need_usage_read(owner, make_key, path):
    _, allowed = make_key(owner, scopes=["usage:read"])
    assert key_client(allowed).get(path).status_code == 200
    _, denied = make_key(owner, scopes=["podcast:read"])
    body = assert_error(key_client(denied).get(path), 403, "insufficient_scope")
    assert body["requiredScope"] == "usage:read"


def test_an_api_key_cannot_change_the_subscription(owner, full_key):
    _, raw_key = full_key
    for method, path in [
        ("delete", "/api/v1/user/subscription"),
        ("post", "/api/v1/user/subscription/upgrade"),
        ("post", "/api/v1/billing/checkout"),
        ("get", "/api/v1/billing/portal"),
    ]:
        response = getattr(key_client(raw_key), method)(path, {}, format="json")
        assert_error(response, 403, "api_key_not_allowed")
