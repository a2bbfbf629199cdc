"""Fixed-window request counters in the shared cache (Redis when REDIS_URL is set), so that a
limit holds across every web process, not per process.

A bucket ("user:<id>", "ip:<addr>", "apikey:<id>", ...) counts requests in windows of
`window` seconds. Each bucket's windows are shifted by a stable offset derived from its name,
so that not every client's window resets at the same second. One round trip per batch of
counters (`counters_incr`; a request's limits and its API key's usage counter go together):
on Redis an INCRBY and an EXPIRE per counter in one MULTI/EXEC (atomic; a crash cannot leave a
counter without its expiry); on other backends `add` then `incr` per counter, which locmem
makes atomic per process.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache


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


@dataclass(frozen=True)
class Count:
    """One addition to a counter: see `counters_incr`."""

    key: str
    ttl: int  # seconds
    delta: int = 1
    refresh_ttl: bool = False


def window_count(bucket: str, *, window: int, now: float) -> tuple[Count, float]:
    """The counter of the window of `bucket` that `now` falls into, and when that ends."""
    offset = zlib.crc32(bucket.encode()) % window
    start = math.floor((now - offset) / window) * window + offset
    reset_at = start + window
    key = f"{settings.RATE_LIMIT_KEY_PREFIX}:{bucket}:{window}:{start}"
    # The key names its window, so the expiry only has to outlive it.
    return Count(key, ttl=math.ceil(reset_at - now) + 1), reset_at


def hits(
    buckets: list[tuple[str, int, int]], *, also: list[Count] = (), now: float | None = None
) -> tuple[list[Window], list[int]]:
    """Count one request in each (bucket, limit, window) and add the `also` counters, all in
    one round trip. Returns the windows, in order, and the `also` counters' new values."""
    now = time.time() if now is None else now
    counts, resets = [], []
    for bucket, _limit, window in buckets:
        count, reset_at = window_count(bucket, window=window, now=now)
        counts.append(count)
        resets.append(reset_at)
    values = counters_incr([*counts, *also])
    windows = [
        Window(limit=limit, count=value, reset_at=reset_at)
        for (_bucket, limit, _window), value, reset_at in zip(buckets, values, resets, strict=False)
    ]
    return windows, values[len(buckets) :]


def hit(bucket: str, *, limit: int, window: int, now: float | None = None) -> Window:
    """Count one request in `bucket` and return the window it fell into."""
    windows, _ = hits([(bucket, limit, window)], now=now)
    return windows[0]


def counter_incr(key: str, *, ttl: int, delta: int = 1, refresh_ttl: bool = False) -> int:
    """Atomically add `delta` to the integer at `key` (created at 0 with expiry `ttl`
    seconds; `refresh_ttl` pushes the expiry back on every call) and return the new value.
    The value reads back as an int through the same cache's `get`."""
    return counters_incr([Count(key, ttl=ttl, delta=delta, refresh_ttl=refresh_ttl)])[0]


def counters_incr(counts: list[Count]) -> list[int]:
    """`counter_incr` for several counters, in one round trip on Redis (one MULTI/EXEC:
    each counter is still added to atomically and never left without its expiry)."""
    if not counts:
        return []
    cache = caches[settings.RATE_LIMIT_CACHE]
    if isinstance(cache, RedisCache):
        full_keys = [cache.make_and_validate_key(count.key) for count in counts]
        client = get_redis_connection(settings.RATE_LIMIT_CACHE, write=True)
        with client.pipeline(transaction=True) as pipe:
            for count, full_key in zip(counts, full_keys, strict=True):
                pipe.incrby(full_key, count.delta)
                pipe.expire(full_key, count.ttl, nx=not count.refresh_ttl)
            replies = pipe.execute()
        return [int(value) for value in replies[0::2]]
    return [_local_incr(count, cache) for count in counts]


def _local_incr(count: Count, cache) -> int:
    cache.add(count.key, 0, timeout=count.ttl)
    try:
        value = cache.incr(count.key, count.delta)
    except ValueError:  # expired between add and incr
        cache.set(count.key, count.delta, timeout=count.ttl)
        return count.delta
    if count.refresh_ttl:
        cache.touch(count.key, timeout=count.ttl)
    return value
