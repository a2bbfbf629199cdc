"""The cache of a stack without Redis (podnex.cache_db.DatabaseCache): counters that several
connections increment at once lose no increment, so one client has one count."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connections

from podnex.api import ratelimit
from podnex.cache_db import DatabaseCache


@pytest.fixture
def db_cache(transactional_db, settings):
    settings.CACHES = {
        "default": {"BACKEND": "podnex.cache_db.DatabaseCache", "LOCATION": "podnex_cache"}
    }
    # With REDIS_URL (CI) the test database was made without the cache table.
    call_command("createcachetable")
    assert isinstance(caches["default"], DatabaseCache)
    return caches["default"]


def test_counters_from_many_connections_add_up_exactly(db_cache):
    threads, per_thread = 4, 25
    errors = []

    def count():
        try:
            for _ in range(per_thread):
                ratelimit.counter_incr("db-cache-test:hits", ttl=60)
        except Exception as exc:  # reported below: a lost increment or a lock error
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=count) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    assert db_cache.get("db-cache-test:hits") == threads * per_thread


def test_a_window_counts_down_and_resets(db_cache):
    now = 1_800_000_000.0
    first = ratelimit.hit("db-cache-test:window", limit=2, window=60, now=now)
    assert first.remaining == 1
    assert ratelimit.hit("db-cache-test:window", limit=2, window=60, now=now).remaining == 0
    assert not ratelimit.hit("db-cache-test:window", limit=2, window=60, now=now).allowed
    after = ratelimit.hit("db-cache-test:window", limit=2, window=60, now=first.reset_at)
    assert after.count == 1


def test_migrate_makes_the_cache_table_whatever_cache_the_migrating_process_uses(db):
    # The test database was migrated by this process (in CI with Redis as its cache); a
    # process without REDIS_URL serving it (the Procfile web line in the process tests)
    # must still find the table.
    assert "podnex_cache" in connections["default"].introspection.table_names()
