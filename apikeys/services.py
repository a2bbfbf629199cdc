"""Writes and rules of API keys: create (the only time the key is seen), update, revoke, and
usage tracking."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apikeys import keys
from apikeys.models import DEFAULT_SCOPES, ApiKey
from podnex.api import ratelimit, throttling
from podnex.api.errors import Conflict, Forbidden, NotFound

logger = logging.getLogger(__name__)

# Uses counted in the cache and not yet written to the row expire after this long idle.
PENDING_USES_TTL = 30 * 24 * 3600


def api_key_create(
    *,
    user,
    name: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    rate_limit: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for `user`; returns the row and the key, which is never seen again."""
    with transaction.atomic():
        # Lock the owner: two concurrent creates must not both slip under the per-user cap.
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        usable = ApiKey.objects.filter(user=user, active=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )
        if usable.count() >= settings.API_KEY_MAX_PER_USER:
            raise Forbidden(
                f"You already have {settings.API_KEY_MAX_PER_USER} active API keys; "
                "revoke one first",
                code="api_key_limit_reached",
            )
        raw_key = keys.key_generate()
        api_key = ApiKey.objects.create(
            user=user,
            name=name,
            key=keys.key_digest(raw_key),
            prefix=keys.key_display_prefix(raw_key),
            scopes=list(scopes) if scopes is not None else list(DEFAULT_SCOPES),
            expires_at=expires_at,
            rate_limit=rate_limit if rate_limit is not None else ApiKey.RATE_LIMIT_DEFAULT,
        )
    return api_key, raw_key


def api_key_update(
    *,
    user,
    api_key_id: str,
    name: str | None = None,
    scopes: list[str] | None = None,
    rate_limit: int | None = None,
) -> ApiKey:
    with transaction.atomic():
        # Lock the row: a concurrent revoke must not be undone by this save.
        api_key = _own_key(user=user, api_key_id=api_key_id, lock=True)
        if not api_key.active:
            raise Conflict("This API key has been revoked", code="api_key_revoked")
        changed = []
        for field, value in (("name", name), ("scopes", scopes), ("rate_limit", rate_limit)):
            if value is not None:
                setattr(api_key, field, list(value) if field == "scopes" else value)
                changed.append(field)
        if changed:
            api_key.save(update_fields=changed)
    return api_key


def api_key_revoke(*, user, api_key_id: str) -> ApiKey:
    """Revoke at once: authentication checks `active` on every request (nothing caches a
    key). Revoking a revoked key is a no-op."""
    api_key = _own_key(user=user, api_key_id=api_key_id)
    if api_key.active:
        ApiKey.objects.filter(pk=api_key.pk).update(active=False)
        api_key.active = False
    return api_key


def api_keys_purge_expired(*, now: datetime | None = None) -> int:
    """The daily cleanup's part for keys: delete keys past their expiry. Returns how many."""
    _, deleted = ApiKey.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted.get(ApiKey._meta.label, 0)


def _own_key(*, user, api_key_id: str, lock: bool = False) -> ApiKey:
    queryset = ApiKey.objects.filter(user=user)
    if lock:
        queryset = queryset.select_for_update()
    try:
        return queryset.get(pk=api_key_id)
    except ApiKey.DoesNotExist:
        # Another user's key is as missing as one that never existed.
        raise NotFound("API key not found") from None


# --- Usage: lastUsedAt and usageCount --------------------------------------------------------


def pending_uses_key(api_key_id: str) -> str:
    return f"apikeys:uses:{api_key_id}"


def _flush_claim_key(api_key_id: str) -> str:
    return f"apikeys:flush:{api_key_id}"


def api_key_record_use(*, api_key: ApiKey, request=None) -> None:
    """Count one authenticated request.

    With API_KEY_USAGE_FLUSH_SECONDS = 0, one `UPDATE ... SET usage_count = usage_count + 1`
    per request. Otherwise (the default) uses are counted in the shared cache and written to
    the row at most once per interval per key, by whichever process claims the flush; so a
    busy key costs one UPDATE per interval instead of a row lock per request, `usageCount` is
    exact when listed (pending uses are added in) and `lastUsedAt` is at most one interval old.
    Given the `request`, the cache counter goes along with the request's rate-limit counters,
    in the same round trip (see podnex.api.throttling.counter_defer).
    """
    interval = settings.API_KEY_USAGE_FLUSH_SECONDS
    now = timezone.now()
    if interval == 0:
        ApiKey.objects.filter(pk=api_key.pk).update(
            usage_count=F("usage_count") + 1, last_used_at=now
        )
        return
    count = ratelimit.Count(pending_uses_key(api_key.pk), ttl=PENDING_USES_TTL, refresh_ttl=True)

    def flush_if_due(_pending: int) -> None:
        _usage_flush_if_due(api_key=api_key, now=now, interval=interval)

    if request is not None:
        throttling.counter_defer(request, count, flush_if_due)
        return
    try:
        ratelimit.counters_incr([count])
    except Exception:
        # Usage statistics must never fail the request they describe.
        logger.exception("could not record the use of API key %s", api_key.pk)
        return
    flush_if_due(0)


def _usage_flush_if_due(*, api_key: ApiKey, now: datetime, interval: int) -> None:
    try:
        if api_key.last_used_at and (now - api_key.last_used_at).total_seconds() < interval:
            return
        cache = caches[settings.RATE_LIMIT_CACHE]
        if not cache.add(_flush_claim_key(api_key.pk), 1, timeout=interval):
            return  # another request is flushing this key
        api_key_usage_flush(api_key_id=api_key.pk, now=now)
    except Exception:
        # Usage statistics must never fail the request they describe.
        logger.exception("could not record the use of API key %s", api_key.pk)


def api_key_usage_flush(*, api_key_id: str, now: datetime | None = None) -> None:
    """Move the uses counted in the cache into the row."""
    cache = caches[settings.RATE_LIMIT_CACHE]
    key = pending_uses_key(api_key_id)
    pending = int(cache.get(key) or 0)
    if pending:
        # Subtract what we read, not reset: uses counted meanwhile stay pending.
        ratelimit.counter_incr(key, ttl=PENDING_USES_TTL, delta=-pending, refresh_ttl=True)
    ApiKey.objects.filter(pk=api_key_id).update(
        usage_count=F("usage_count") + pending, last_used_at=now or timezone.now()
    )
