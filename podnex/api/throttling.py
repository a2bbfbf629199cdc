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
"""

from __future__ import annotations

import logging
import time

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
        name, limit, seconds = spec
        try:
            self.window = ratelimit.hit(name, limit=limit, window=seconds)
        except Exception:
            # Fail open: a cache outage must not take the whole API down with it.
            logger.exception("rate limit counter unavailable; letting the request through")
            _record(request, None)
            return True
        _record(request, self.window)
        return self.window.allowed

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
