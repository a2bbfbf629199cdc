from __future__ import annotations

import re

from rest_framework import serializers

from billing.models import UsageRecord
from billing.plans import PAID_PLANS
from podnex.api.pagination import PageQuerySerializer

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PlanRequestSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=[plan.lower() for plan in PAID_PLANS])


class UsageQuerySerializer(PageQuerySerializer):
    month = serializers.CharField(required=False, help_text="Billing month, YYYY-MM")

    def validate_month(self, value: str) -> str:
        if not _MONTH.match(value):
            raise serializers.ValidationError("Use the form YYYY-MM, e.g. 2026-01.")
        return value


class SubscriptionSerializer(serializers.Serializer):
    id = serializers.CharField()
    plan = serializers.ChoiceField(choices=["free", "starter", "pro", "business"])
    status = serializers.ChoiceField(
        choices=["active", "past_due", "cancelled", "trialing", "incomplete"]
    )
    monthlyPodcastLimit = serializers.IntegerField(
        allow_null=True, help_text="null means unlimited"
    )
    monthlyMinutesLimit = serializers.IntegerField(
        allow_null=True, help_text="null means unlimited"
    )
    currentPodcastCount = serializers.IntegerField(help_text="Completed podcasts this period")
    currentMinutesUsed = serializers.IntegerField(help_text="Audio minutes charged this period")
    reservedPodcastCount = serializers.IntegerField(help_text="Podcasts queued or running")
    reservedMinutes = serializers.IntegerField(help_text="Estimated minutes they hold")
    usageResetDate = serializers.DateTimeField()
    currentPeriodStart = serializers.DateTimeField()
    currentPeriodEnd = serializers.DateTimeField()
    cancelAtPeriodEnd = serializers.BooleanField()
    cancelledAt = serializers.DateTimeField(allow_null=True)
    hasBillingAccount = serializers.BooleanField(
        help_text="Whether a Dodo customer exists (the billing portal is available)"
    )
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class UsageRecordSerializer(serializers.ModelSerializer):
    userId = serializers.CharField(source="user_id")
    subscriptionId = serializers.CharField(source="subscription_id")
    podcastId = serializers.CharField(source="podcast_id", allow_null=True)
    duration = serializers.IntegerField(help_text="Seconds of audio generated")
    recordedAt = serializers.DateTimeField(source="recorded_at")
    billingMonth = serializers.CharField(source="billing_month")

    class Meta:
        model = UsageRecord
        fields = [
            "id",
            "userId",
            "subscriptionId",
            "podcastId",
            "duration",
            "credits",
            "recordedAt",
            "billingMonth",
        ]


class CurrentPeriodSerializer(serializers.Serializer):
    podcastsUsed = serializers.IntegerField()
    podcastsLimit = serializers.IntegerField(allow_null=True)
    minutesUsed = serializers.IntegerField()
    minutesLimit = serializers.IntegerField(allow_null=True)
    podcastsReserved = serializers.IntegerField()
    minutesReserved = serializers.IntegerField()
    resetDate = serializers.DateTimeField()


class MonthTotalsSerializer(serializers.Serializer):
    month = serializers.CharField()
    podcasts = serializers.IntegerField()
    seconds = serializers.IntegerField()
    minutes = serializers.IntegerField(help_text="Seconds rounded up to whole minutes")
    credits = serializers.IntegerField()


class UpgradeSerializer(serializers.Serializer):
    checkoutUrl = serializers.CharField(
        allow_null=True,
        help_text="Hosted page to pay on; null when a plan change needed no payment step",
    )
    mode = serializers.ChoiceField(choices=["checkout", "plan_change"])
    plan = serializers.CharField()
