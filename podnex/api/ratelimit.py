"""Fixed-window request counters in the shared cache (Redis when REDIS_URL is set), so that a
limit holds across every web process, not per process.

A bucket ("user:<id>", "ip:<addr>", "apikey:<id>", ...) counts requests in windows of
`window` seconds. Each bucket's windows are shifted by a stable offset derived from its name,
so that not every client's window resets at the same second. One round trip per hit: on
Redis an INCR and an EXPIRE NX in one MULTI/EXEC (atomic; a crash cannot leave a counter
without its expiry); on other backends `add` then `incr`, which locmem makes atomic per
process.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


@dataclass(frozen=True)
class Window:
    """One bucket's state after a hit: what the X-RateLimit-* headers report."""

    limit: int
    count: int
    reset_at: float  # epoch seconds when the current window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(self.limit - self.count, 0)

    def seconds_to_reset(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        return max(1, math.ceil(self.reset_at - now))


def hit(bucket: str, *, limit: int, window: int, now: float | None = None) -> Window:
    """Count one request in `bucket` and return the window it fell into."""
    now = time.time() if now is None else now
    offset = zlib.crc32(bucket.encode()) % window
    start = math.floor((now - offset) / window) * window + offset
    reset_at = start + window
    key = f"{settings.RATE_LIMIT_KEY_PREFIX}:{bucket}:{window}:{start}"
    # The key names its window, so the expiry only has to outlive it.
    count = counter_incr(key, ttl=math.ceil(reset_at - now) + 1)
    return Window(limit=limit, count=count, reset_at=reset_at)


def counter_incr(key: str, *, ttl: int, delta: int = 1, refresh_ttl: bool = False) -> int:
    """Atomically add `delta` to the integer at `key` (created at 0 with expiry `ttl`
    seconds; `refresh_ttl` pushes the expiry back on every call) and return the new value.
    The value reads back as an int through the same cache's `get`."""
    cache = caches[settings.RATE_LIMIT_CACHE]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        client = _redis_client(cache, full_key)
        with client.pipeline(transaction=True) as pipe:
            pipe.incrby(full_key, delta)
            pipe.expire(full_key, ttl, nx=not refresh_ttl)
            count, _ = pipe.execute()
        return int(count)
    cache.add(key, 0, timeout=ttl)
    try:
        count = cache.incr(key, delta)
    except ValueError:  # expired between add and incr
        cache.set(key, delta, timeout=ttl)
        return delta
    if refresh_ttl:
        cache.touch(key, timeout=ttl)
    return count


def _redis_client(cache: RedisCache, full_key: str):
    # Django builds a new redis.Redis (hundreds of dict writes) on every get_client call;
    # a client is thread-safe and this cache object is per thread, so keep one.
    backend = cache._cache
    client = getattr(backend, "_podnex_write_client", None)
    if client is None:
        client = backend._podnex_write_client = backend.get_client(full_key, write=True)
    return client
