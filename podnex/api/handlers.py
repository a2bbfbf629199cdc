"""The one DRF exception handler and Django's error views, rendering every error in the
contract's shape (podnex.api.errors.error_body)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from podnex.api.errors import DATABASE_ERRORS, DomainError, database_unavailable, error_body

# DRF exception class -> (code, message override or None)
_DRF_CODES: dict[type, tuple[str, str | None]] = {
    exceptions.ValidationError: ("validation_error", "Invalid input"),
    exceptions.ParseError: ("malformed_request", None),
    exceptions.NotAuthenticated: ("not_authenticated", "Authentication required"),
    exceptions.AuthenticationFailed: ("authentication_failed", None),
    exceptions.PermissionDenied: ("forbidden", None),
    exceptions.NotFound: ("not_found", "Not found"),
    exceptions.MethodNotAllowed: ("method_not_allowed", None),
    exceptions.NotAcceptable: ("not_acceptable", None),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", None),
    exceptions.Throttled: ("rate_limited", "Too many requests"),
}


def _drf_code(exc: exceptions.APIException) -> tuple[str, str | None]:
    # A DRF exception subclass may name its own code (e.g. apikeys' InvalidApiKey).
    if isinstance(getattr(exc, "error_code", None), str):
        return exc.error_code, None
    for cls in type(exc).__mro__:
        if cls in _DRF_CODES:
            return _DRF_CODES[cls]
    return (exc.default_code if isinstance(exc.default_code, str) else "error", None)


def _message_of(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _message_of(detail[0])
    if isinstance(detail, dict) and detail:
        return _message_of(next(iter(detail.values())))
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.message, exc.code, **exc.extra), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    code, message = _drf_code(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"nonFieldErrors": exc.detail}
        extra["details"] = details
        message = f"{message}: {_message_of(details)}"
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra["retryAfter"] = int(exc.wait + 0.999)
    response.data = error_body(message or _message_of(exc.detail), code, **extra)
    return response


def json_error(request, message: str, code: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(message, code), status=status_code)


def handler404(request, exception=None) -> JsonResponse:
    return json_error(request, "Not found", "not_found", 404)


def handler500(request) -> JsonResponse:
    # Called while the exception is being handled: a database outage outside a view (session
    # or auth middleware) is a 503 too.
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return database_unavailable()
    return json_error(request, "Internal server error", "server_error", 500)


def handler400(request, exception=None) -> JsonResponse:
    return json_error(request, "Bad request", "bad_request", 400)


def handler403(request, exception=None) -> JsonResponse:
    return json_error(request, "Forbidden", "forbidden", 403)
