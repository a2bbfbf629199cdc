"""Webhook and WebhookDelivery, the plan's fields plus what delivery with retries needs,
and the per-user signing key of per-request webhook URLs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from podnex.ids import new_id
from podnex.models import IdField


def new_message_id() -> str:
    """A Standard Webhooks message id: `msg_` + an opaque cuid."""
    return f"msg_{new_id()}"


class WebhookEvent(models.TextChoices):
    PODCAST_CREATED = "PODCAST_CREATED", "podcast.created"
    PODCAST_PROCESSING = "PODCAST_PROCESSING", "podcast.processing"
    PODCAST_COMPLETED = "PODCAST_COMPLETED", "podcast.completed"
    PODCAST_FAILED = "PODCAST_FAILED", "podcast.failed"
    # A job created with `review` wrote the script and waits for the owner to render it.
    PODCAST_SCRIPT_READY = "PODCAST_SCRIPT_READY", "podcast.script_ready"
    # Sent only by POST /webhooks/:id/test; nobody subscribes to it.
    WEBHOOK_TEST = "WEBHOOK_TEST", "webhook.test"


# What an endpoint can subscribe to.
SUBSCRIBABLE_EVENTS = [
    WebhookEvent.PODCAST_CREATED,
    WebhookEvent.PODCAST_PROCESSING,
    WebhookEvent.PODCAST_COMPLETED,
    WebhookEvent.PODCAST_FAILED,
    WebhookEvent.PODCAST_SCRIPT_READY,
]


class WebhookKind(models.TextChoices):
    # Registered through /api/v1/webhooks, signed with its own secret.
    ENDPOINT = "ENDPOINT", "endpoint"
    # Created by the `webhookUrl` of POST /api/v1/podcasts (one row per user and URL); it
    # receives the events of those podcasts only, signed with the user's signing key.
    PER_REQUEST = "PER_REQUEST", "per_request"


class DeliveryState(models.TextChoices):
    PENDING = "PENDING", "pending"  # waiting for its first attempt or a retry
    DELIVERED = "DELIVERED", "delivered"  # a 2xx answer came back
    FAILED = "FAILED", "failed"  # retries exhausted (or endpoint disabled); given up


class Webhook(models.Model):
    id = IdField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )

    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)  # list of WebhookEvent values
    secret = models.CharField(max_length=100)
    # The secret before the last rotation keeps signing (second signature) until then.
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(
        max_length=12, choices=WebhookKind.choices, default=WebhookKind.ENDPOINT
    )

    active = models.BooleanField(default=True)
    # Set when deliveries keep failing: since when, and why the endpoint was switched off.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(null=True, blank=True)

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
    # The Standard Webhooks `webhook-id`: the same on every retry so receivers can dedupe.
    message_id = models.CharField(max_length=40, default=new_message_id, db_index=True)

    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    status = models.IntegerField(default=0)  # HTTP status of the last attempt; 0 = no answer
    response = models.TextField(null=True, blank=True)  # last answer's body, truncated
    last_error = models.TextField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)  # of the last attempt

    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["webhook", "created_at"]),
            # The beat task's query: pending deliveries that are due.
            models.Index(fields=["state", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.state}, {self.status})"


class SigningKey(models.Model):
    """A user's signing secret for per-request webhook URLs (`webhookUrl` on a podcast),
    which have no secret of their own that could have been shown at registration."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_signing_key"
    )
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"signing key of {self.user_id}"
