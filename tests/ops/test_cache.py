"""The Redis cache (rate limits, API key usage, idempotency) keeps its connections across
requests: Django makes a cache object per thread and per ASGI request, and each one must not
open its own connection (django-redis shares one pool per process)."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import caches
from django_redis import get_redis_connection


@pytest.mark.redis
def test_cache_objects_of_different_threads_share_one_connection(redis_url):
    seen = []
    pool = get_redis_connection("default").connection_pool
    caches["default"].get("shared-pool-test:warm-up")  # one idle connection in the pool
    created = pool._created_connections

    def use_the_cache(n: int) -> None:
        cache = caches["default"]  # a new object in each thread
        cache.set(f"shared-pool-test:{n}", n, timeout=30)
        assert cache.get(f"shared-pool-test:{n}") == n
        seen.append((cache, get_redis_connection("default").connection_pool))

    for n in range(5):  # one after the other: one connection is enough for all of them
        thread = threading.Thread(target=use_the_cache, args=(n,))
        thread.start()
        thread.join()

    assert len({id(cache) for cache, _ in seen}) == 5
    assert {id(pool_seen) for _, pool_seen in seen} == {id(pool)}
    assert pool._created_connections == created  # each thread reused the idle connection
