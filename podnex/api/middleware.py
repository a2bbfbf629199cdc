"""API middleware: request body limits (413), database outages (503), and the
X-RateLimit-* headers on every /api/v1 response of a rate-limited DRF view.

DRF runs throttles after authentication and permissions, so a request refused with 401 or
403 never reaches them. Such requests still count here, in the client's user or IP bucket
(and its API key's), so that guessing keys or hammering a forbidden route is limited too:
past the limit the refusal becomes a 429.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.views import APIView

from podnex.api import ratelimit
from podnex.api.errors import (
    DATABASE_ERRORS,
    body_limit,
    database_unavailable,
    error_body,
    payload_too_large,
)
from podnex.api.throttling import (
    RATE_LIMITED_PATH_PREFIX,
    FixedWindowThrottle,
    deferred_counters_flush,
    rate_limit_windows,
    throttles_hit,
)

logger = logging.getLogger(__name__)


class RateLimitHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        windows = rate_limit_windows(request)
        if windows is None:
            response, windows = self._count_refused_request(request, response)
        if windows:
            _set_headers(response, _tightest(windows))
        deferred_counters_flush(request)  # those no throttle took along
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        request.rate_limit_view_class = getattr(view_func, "cls", None)

    def _count_refused_request(self, request, response):
        view_class = getattr(request, "rate_limit_view_class", None)
        if (
            view_class is None
            or not issubclass(view_class, APIView)
            or not request.path.startswith(RATE_LIMITED_PATH_PREFIX)
        ):
            return response, None
        throttles = [
            cls()
            for cls in view_class.throttle_classes
            if issubclass(cls, FixedWindowThrottle) and cls.counts_rejected_requests
        ]
        throttles_hit(request, throttles, None)  # all in one round trip
        refused = [t for t in throttles if not t.allow_request(request, None)]
        if refused:
            wait = max(t.wait() or 1 for t in refused)
            response = JsonResponse(
                error_body("Too many requests", "rate_limited", retryAfter=wait), status=429
            )
            response["Retry-After"] = str(wait)
        return response, rate_limit_windows(request)


def _tightest(windows: list[ratelimit.Window]) -> ratelimit.Window:
    refused = [w for w in windows if not w.allowed]
    if refused:
        return max(refused, key=lambda w: w.reset_at)
    return min(windows, key=lambda w: (w.remaining, w.reset_at))


def _set_headers(response: HttpResponse, window: ratelimit.Window) -> None:
    response["X-RateLimit-Limit"] = str(window.limit)
    response["X-RateLimit-Remaining"] = str(window.remaining)
    response["X-RateLimit-Reset"] = str(int(window.reset_at))  # epoch seconds


class RequestBodyLimitMiddleware:
    """413 in the error shape for an /api/ request whose declared body is larger than
    API_MAX_BODY_BYTES, before anything reads or parses it. Bodies sent without a
    Content-Length (chunked) are counted as they arrive by `podnex.asgi.BodyLimitASGI`
    under ASGI, and by Django's DATA_UPLOAD_MAX_MEMORY_SIZE (set to the same figure)
    otherwise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return JsonResponse(
                    error_body("Invalid Content-Length header", "malformed_request"), status=400
                )
            if length > body_limit(request.path):
                return payload_too_large(request.path)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A view that cannot reach the database answers 503 `database_unavailable` in the error
    shape, not a 500. (Failures outside views reach `handler500`, which does the same.)
    Django drops a broken connection at the end of the request, so the next request
    connects afresh: the service recovers by itself when the database returns."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.error("database unavailable: %s", exception)
            return database_unavailable()
        return None
