"""Webhook and WebhookDelivery, field by field as the plan's Prisma schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from podnex.models import IdField


class WebhookEvent(models.TextChoices):
    PODCAST_CREATED = "PODCAST_CREATED", "podcast.created"
    PODCAST_PROCESSING = "PODCAST_PROCESSING", "podcast.processing"
    PODCAST_COMPLETED = "PODCAST_COMPLETED", "podcast.completed"
    PODCAST_FAILED = "PODCAST_FAILED", "podcast.failed"


class Webhook(models.Model):
    id = IdField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )

    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)  # list of WebhookEvent values
    secret = models.CharField(max_length=100)

    active = models.BooleanField(default=True)

    success_count = models.IntegerField(default=0)
    failure_count = models.IntegerField(default=0)
    last_triggered_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["user"])]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    id = IdField()
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")

    event = models.CharField(max_length=30, choices=WebhookEvent.choices)
    payload = models.JSONField()

    status = models.IntegerField()  # HTTP status code (0 when no answer came)
    response = models.TextField(null=True, blank=True)
    attempts = models.IntegerField(default=1)

    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["webhook", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.status})"
