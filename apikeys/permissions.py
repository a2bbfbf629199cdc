"""Scope checks for API-key requests. In REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"], after
IsAuthenticated, so every view gets it; see apikeys.scopes for how a view declares scopes."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from apikeys.models import ApiKey
from apikeys.scopes import required_scope
from podnex.api.errors import Forbidden


class ApiKeyScopePermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True  # a signed-in session has every scope
        scope = required_scope(view, request.method)
        if scope is None:
            raise Forbidden(
                "This endpoint cannot be used with an API key; sign in instead",
                code="api_key_not_allowed",
            )
        if scope not in api_key.scopes:
            raise Forbidden(
                f"This API key lacks the '{scope}' scope",
                code="insufficient_scope",
                requiredScope=scope,
            )
        return True
