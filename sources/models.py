"""Source: a URL, pasted text or an uploaded file, turned into clean speakable text that
podcasts can be written from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from podnex.models import IdField


class SourceType(models.TextChoices):
    URL = "URL", "Web page or file at a URL"
    TEXT = "TEXT", "Pasted text"
    FILE = "FILE", "Uploaded file"


class SourceStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    READY = "READY", "Ready"
    FAILED = "FAILED", "Failed"


class Source(models.Model):
    id = IdField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sources"
    )
    type = models.CharField(max_length=8, choices=SourceType.choices)
    title = models.CharField(max_length=300, null=True, blank=True)
    status = models.CharField(
        max_length=8, choices=SourceStatus.choices, default=SourceStatus.PENDING
    )
    error = models.TextField(null=True, blank=True)

    url = models.URLField(max_length=2000, null=True, blank=True)  # type URL: as given
    filename = models.CharField(max_length=255, null=True, blank=True)  # type FILE: as uploaded
    # Sniffed from the bytes (application/pdf, text/html, ...), not taken from the name.
    content_type = models.CharField(max_length=120, blank=True, default="")
    # The upload in the configured storage, under the user's prefix; see `storage_key`.
    file_key = models.CharField(max_length=500, null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)  # bytes uploaded or downloaded

    text = models.TextField(blank=True, default="")  # the clean text the writer sees
    characters = models.IntegerField(default=0)  # len(text)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.title or self.filename or self.url or f"Source {self.id}"


def storage_prefix(*, user_id: str) -> str:
    return f"sources/{user_id}/"


def storage_key(*, user_id: str, source_id: str, extension: str) -> str:
    return f"{storage_prefix(user_id=user_id)}{source_id}/original.{extension}"
