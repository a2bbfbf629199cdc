"""Domain errors and the contract's error shape:
{"success": false, "error": "<human message>", "code": "<snake_case_code>", "details"?: {...}}

The handlers that render errors are in podnex.api.handlers. This module imports no DRF
view: authentication and permission classes (which DRF's views load) import it.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import status


class DomainError(Exception):
    """A business rule said no. Subclasses set the HTTP status and the error code."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "bad_request"
    message = "Bad request"

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra: Any):
        self.message = message or self.message
        if code:
            self.code = code
        self.extra = extra
        super().__init__(self.message)


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    message = "Not found"


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"
    message = "The object is not in a state that allows this"


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "forbidden"
    message = "You do not have permission to perform this action"


class InvalidInput(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "validation_error"
    message = "Invalid input"


def error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"success": False, "error": message, "code": code, **extra}


DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable() -> JsonResponse:
    response = JsonResponse(
        error_body("The database is unavailable; try again shortly", "database_unavailable"),
        status=503,
    )
    response["Retry-After"] = "5"
    return response


def body_limit(path: str) -> int:
    """The largest body an /api/ request to `path` may send: more for the upload routes."""
    if re.match(settings.API_UPLOAD_PATHS, path):
        return settings.API_UPLOAD_MAX_BYTES
    return settings.API_MAX_BODY_BYTES


def payload_too_large(path: str = "") -> JsonResponse:
    limit = body_limit(path)
    return JsonResponse(
        error_body(
            f"Request body too large (at most {limit} bytes)",
            "payload_too_large",
            maxBytes=limit,
        ),
        status=413,
    )


class PayloadTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"
    message = "Too large"


class UnsupportedMediaType(DomainError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"
    message = "Unsupported media type"
