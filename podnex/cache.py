"""Django's Redis cache with one connection pool per process instead of one per cache object.

Django keeps a cache object per context (`django.core.cache.caches` is an asgiref Local), and
under ASGI every request runs in a fresh context, so the stock RedisCache built a new client,
a new ConnectionPool and therefore a new TCP connection for every request: a connect, the
HELLO / CLIENT SETINFO / SELECT handshake (five round trips) and a close on top of the one
round trip the request needed (bench/bench_request_overhead.py measures it). Here the pools,
and the redis.Redis clients over them, are shared by every cache object of the process.

redis-py pools are thread-safe and check their pid, so a forked child (Celery prefork) starts
its own connections instead of sharing the parent's sockets.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_LOCK = threading.Lock()
_POOLS: dict[tuple, object] = {}
_CLIENTS: dict[tuple, object] = {}


class _SharedPoolRedisCacheClient(RedisCacheClient):
    def _pool_key(self, index: int) -> tuple:
        options = tuple(sorted((k, repr(v)) for k, v in self._pool_options.items()))
        return (self._servers[index], self._pool_class, options)

    def _get_connection_pool(self, write):
        key = self._pool_key(self._get_connection_pool_index(write))
        pool = _POOLS.get(key)
        if pool is None:
            with _LOCK:
                pool = _POOLS.get(key)
                if pool is None:
                    pool = _POOLS[key] = self._pool_class.from_url(key[0], **self._pool_options)
        return pool

    def get_client(self, key=None, *, write=False):
        # Django builds a new redis.Redis (hundreds of dict writes) per call; a client is
        # thread-safe, so one per pool.
        pool = self._get_connection_pool(write)
        client = _CLIENTS.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = _CLIENTS[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _SharedPoolRedisCacheClient
