"""Hostile input answers 4xx in the contract's error shape, never 5xx.

Three nets, from the front door inward:
- `HostileInputMiddleware` refuses a NUL byte anywhere in the path (404: nothing of ours
  has such a name), the query, a header or a cookie (400 `malformed_request`) before any
  code looks the value up: PostgreSQL cannot
  store or compare text with NUL (DataError), and no id, token or key of ours contains one.
- the same middleware turns what the database or the parser refuses inside a view
  (`DataError`: a value it cannot hold; a lone surrogate it cannot encode; JSON nested past
  the interpreter's stack) into a 400 instead of a 500, for our views and allauth's alike;
- `ApiErrorShapeMiddleware` gives every 4xx under /api/ that Django rendered as HTML (an
  unknown route in development, a 405 of a plain view) the error shape, and
  `csrf_failure` does so for CSRF refusals of the browser auth API.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.csrf import csrf_failure as django_csrf_failure

from podnex.api.errors import error_body

logger = logging.getLogger(__name__)

NUL = "\x00"
API_PREFIX = "/api/"


def _nul_in_request(request: HttpRequest) -> str | None:
    """Where a NUL byte hides in the request, if anywhere."""
    if NUL in request.path_info:
        return "path"
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in value for value in values):
            return "query"
    for key, value in request.META.items():
        if (key.startswith("HTTP_") or key.startswith("CONTENT_")) and NUL in str(value):
            return "headers"
    # Cookie values are unquoted by Django ("\000" becomes a NUL), so check them decoded.
    if any(NUL in value for value in request.COOKIES.values()):
        return "cookies"
    return None


def _refused_value(exception: Exception) -> str | None:
    """Why a value from the request could not be handled, if that is what `exception` is."""
    if isinstance(exception, DataError):
        return "A value in the request is out of range or cannot be stored"
    if isinstance(exception, RecursionError):
        return "The request body is nested too deeply"
    if isinstance(exception, UnicodeEncodeError) and "surrogate" in str(exception):
        return "The request contains an unpaired UTF-16 surrogate"
    return None


class HostileInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = _nul_in_request(request)
        if where == "path":
            # No id, token or route of ours contains a NUL: what it names does not exist.
            return JsonResponse(error_body("Not found", "not_found"), status=404)
        if where is not None:
            return JsonResponse(
                error_body(f"NUL bytes are not allowed in the {where}", "malformed_request"),
                status=400,
            )
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        reason = _refused_value(exception)
        if reason is None:
            return None
        logger.warning("refused request value: %s: %s", type(exception).__name__, exception)
        return JsonResponse(error_body(reason, "invalid_value"), status=400)


def _code_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


class ApiErrorShapeMiddleware:
    """A 4xx under /api/ that is not JSON (Django's HTML 404 page in development, a plain
    view's 405) is answered in the error shape, keeping its status and headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and 400 <= response.status_code < 500
            and not getattr(response, "streaming", False)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return _reshaped(response)
        return response


def _reshaped(response: HttpResponse) -> JsonResponse:
    status = response.status_code
    code = "not_found" if status == 404 else _code_of(status)
    message = "Not found" if status == 404 else HTTPStatus(status).phrase
    shaped = JsonResponse(error_body(message, code), status=status)
    for name, value in response.items():
        if name.lower() not in ("content-type", "content-length"):
            shaped[name] = value
    return shaped


def csrf_failure(request: HttpRequest, reason: str = "", **kwargs) -> HttpResponse:
    """CSRF_FAILURE_VIEW: the error shape under /api/, Django's page elsewhere (admin)."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body(f"CSRF check failed: {reason}", "csrf_failed"), status=403)
    return django_csrf_failure(request, reason=reason, **kwargs)
