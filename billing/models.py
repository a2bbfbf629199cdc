"""Subscription and UsageRecord, field by field as the plan's Prisma schema."""

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

    monthly_podcast_limit = models.IntegerField(default=5)
    monthly_minutes_limit = models.IntegerField(default=25)

    current_podcast_count = models.IntegerField(default=0)
    current_minutes_used = models.IntegerField(default=0)
    usage_reset_date = models.DateTimeField()

    current_period_start = models.DateTimeField(default=timezone.now)
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id} {self.plan}"


class UsageRecord(models.Model):
    id = IdField()
    user_id = models.CharField(max_length=32)  # plain column as in the plan (no relation)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="usage_history"
    )

    podcast_id = models.CharField(max_length=32, null=True, blank=True)
    duration = models.IntegerField()  # seconds of audio generated
    credits = models.IntegerField(default=1)

    recorded_at = models.DateTimeField(default=timezone.now)
    billing_month = models.CharField(max_length=7)  # "2026-01"

    class Meta:
        indexes = [
            models.Index(fields=["user_id", "billing_month"]),
            models.Index(fields=["recorded_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.billing_month} {self.duration}s"
