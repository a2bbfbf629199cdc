"""Authentication classes shared by every /api/v1 view."""

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's app session token (X-Session-Token). An invalid token is a 401, not a
    silent anonymous request, and it names itself in WWW-Authenticate so that DRF answers
    401 (not 403) to a request without credentials."""

    allow_invalid_session_tokens = False

    def authenticate_header(self, request) -> str:
        return "X-Session-Token"


class SessionTokenScheme(OpenApiAuthenticationExtension):
    target_class = SessionTokenAuthentication
    name = "sessionToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Session-Token",
            "description": "Session token from /api/auth/app/v1/auth/login or signup.",
        }
