"""OpenAPI: the X-API-Key security scheme with its scopes, and the scope each operation needs.

OpenAPI 3.0 allows scope lists only for OAuth2, so each operation's scope is written into its
description and an `x-required-scope` field; operations that refuse API keys list no
ApiKeyAuth security requirement.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from apikeys.scopes import SCOPES, required_scope
from podnex.api.throttling import FixedWindowThrottle


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        scopes = "\n".join(f"- `{scope}`: {text}" for scope, text in SCOPES.items())
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": (
                "An API key (`pk_live_...`), also accepted as `Authorization: Bearer <key>`. "
                "Each operation names the scope it needs; a key without it gets 403 "
                f"`insufficient_scope`. Scopes:\n{scopes}"
            ),
        }

    def get_security_requirement(self, auto_schema):
        if _scope(auto_schema) is None:
            return None
        return {self.name: []}


def _scope(auto_schema) -> str | None:
    return required_scope(auto_schema.view, auto_schema.method.upper())


class AutoSchema(SpectacularAutoSchema):
    def get_description(self) -> str:
        description = super().get_description() or ""
        scope = _scope(self)
        note = (
            f"API key scope: `{scope}`."
            if scope
            else "Not available with an API key: needs a signed-in session."
        )
        return f"{description}\n\n{note}".strip()

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and _rate_limited(self.view):
            _document_rate_limits(operation)
        if operation is not None:
            scope = _scope(self)
            if scope:
                operation["x-required-scope"] = scope
            _document_forbidden(operation)
            body = operation.get("requestBody")
            if body and getattr(self.get_request_serializer(), "min_properties", None):
                body["required"] = True  # an empty PATCH is refused
        return operation

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        result = super()._map_serializer_field(field, direction, bypass_extensions)
        extra = getattr(field, "schema", None)
        if callable(extra):  # podnex.api.fields.DocumentedCharField
            result = {**result, **extra()}
        return result

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        result = super()._map_serializer(serializer, direction, bypass_extensions)
        # A request body that refuses unknown fields must say so, or clients (and the
        # schemathesis run in the tests) rightly expect extra fields to be ignored.
        if direction == "request" and getattr(serializer, "rejects_unknown_fields", False):
            result = {**result, "additionalProperties": False}
        if direction == "request" and getattr(serializer, "min_properties", None):
            result = {**result, "minProperties": serializer.min_properties}
        return result


def _rate_limited(view) -> bool:
    return any(isinstance(t, FixedWindowThrottle) for t in view.get_throttles())


_INTEGER_HEADER = {"schema": {"type": "integer"}}
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {**_INTEGER_HEADER, "description": "Requests allowed in the window"},
    "X-RateLimit-Remaining": {**_INTEGER_HEADER, "description": "Requests left in the window"},
    "X-RateLimit-Reset": {**_INTEGER_HEADER, "description": "When the window ends (epoch s)"},
}


def _document_rate_limits(operation: dict) -> None:
    responses = operation.setdefault("responses", {})
    responses.setdefault(
        "429",
        {
            "description": "Too many requests; `retryAfter` seconds, as the Retry-After header",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            "headers": {"Retry-After": {**_INTEGER_HEADER, "description": "Seconds to wait"}},
        },
    )
    for response in responses.values():
        response.setdefault("headers", {}).update(RATE_LIMIT_HEADERS)


def _document_forbidden(operation: dict) -> None:
    """Every authenticated operation can answer 403 (an API key without the scope, or on a
    route that needs a signed-in session), in the same error shape as its 401."""
    responses = operation.get("responses", {})
    if "401" in responses and "403" not in responses:
        responses["403"] = {**responses["401"], "description": "Forbidden"}
