"""`X-API-Key: <key>` (or `Authorization: Bearer <key>`) authentication for DRF.

`request.user` becomes the key's owner and `request.auth` the ApiKey, which
`apikeys.permissions.ApiKeyScopePermission` reads for scopes. A presented key that is
malformed, unknown, revoked or expired is a 401; it is never ignored, so a client with a
broken key does not silently fall back to another credential.

Constant time with respect to the key: every presented key, well-formed or not, is hashed and
looked up by its digest (the index sees a digest, never the key's characters), and the stored
digest is compared with hmac.compare_digest.
"""

from __future__ import annotations

import hmac

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from apikeys import keys, selectors, services


class InvalidApiKey(exceptions.AuthenticationFailed):
    error_code = "invalid_api_key"
    default_detail = "Invalid API key"


class ExpiredApiKey(exceptions.AuthenticationFailed):
    error_code = "api_key_expired"
    default_detail = "This API key has expired"


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        raw_key = self.presented_key(request)
        if raw_key is None:
            return None
        digest = keys.key_digest(raw_key)
        api_key = selectors.api_key_by_digest(digest=digest)
        well_formed = keys.key_is_well_formed(raw_key)
        if (
            api_key is None
            or not hmac.compare_digest(api_key.key, digest)
            or not well_formed
            or not api_key.active
            or not api_key.user.is_active
        ):
            raise InvalidApiKey()
        if api_key.expires_at is not None and api_key.expires_at <= timezone.now():
            raise ExpiredApiKey()
        services.api_key_record_use(api_key=api_key, request=request)
        return api_key.user, api_key

    def presented_key(self, request) -> str | None:
        header = request.META.get("HTTP_X_API_KEY")
        if header is not None:
            return header.strip()
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == self.keyword.lower():
            return token.strip()
        return None

    def authenticate_header(self, request) -> str:
        # Names a credential so that DRF answers 401 (not 403) when none was sent.
        return 'ApiKey header="X-API-Key"'
