"""Each API key's own limit: its `rateLimit` requests per hour (on top of its owner's
per-user limit, which all of the owner's keys and sessions share)."""

from __future__ import annotations

from apikeys.models import ApiKey
from podnex.api.throttling import FixedWindowThrottle

API_KEY_WINDOW_SECONDS = 3600


class ApiKeyRateThrottle(FixedWindowThrottle):
    def bucket(self, request, view):
        api_key = getattr(request, "auth", None)
        if not isinstance(api_key, ApiKey):
            return None
        return f"apikey:{api_key.pk}", api_key.rate_limit, API_KEY_WINDOW_SECONDS
