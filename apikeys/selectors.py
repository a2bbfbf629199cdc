"""Reads of API keys."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches

from apikeys.models import ApiKey
from apikeys.services import pending_uses_key


def api_key_by_digest(*, digest: str) -> ApiKey | None:
    """One indexed query (the unique index on `key`), with the owner joined."""
    try:
        return ApiKey.objects.select_related("user").get(key=digest)
    except ApiKey.DoesNotExist:
        return None


def api_key_list(*, user) -> list[ApiKey]:
    """The user's keys (revoked ones too, marked inactive), newest first."""
    return with_pending_uses(list(ApiKey.objects.filter(user=user).order_by("-created_at", "id")))


def with_pending_uses(api_keys: list[ApiKey]) -> list[ApiKey]:
    """Add the uses counted in the cache but not yet written to the rows (see
    services.api_key_record_use), so that usageCount is exact when shown."""
    if api_keys and settings.API_KEY_USAGE_FLUSH_SECONDS:
        cache = caches[settings.RATE_LIMIT_CACHE]
        pending = cache.get_many([pending_uses_key(k.pk) for k in api_keys])
        for api_key in api_keys:
            api_key.usage_count += int(pending.get(pending_uses_key(api_key.pk)) or 0)
    return api_keys
