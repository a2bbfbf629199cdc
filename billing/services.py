"""Billing rules: the subscription of a user, quota that cannot be raced, usage and the
monthly reset. Dodo Payments lives beside it: billing.checkout (checkout, plan change,
portal, cancel) and billing.dodo_webhooks (inbound events).

Quota works in three steps, each keyed by podcast id so that any step may run twice:
- `quota_reserve` (inside the transaction that queues a podcast) checks
  used + held + this one <= limit under a row lock on the subscription and holds one
  podcast and its estimated minutes in a UsageReservation row (a re-render of a podcast
  holds only the minutes it will newly voice);
- `usage_charge` (inside the job's completion transaction) swaps that row for one
  UsageRecord with the real minutes and counts the podcast; a unique podcast id on
  UsageRecord makes "charge once" a database constraint;
- `quota_release` (failure, cancellation) deletes the row: nothing is charged.
"""

from __future__ import annotations

import calendar
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.errors import PlanLimitReached
from billing.models import (
    Subscription,
    SubscriptionPlan,
    SubscriptionStatus,
    UsageRecord,
    UsageReservation,
)
from billing.plans import plan_limits
from podnex import durations

logger = logging.getLogger(__name__)


# --- Periods -------------------------------------------------------------------------------


def add_months(moment: datetime, months: int = 1) -> datetime:
    """Same day and time `months` later, clamped to the month's last day (Jan 31 -> Feb 28)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def billing_month(moment: datetime) -> str:
    return timezone.localtime(moment, UTC).strftime("%Y-%m")


# --- The subscription of a user ----------------------------------------------------------


def subscription_for(*, user) -> Subscription:
    """The user's subscription; a user without one (created before billing existed, or by
    createsuperuser) gets the FREE plan here, so every user always has one."""
    subscription = Subscription.objects.filter(user=user).first()
    if subscription is not None:
        return subscription
    now = timezone.now()
    limits = plan_limits(SubscriptionPlan.FREE)
    try:
        with transaction.atomic():
            return Subscription.objects.create(
                user=user,
                plan=SubscriptionPlan.FREE,
                status=SubscriptionStatus.ACTIVE,
                monthly_podcast_limit=limits.podcasts,
                monthly_minutes_limit=limits.minutes,
                current_period_start=now,
                current_period_end=add_months(now),
                usage_reset_date=add_months(now),
            )
    except IntegrityError:
        # Two first requests of a new user raced to create it; the other one won.
        return Subscription.objects.get(user=user)


def _subscription_locked(user) -> Subscription:
    subscription = subscription_for(user=user)
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


@dataclass(frozen=True)
class Held:
    podcasts: int
    minutes: int


def quota_held(subscription: Subscription) -> Held:
    """What running jobs hold against the plan right now."""
    totals = UsageReservation.objects.filter(subscription=subscription).aggregate(
        podcasts=Coalesce(Sum("podcasts"), 0), minutes=Coalesce(Sum("minutes"), 0)
    )
    return Held(podcasts=totals["podcasts"], minutes=totals["minutes"])


# --- Quota: reserve, charge, release -------------------------------------------------------


def estimated_minutes(duration: str) -> int:
    """Minutes a queued podcast holds until its real length is known."""
    return durations.estimated_minutes(duration)


def quota_reserve(
    *, user, podcast_id: str, duration: str = "SHORT", minutes: int | None = None,
    new_podcast: bool = True,
) -> UsageReservation:  # fmt: skip
    """Hold one podcast and its estimated minutes, or raise PlanLimitReached (403).

    A re-render passes `minutes` (what it will newly voice) and `new_podcast=False`: it
    holds minutes only. Call it inside the transaction that queues the job, so a refusal
    rolls the job back and a success is visible exactly when the job is."""
    with transaction.atomic():
        # Lock: without it, concurrent creates all read "4 of 5 used" and all pass; the lock
        # makes check-and-reserve one step per user.
        subscription = _subscription_locked(user)
        existing = UsageReservation.objects.filter(podcast_id=podcast_id).first()
        if existing is not None:
            return existing
        minutes = estimated_minutes(duration) if minutes is None else minutes
        held = quota_held(subscription)
        podcast_limit = subscription.monthly_podcast_limit
        podcasts_in_use = subscription.current_podcast_count + held.podcasts
        if new_podcast and podcast_limit is not None and podcasts_in_use + 1 > podcast_limit:
            raise _limit_reached(
                subscription,
                reason="podcast_limit",
                usage=podcasts_in_use,
                limit=podcast_limit,
                message=f"Monthly podcast limit reached ({podcast_limit} on the "
                f"{subscription.plan.lower()} plan)",
            )
        minutes_limit = subscription.monthly_minutes_limit
        minutes_in_use = subscription.current_minutes_used + held.minutes
        if minutes_limit is not None and minutes_in_use + minutes > minutes_limit:
            raise _limit_reached(
                subscription,
                reason="minutes_limit",
                usage=minutes_in_use,
                limit=minutes_limit,
                message=f"Monthly audio minutes limit reached: {minutes_in_use} of "
                f"{minutes_limit} minutes used or held, this podcast needs up to {minutes}",
            )
        return UsageReservation.objects.create(
            subscription=subscription,
            podcast_id=podcast_id,
            minutes=minutes,
            podcasts=1 if new_podcast else 0,
        )


def _limit_reached(
    subscription: Subscription, *, reason: str, usage: int, limit: int, message: str
) -> PlanLimitReached:
    return PlanLimitReached(
        message,
        reason=reason,
        subscription={
            "plan": subscription.plan.lower(),
            "usage": usage,
            "limit": limit,
            "resetDate": subscription.usage_reset_date.isoformat().replace("+00:00", "Z"),
        },
    )


def quota_release(*, podcast_id: str) -> None:
    """A job failed or was cancelled: it charges nothing and frees what it held."""
    UsageReservation.objects.filter(podcast_id=podcast_id).delete()


def usage_charge(
    *, podcast, seconds: float | None = None, charge_key: str = ""
) -> UsageRecord | None:
    """Charge a completed podcast once: one UsageRecord, its real minutes (audio duration
    rounded up to whole minutes) and one podcast on the counters. A second call for the same
    podcast (re-delivered task) changes nothing and returns None.

    A re-render passes `seconds` (the speech it newly voiced) and its job id as
    `charge_key`: it is charged those minutes, once per job, and counts no new podcast."""
    rerender = bool(charge_key)
    seconds = int(podcast.audio_duration or 0) if seconds is None else math.ceil(seconds)
    minutes = math.ceil(seconds / 60)
    now = timezone.now()
    with transaction.atomic():
        # Lock: counters are read-modify-write, and two completions of one podcast must see
        # each other's UsageRecord (the unique podcast id backs this up).
        subscription = _subscription_locked(podcast.user)
        if UsageRecord.objects.filter(podcast_id=podcast.id, charge_key=charge_key).exists():
            return None
        UsageReservation.objects.filter(podcast_id=podcast.id).delete()
        record = UsageRecord.objects.create(
            user_id=podcast.user_id,
            subscription=subscription,
            podcast_id=podcast.id,
            duration=seconds,
            credits=0 if rerender else 1,
            charge_key=charge_key,
            recorded_at=now,
            billing_month=billing_month(now),
        )
        Subscription.objects.filter(pk=subscription.pk).update(
            current_podcast_count=F("current_podcast_count") + (0 if rerender else 1),
            current_minutes_used=F("current_minutes_used") + minutes,
            updated_at=now,
        )
    return record


# --- Monthly reset -------------------------------------------------------------------------


def usage_reset_due(*, now: datetime | None = None) -> int:
    """Reset every subscription whose usageResetDate has passed and move the date on.
    Returns how many were reset; a second run finds nothing due."""
    now = now or timezone.now()
    due = Subscription.objects.filter(usage_reset_date__lte=now).values_list("id", flat=True)
    reset = 0
    for subscription_id in list(due):
        with transaction.atomic():
            # Lock: a second beat run (or a completion adding usage) racing this reset must
            # not reset twice or lose an increment; re-check the date under the lock.
            subscription = (
                Subscription.objects.select_for_update()
                .filter(id=subscription_id, usage_reset_date__lte=now)
                .first()
            )
            if subscription is None:
                continue
            _usage_reset_locked(subscription, now=now)
            reset += 1
    return reset


def _usage_reset_locked(subscription: Subscription, *, now: datetime) -> None:
    paid_period_over = subscription.current_period_end <= now and (
        subscription.cancel_at_period_end or subscription.status == SubscriptionStatus.CANCELLED
    )
    if subscription.plan != SubscriptionPlan.FREE and paid_period_over:
        # A cancelled plan's limits held until its period ended; now it is FREE again.
        subscription_downgrade_to_free(subscription)
    anchor = subscription.usage_reset_date
    months = 1
    while add_months(anchor, months) <= now:  # catch up after downtime: next date is ahead
        months += 1
    subscription.usage_reset_date = add_months(anchor, months)
    subscription.current_podcast_count = 0
    subscription.current_minutes_used = 0
    if subscription.plan == SubscriptionPlan.FREE:
        # FREE has no billing cycle of its own: its period is the usage period.
        subscription.current_period_start = add_months(anchor, months - 1)
        subscription.current_period_end = subscription.usage_reset_date
    subscription.save()


def subscription_downgrade_to_free(subscription: Subscription) -> None:
    limits = plan_limits(SubscriptionPlan.FREE)
    subscription.plan = SubscriptionPlan.FREE
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.monthly_podcast_limit = limits.podcasts
    subscription.monthly_minutes_limit = limits.minutes
    subscription.dodo_subscription_id = None
    subscription.dodo_product_id = None
    subscription.cancel_at_period_end = False


def plan_limits_apply(subscription: Subscription) -> None:
    """A plan's limits apply while it is paid for; past due or incomplete falls back to
    FREE limits until Dodo says it is active again."""
    plan = subscription.plan
    if subscription.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.INCOMPLETE):
        plan = SubscriptionPlan.FREE
    limits = plan_limits(plan)
    subscription.monthly_podcast_limit = limits.podcasts
    subscription.monthly_minutes_limit = limits.minutes
