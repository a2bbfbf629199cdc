"""Subscription and UsageRecord, field by field as the plan's Prisma schema, plus what the
plan leaves implicit: a reservation per running podcast (quota held while its job runs)
and a log of Dodo webhook deliveries (each applied once)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from podnex.models import IdField


class SubscriptionPlan(models.TextChoices):
    FREE = "FREE", "Free"
    STARTER = "STARTER", "Starter"
    PRO = "PRO", "Pro"
    BUSINESS = "BUSINESS", "Business"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    PAST_DUE = "PAST_DUE", "Past due"
    CANCELLED = "CANCELLED", "Cancelled"
    TRIALING = "TRIALING", "Trialing"
    INCOMPLETE = "INCOMPLETE", "Incomplete"


class Subscription(models.Model):
    id = IdField()
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscription"
    )

    plan = models.CharField(
        max_length=10, choices=SubscriptionPlan.choices, default=SubscriptionPlan.FREE
    )
    status = models.CharField(
        max_length=12, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )

    dodo_customer_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    dodo_subscription_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    dodo_product_id = models.CharField(max_length=100, null=True, blank=True)

    # NULL = unlimited (BUSINESS). The values come from billing.plans.PLAN_LIMITS.
    monthly_podcast_limit = models.IntegerField(null=True, blank=True, default=5)
    monthly_minutes_limit = models.IntegerField(null=True, blank=True, default=25)

    current_podcast_count = models.IntegerField(default=0)
    current_minutes_used = models.IntegerField(default=0)
    usage_reset_date = models.DateTimeField()

    current_period_start = models.DateTimeField(default=timezone.now)
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    # Time of the newest Dodo event applied: an older one arriving late must not undo it.
    dodo_event_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id} {self.plan}"


class UsageReservation(models.Model):
    """Quota held by one podcast while its job runs: one podcast and its estimated minutes.

    Released (deleted) when the job fails or is cancelled, exchanged for a UsageRecord when
    it completes. One row per podcast (unique) makes release and charge idempotent.
    """

    id = IdField()
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="reservations"
    )
    podcast_id = models.CharField(max_length=32, unique=True)
    minutes = models.IntegerField()
    # 1 for a new podcast; 0 for a re-render, which holds minutes but is no new podcast.
    podcasts = models.IntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.podcast_id} holds {self.minutes} min"


class UsageRecord(models.Model):
    id = IdField()
    user_id = models.CharField(max_length=32)  # plain column as in the plan (no relation)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="usage_history"
    )

    podcast_id = models.CharField(max_length=32, null=True, blank=True)
    duration = models.IntegerField()  # seconds of audio generated
    credits = models.IntegerField(default=1)
    # "" for a podcast's first audio; the job id of each later re-render, which is charged
    # for the speech it newly voiced.
    charge_key = models.CharField(max_length=255, blank=True, default="")

    recorded_at = models.DateTimeField(default=timezone.now)
    billing_month = models.CharField(max_length=7)  # "2026-01"

    class Meta:
        indexes = [
            models.Index(fields=["user_id", "billing_month"]),
            models.Index(fields=["recorded_at"]),
        ]
        constraints = [
            # A completion that runs twice (re-delivered task) can never bill twice.
            models.UniqueConstraint(
                fields=["podcast_id", "charge_key"],
                condition=models.Q(podcast_id__isnull=False),
                name="usage_record_once_per_podcast_charge",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.billing_month} {self.duration}s"


class DodoWebhookEvent(models.Model):
    """Every verified Dodo delivery, keyed by its `webhook-id`: Dodo retries a delivery up
    to 8 times, and the unique id makes sure each one is applied once."""

    id = IdField()
    webhook_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=100)
    event_at = models.DateTimeField(null=True, blank=True)  # the payload's `timestamp`
    payload = models.JSONField()
    # applied | ignored_stale | ignored_unknown_subscription | ignored_type | recorded
    outcome = models.CharField(max_length=40)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="dodo_events"
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["event_type", "received_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_id}"
