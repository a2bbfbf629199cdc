"""Reads: the subscription as the API shows it, and a month of usage."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import Subscription, UsageRecord
from billing.services import billing_month, quota_held, subscription_for


def subscription_summary(subscription: Subscription) -> dict:
    """The subscription in the API's camelCase, with what running jobs hold right now."""
    held = quota_held(subscription)
    return {
        "id": subscription.id,
        "plan": subscription.plan.lower(),
        "status": subscription.status.lower(),
        "monthlyPodcastLimit": subscription.monthly_podcast_limit,
        "monthlyMinutesLimit": subscription.monthly_minutes_limit,
        "currentPodcastCount": subscription.current_podcast_count,
        "currentMinutesUsed": subscription.current_minutes_used,
        "reservedPodcastCount": held.podcasts,
        "reservedMinutes": held.minutes,
        "usageResetDate": subscription.usage_reset_date,
        "currentPeriodStart": subscription.current_period_start,
        "currentPeriodEnd": subscription.current_period_end,
        "cancelAtPeriodEnd": subscription.cancel_at_period_end,
        "cancelledAt": subscription.cancelled_at,
        "hasBillingAccount": bool(subscription.dodo_customer_id),
        "createdAt": subscription.created_at,
        "updatedAt": subscription.updated_at,
    }


def user_subscription_summary(*, user) -> dict:
    return subscription_summary(subscription_for(user=user))


@dataclass
class MonthUsage:
    month: str
    subscription: Subscription
    records: QuerySet[UsageRecord]  # newest first; the view paginates it
    podcasts: int
    seconds: int
    credits: int


def usage_month(*, user, month: str | None = None) -> MonthUsage:
    """Usage records of one billing month ("YYYY-MM", default: this month) and its totals."""
    subscription = subscription_for(user=user)
    month = month or billing_month(timezone.now())
    records = UsageRecord.objects.filter(user_id=user.id, billing_month=month).order_by(
        "-recorded_at"
    )
    totals = records.aggregate(
        podcasts=Count("id"),
        seconds=Coalesce(Sum("duration"), 0),
        credits=Coalesce(Sum("credits"), 0),
    )
    return MonthUsage(
        month=month,
        subscription=subscription,
        records=records,
        podcasts=totals["podcasts"],
        seconds=totals["seconds"],
        credits=totals["credits"],
    )
