"""Rate limits as DRF throttle classes (REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]).

Every throttle counts in the shared cache through `podnex.api.ratelimit`, records the window
it saw on the request, and `RateLimitHeadersMiddleware` turns the tightest one into the
X-RateLimit-* headers of the response. Rate limits apply to the DRF views under /api/v1/;
health, schema and docs are exempt.

- `UserRateThrottle`: RATE_LIMIT_MAX_REQUESTS per RATE_LIMIT_WINDOW_MS per user (sessions
  and all of the user's API keys share it), or per client IP when unauthenticated.
- `apikeys.throttling.ApiKeyRateThrottle`: each key's own `rateLimit` per hour.
- `BurstRateThrottle`: tighter limits on expensive calls; a view opts in with
  `burst_limits = {"POST": "podcast_create"}` naming an entry of RATE_LIMIT_BURSTS.

One round trip per request whatever the number of limits: the first throttle to run counts
the request in the buckets of all the view's throttles at once (`throttles_hit`), together
with the counters that code earlier in the request deferred to it (`counter_defer`: an API
key's usage count), and the others read their window from the request. Deferred counters
that no throttle took (a path without limits) are added by RateLimitHeadersMiddleware.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from podnex.api import ratelimit

logger = logging.getLogger(__name__)

RATE_LIMITED_PATH_PREFIX = "/api/v1/"


def rate_limit_windows(request) -> list[ratelimit.Window] | None:
    """The windows the throttles recorded for this request; None if none ran."""
    http_request = getattr(request, "_request", request)
    return getattr(http_request, "rate_limit_windows", None)


def _record(request, window: ratelimit.Window | None) -> None:
    http_request = getattr(request, "_request", request)
    windows = getattr(http_request, "rate_limit_windows", None)
    if windows is None:
        windows = http_request.rate_limit_windows = []
    if window is not None:
        windows.append(window)


def _http_request(request):
    return getattr(request, "_request", request)


def counter_defer(request, count: ratelimit.Count, then: Callable[[int], None]) -> None:
    """Add to `count` in the same round trip as the request's rate limits, then call
    `then(new value)`. If the counting fails, `then` is not called (the error is logged)."""
    http_request = _http_request(request)
    pending = getattr(http_request, "rate_limit_deferred", None)
    if pending is None:
        pending = http_request.rate_limit_deferred = []
    pending.append((count, then))


def deferred_counters_flush(request) -> None:
    """Add the deferred counters no throttle took (RateLimitHeadersMiddleware calls this)."""
    if getattr(_http_request(request), "rate_limit_deferred", None):
        _count(request, [])


def throttles_hit(request, throttles, view) -> None:
    """Count the request in the buckets of all these throttles (and the deferred counters) in
    one round trip, keeping each window on the request for the throttle's allow_request."""
    specs = []
    for throttle in throttles:
        if isinstance(throttle, FixedWindowThrottle):
            spec = throttle.bucket(request, view)
            if spec is not None and spec not in specs:
                specs.append(spec)
    _count(request, specs)


def _count(request, specs: list[tuple[str, int, int]]) -> None:
    http_request = _http_request(request)
    deferred = getattr(http_request, "rate_limit_deferred", None) or []
    http_request.rate_limit_deferred = []
    try:
        windows, values = ratelimit.hits(specs, also=[count for count, _ in deferred])
    except Exception:
        # Fail open: a cache outage must not take the whole API down with it. The throttles
        # find no window and let the request through.
        logger.exception("rate limit counters unavailable; letting the request through")
        return
    seen = getattr(http_request, "rate_limit_seen", None)
    if seen is None:
        seen = http_request.rate_limit_seen = {}
    seen.update(zip(specs, windows, strict=True))
    for then, value in zip([then for _, then in deferred], values, strict=True):
        then(value)


class FixedWindowThrottle(BaseThrottle):
    """Base: subclasses say which bucket a request counts in, with its limit and window."""

    # Whether a request refused before the throttles ran (401, 403) still counts here;
    # see RateLimitHeadersMiddleware.
    counts_rejected_requests = True

    def bucket(self, request, view) -> tuple[str, int, int] | None:
        """(bucket name, limit, window in seconds), or None when this limit does not apply."""
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        self.window = None
        if not request.path.startswith(RATE_LIMITED_PATH_PREFIX):
            return True
        spec = self.bucket(request, view)
        if spec is None:
            _record(request, None)
            return True
        seen = getattr(_http_request(request), "rate_limit_seen", {})
        if spec not in seen:
            # The first throttle of the request: count in every throttle's bucket at once.
            throttles = view.get_throttles() if view is not None else []
            throttles_hit(request, [self, *throttles], view)
            seen = getattr(_http_request(request), "rate_limit_seen", {})
        self.window = seen.pop(spec, None)  # popped: a second check counts again
        _record(request, self.window)
        return self.window is None or self.window.allowed

    def wait(self) -> int | None:
        # Whole seconds, so the Retry-After header and the body's retryAfter agree.
        return self.window.seconds_to_reset(time.time()) if self.window else None

    def client_id(self, request) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{self.get_ident(request)}"


class UserRateThrottle(FixedWindowThrottle):
    def bucket(self, request, view):
        window = max(1, settings.RATE_LIMIT_WINDOW_MS // 1000)
        return self.client_id(request), settings.RATE_LIMIT_MAX_REQUESTS, window


class BurstRateThrottle(FixedWindowThrottle):
    # A refused create created nothing: it does not use up the burst allowance.
    counts_rejected_requests = False

    def bucket(self, request, view):
        scope = (getattr(view, "burst_limits", None) or {}).get(request.method)
        if scope is None:
            return None
        limit, window = settings.RATE_LIMIT_BURSTS[scope]
        return f"burst:{scope}:{self.client_id(request)}", limit, window
