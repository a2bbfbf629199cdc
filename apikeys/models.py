"""ApiKey, field by field as the plan's Prisma schema. `key` holds a digest, never the key."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from podnex.models import IdField

DEFAULT_SCOPES = ["podcast:create", "podcast:read"]


def default_scopes() -> list[str]:
    return list(DEFAULT_SCOPES)


class ApiKey(models.Model):
    RATE_LIMIT_DEFAULT = 60  # requests per hour
    RATE_LIMIT_MAX = 100_000

    id = IdField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )

    name = models.CharField(max_length=100)
    key = models.CharField(max_length=128, unique=True)  # digest of the key
    prefix = models.CharField(max_length=32)  # shown in lists, e.g. "pk_live_ab12"

    scopes = models.JSONField(default=default_scopes)

    active = models.BooleanField(default=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    usage_count = models.IntegerField(default=0)

    rate_limit = models.IntegerField(default=RATE_LIMIT_DEFAULT)  # requests per hour

    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user"])]
        # `key` is unique, so it already has its own index (the plan's @@index([key])).

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
