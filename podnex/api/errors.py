"""Domain errors and the contract's error shape:
{"success": false, "error": "<human message>", "code": "<snake_case_code>", "details"?: {...}}

The handlers that render errors are in podnex.api.handlers. This module imports no DRF
view: authentication and permission classes (which DRF's views load) import it.
"""

from __future__ import annotations

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


def payload_too_large() -> JsonResponse:
    return JsonResponse(
        error_body(
            f"Request body too large (at most {settings.API_MAX_BODY_BYTES} bytes)",
            "payload_too_large",
            maxBytes=settings.API_MAX_BODY_BYTES,
        ),
        status=413,
    )
