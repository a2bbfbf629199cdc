"""Authentication classes shared by every /api/v1 view."""

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's app session token (X-Session-Token). An invalid token is a 401, not a
    silent anonymous request, and it names itself in WWW-Authenticate so that DRF answers
    401 (not 403) to a request without credentials."""

    allow_invalid_session_tokens = False

    def authenticate_header(self, request) -> str:
        return "X-Session-Token"
