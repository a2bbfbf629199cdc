"""Shared fixtures: an owner, a second user and an outsider; API clients; a real Celery
worker; and the rule that a missing server skips on a laptop but fails in CI."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection, connections
from rest_framework.test import APIClient

from tests.factories import UserFactory

# Live-server request threads and the worker thread each open their own connection; with
# persistent connections they would outlive the test database and block its teardown.
for _alias in connections:
    connections[_alias].settings_dict["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session", autouse=True)
def _db_pools_closed_before_teardown(django_db_setup, django_db_blocker):
    # The PostgreSQL pool (settings DATABASE_POOL) keeps idle sessions on the test database,
    # which would block dropping it at the end.
    yield
    for alias in connections:
        connection_ = connections[alias]
        if connection_.vendor != "postgresql":
            continue
        # Threads of live servers and in-process workers may end holding a connection the
        # pool never got back; the test database could then not be dropped (a teardown
        # warning, and the database left behind). End those sessions first.
        with django_db_blocker.unblock(), connection_.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        if connection_.pool:
            connection_.close_pool()
        connection_.close()


def need_server(what: str, available: bool) -> None:
    """Skip locally, fail in CI, when a real server the test needs is not configured."""
    if available:
        return
    if settings.CI:
        pytest.fail(f"CI must provide {what}, but it is not configured")
    pytest.skip(f"needs {what} (set it up to run this test)")


@pytest.fixture
def redis_url() -> str:
    need_server("Redis (REDIS_URL)", bool(settings.REDIS_URL))
    return settings.REDIS_URL


@pytest.fixture
def postgres(db) -> None:
    need_server("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Every test writes audio into its own folder; FileSystemStorage follows the setting.
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@example.com")


@pytest.fixture
def other_user(db):
    return UserFactory(email="other@example.com")


@pytest.fixture
def outsider(db):
    return UserFactory(email="outsider@example.com")


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def owner_client(owner) -> APIClient:
    return client_for(owner)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (in a thread of this process) consuming the configured broker:
    Redis in CI, kombu's filesystem transport on a bare machine."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    from podnex.celery import app

    def _close_connections(**kwargs):
        # The worker thread's DB connections must not outlive the test database.
        from django.db import connections

        connections.close_all()

    task_postrun.connect(_close_connections, weak=False)
    app.control.purge()
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=60, loglevel="WARNING"
    ):
        yield app
    task_postrun.disconnect(_close_connections)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness buys nothing in tests and costs seconds per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _rate_limits_per_test(settings):
    """Each test counts requests in its own rate-limit namespace, with limits high enough to
    stay out of the way; tests of the limits set their own. (A shared Redis is not flushed:
    in CI the Celery broker lives in the same database.)"""
    if settings.CACHES["default"]["BACKEND"] == "podnex.cache_db.DatabaseCache":
        # The shipped cache without Redis is a database table (tests/shipped test it through
        # `make run`, tests/shipped/test_cache_db.py its counters); elsewhere its queries
        # would blur the query counts and need a database in tests that have none.
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.RATE_LIMIT_KEY_PREFIX = f"rl-test-{uuid.uuid4().hex}"
    settings.RATE_LIMIT_MAX_REQUESTS = 10_000
    settings.RATE_LIMIT_BURSTS = {scope: (10_000, 60) for scope in settings.RATE_LIMIT_BURSTS}
    # allauth's own limits (sign-up, e-mail, password reset) count in the same shared cache
    # and would carry over between runs on one Redis: off here, as ours are raised above.
    settings.ACCOUNT_RATE_LIMITS = False
    cache = caches[settings.RATE_LIMIT_CACHE]
    if isinstance(cache, LocMemCache):
        cache.clear()
