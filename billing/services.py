"""Billing rules: the subscription of a user, quota that cannot be raced, usage, the monthly
reset, and Dodo Payments (checkout, plan change, portal, cancel, inbound webhooks).

Quota works in three steps, each keyed by podcast id so that any step may run twice:
- `quota_reserve` (inside the transaction that queues a podcast) checks
  used + held + this one <= limit under a row lock on the subscription and holds one
  podcast and its estimated minutes in a UsageReservation row;
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
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from billing import dodo
from billing.errors import PaymentProviderFailed, PaymentsUnavailable, PlanLimitReached
from billing.models import (
    DodoWebhookEvent,
    Subscription,
    SubscriptionPlan,
    SubscriptionStatus,
    UsageRecord,
    UsageReservation,
)
from billing.plans import PAID_PLANS, plan_for_product, plan_limits, product_id_for
from notifications import services as notify
from podnex.api.errors import Conflict, InvalidInput, NotFound

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
        podcasts=Count("id"), minutes=Coalesce(Sum("minutes"), 0)
    )
    return Held(podcasts=totals["podcasts"], minutes=totals["minutes"])


# --- Quota: reserve, charge, release -------------------------------------------------------


def estimated_minutes(duration: str) -> int:
    """Minutes a queued podcast holds until its real length is known."""
    if duration == "LONG":
        return settings.ESTIMATED_MINUTES_LONG
    return settings.ESTIMATED_MINUTES_SHORT


def quota_reserve(*, user, podcast_id: str, duration: str) -> UsageReservation:
    """Hold one podcast and its estimated minutes, or raise PlanLimitReached (403).

    Call it inside the transaction that queues the podcast, so a refusal rolls the podcast
    back and a success is visible exactly when the podcast is."""
    with transaction.atomic():
        # Lock: without it, concurrent creates all read "4 of 5 used" and all pass; the lock
        # makes check-and-reserve one step per user.
        subscription = _subscription_locked(user)
        existing = UsageReservation.objects.filter(podcast_id=podcast_id).first()
        if existing is not None:
            return existing
        minutes = estimated_minutes(duration)
        held = quota_held(subscription)
        podcast_limit = subscription.monthly_podcast_limit
        podcasts_in_use = subscription.current_podcast_count + held.podcasts
        if podcast_limit is not None and podcasts_in_use + 1 > podcast_limit:
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
            subscription=subscription, podcast_id=podcast_id, minutes=minutes
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


def usage_charge(*, podcast) -> UsageRecord | None:
    """Charge a completed podcast once: one UsageRecord, its real minutes (audio duration
    rounded up to whole minutes) and one podcast on the counters. A second call for the same
    podcast (re-delivered task) changes nothing and returns None."""
    seconds = int(podcast.audio_duration or 0)
    minutes = math.ceil(seconds / 60)
    now = timezone.now()
    with transaction.atomic():
        # Lock: counters are read-modify-write, and two completions of one podcast must see
        # each other's UsageRecord (the unique podcast id backs this up).
        subscription = _subscription_locked(podcast.user)
        if UsageRecord.objects.filter(podcast_id=podcast.id).exists():
            return None
        UsageReservation.objects.filter(podcast_id=podcast.id).delete()
        record = UsageRecord.objects.create(
            user_id=podcast.user_id,
            subscription=subscription,
            podcast_id=podcast.id,
            duration=seconds,
            credits=1,
            recorded_at=now,
            billing_month=billing_month(now),
        )
        Subscription.objects.filter(pk=subscription.pk).update(
            current_podcast_count=F("current_podcast_count") + 1,
            current_minutes_used=F("current_minutes_used") + minutes,
            updated_at=now,
        )
        _usage_notify(subscription_pk=subscription.pk)
    return record


def _usage_notify(*, subscription_pk: int) -> None:
    """Tell the user when the month's plan is 80% or 100% used (the notifications app sends
    each threshold once per period)."""
    subscription = Subscription.objects.get(pk=subscription_pk)
    counters = [
        (subscription.current_podcast_count, subscription.monthly_podcast_limit),
        (subscription.current_minutes_used, subscription.monthly_minutes_limit),
    ]
    used = max((count / limit for count, limit in counters if limit), default=0.0)
    if used < 0.8:
        return
    notify.usage_reached(
        user_id=subscription.user_id,
        percent=100 if used >= 1 else 80,
        period_end=subscription.usage_reset_date.isoformat(),
        plan=subscription.plan,
        podcasts_used=subscription.current_podcast_count,
        podcasts_limit=subscription.monthly_podcast_limit,
        minutes_used=subscription.current_minutes_used,
        minutes_limit=subscription.monthly_minutes_limit,
    )


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
        _downgrade_to_free(subscription)
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


def _downgrade_to_free(subscription: Subscription) -> None:
    limits = plan_limits(SubscriptionPlan.FREE)
    subscription.plan = SubscriptionPlan.FREE
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.monthly_podcast_limit = limits.podcasts
    subscription.monthly_minutes_limit = limits.minutes
    subscription.dodo_subscription_id = None
    subscription.dodo_product_id = None
    subscription.cancel_at_period_end = False


def _apply_plan_limits(subscription: Subscription) -> None:
    """A plan's limits apply while it is paid for; past due or incomplete falls back to
    FREE limits until Dodo says it is active again."""
    plan = subscription.plan
    if subscription.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.INCOMPLETE):
        plan = SubscriptionPlan.FREE
    limits = plan_limits(plan)
    subscription.monthly_podcast_limit = limits.podcasts
    subscription.monthly_minutes_limit = limits.minutes


# --- Dodo Payments: checkout, plan change, portal, cancel ----------------------------------


@dataclass(frozen=True)
class UpgradeResult:
    mode: str  # "checkout" (new subscription) | "plan_change" (existing one changed)
    checkout_url: str | None
    plan: str


def _has_running_paid_subscription(subscription: Subscription) -> bool:
    return (
        bool(subscription.dodo_subscription_id)
        and subscription.plan in PAID_PLANS
        and subscription.status != SubscriptionStatus.CANCELLED
    )


def subscription_upgrade(*, user, plan: str) -> UpgradeResult:
    """Start paying for `plan`: a hosted checkout for a new subscription, or Dodo's
    change-plan call for a user who already pays. The local plan changes when Dodo's
    webhook confirms it, never on the strength of this request alone."""
    if plan not in PAID_PLANS:
        raise InvalidInput("Choose a paid plan: starter, pro or business", code="invalid_plan")
    product_id = product_id_for(plan)
    if not dodo.is_configured() or not product_id:
        raise PaymentsUnavailable(f"Payments for the {plan.lower()} plan are not configured")
    subscription = subscription_for(user=user)
    metadata = {"userId": str(user.id), "plan": plan}
    try:
        if _has_running_paid_subscription(subscription):
            if subscription.plan == plan:
                raise Conflict(
                    f"You are already on the {plan.lower()} plan", code="already_on_plan"
                )
            link = dodo.subscription_change_plan(
                subscription_id=subscription.dodo_subscription_id,
                product_id=product_id,
                metadata=metadata,
            )
            return UpgradeResult(mode="plan_change", checkout_url=link, plan=plan)
        if subscription.dodo_customer_id:
            customer = {"customer_id": subscription.dodo_customer_id}
        else:
            customer = {"email": user.email, "name": user.name or user.email}
        url = dodo.checkout_create(
            product_id=product_id,
            customer=customer,
            metadata=metadata,
            return_url=settings.DODO_PAYMENTS_RETURN_URL,
        )
        return UpgradeResult(mode="checkout", checkout_url=url, plan=plan)
    except dodo.PaymentsNotConfigured as exc:
        raise PaymentsUnavailable(exc.message) from exc
    except dodo.PaymentProviderError as exc:
        logger.warning("Dodo upgrade for user %s failed: %s", user.id, exc.message)
        raise PaymentProviderFailed(exc.message) from exc


def billing_portal_link(*, user) -> str:
    subscription = subscription_for(user=user)
    if not subscription.dodo_customer_id:
        raise NotFound(
            "No billing account yet: the customer portal opens after a first paid checkout",
            code="no_billing_customer",
        )
    try:
        return dodo.portal_link(customer_id=subscription.dodo_customer_id)
    except dodo.PaymentsNotConfigured as exc:
        raise PaymentsUnavailable(exc.message) from exc
    except dodo.PaymentProviderError as exc:
        raise PaymentProviderFailed(exc.message) from exc


def subscription_cancel(*, user) -> Subscription:
    """Cancel at the end of the period: the plan's limits hold until then (the reset task
    moves the subscription to FREE once the period is over). Calling it again is a no-op."""
    subscription = subscription_for(user=user)
    if not _has_running_paid_subscription(subscription):
        raise Conflict("There is no paid subscription to cancel", code="no_paid_subscription")
    if subscription.cancel_at_period_end:
        return subscription
    try:
        dodo.subscription_cancel_at_period_end(subscription_id=subscription.dodo_subscription_id)
    except dodo.PaymentsNotConfigured as exc:
        raise PaymentsUnavailable(exc.message) from exc
    except dodo.PaymentProviderError as exc:
        raise PaymentProviderFailed(exc.message) from exc
    Subscription.objects.filter(pk=subscription.pk).update(
        cancel_at_period_end=True, updated_at=timezone.now()
    )
    subscription.refresh_from_db()
    return subscription


# --- Dodo Payments: inbound webhooks -------------------------------------------------------

SUBSCRIPTION_EVENTS = {
    "subscription.active",
    "subscription.renewed",
    "subscription.on_hold",
    "subscription.failed",
    "subscription.cancelled",
    "subscription.expired",
    "subscription.plan_changed",
    "subscription.updated",
}
PAYMENT_EVENTS = {"payment.succeeded", "payment.failed"}

_DODO_STATUS = {
    "active": SubscriptionStatus.ACTIVE,
    "pending": SubscriptionStatus.INCOMPLETE,
    "on_hold": SubscriptionStatus.PAST_DUE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "failed": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.PAST_DUE,
    "cancelled": SubscriptionStatus.CANCELLED,
}

# A renewal within this much of our own reset date is the same period boundary.
_RENEWAL_SLACK = timedelta(days=1)


def dodo_webhook_receive(*, webhook_id: str, payload: dict[str, Any]) -> DodoWebhookEvent | None:
    """Apply one verified delivery, once per `webhook-id`. Returns None for a duplicate.

    An exception from a handler propagates (the caller answers 5xx so Dodo retries) and
    rolls back everything, including the record of the delivery."""
    event_type = str(payload.get("type") or "")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    event_at = _parse_time(payload.get("timestamp"))
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = DodoWebhookEvent.objects.create(
                    webhook_id=webhook_id,
                    event_type=event_type,
                    event_at=event_at,
                    payload=payload,
                    outcome="received",
                )
        except IntegrityError:
            # Dodo retried a delivery we already applied (or two copies raced: the second
            # waited on the unique index until the first committed).
            return None
        outcome, subscription = _dodo_event_apply(event_type, data, event_at)
        if event_type in PAYMENT_EVENTS and subscription is not None:
            _payment_notify(event_type, data, subscription=subscription, webhook_id=webhook_id)
        event.outcome = outcome
        event.subscription = subscription
        event.save(update_fields=["outcome", "subscription"])
    logger.info("Dodo %s %s: %s", event_type, webhook_id, outcome)
    return event


def _payment_notify(
    event_type: str, data: dict[str, Any], *, subscription: Subscription, webhook_id: str
) -> None:
    """A receipt for a payment, or what to do about a failed one (sent after the commit)."""
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    amount = data.get("total_amount")
    common = {
        "user_id": subscription.user_id,
        "payment_id": str(data.get("payment_id") or webhook_id),
        "amount_minor": amount if isinstance(amount, int) else None,
        "currency": str(data.get("currency") or ""),
        "plan": str(metadata.get("plan") or subscription.plan),
    }
    if event_type == "payment.succeeded":
        notify.payment_succeeded(
            **common,
            period_start=subscription.current_period_start.date().isoformat(),
            period_end=subscription.current_period_end.date().isoformat(),
        )
    else:
        notify.payment_failed(**common)


def _dodo_event_apply(
    event_type: str, data: dict[str, Any], event_at: datetime | None
) -> tuple[str, Subscription | None]:
    if event_type in PAYMENT_EVENTS:
        # Kept as the delivery record (amount, status, ids live in the payload).
        return "recorded", _subscription_of_event(data, lock=False)
    if event_type not in SUBSCRIPTION_EVENTS:
        return "ignored_type", None
    subscription = _subscription_of_event(data, lock=True)
    if subscription is None:
        logger.warning(
            "Dodo %s for an unknown subscription: %s", event_type, data.get("subscription_id")
        )
        return "ignored_unknown_subscription", None
    dodo_id = data.get("subscription_id")
    if (
        subscription.dodo_subscription_id
        and dodo_id != subscription.dodo_subscription_id
        and event_type != "subscription.active"
    ):
        # About a subscription the user no longer has (a new one replaced it).
        return "ignored_other_subscription", subscription
    if subscription.dodo_event_at and event_at and event_at < subscription.dodo_event_at:
        # Delivered out of order: newer state is already applied.
        return "ignored_stale", subscription
    now = timezone.now()
    if event_type == "subscription.expired" or data.get("status") == "expired":
        _downgrade_to_free(subscription)
        subscription.current_period_start = add_months(subscription.usage_reset_date, -1)
        subscription.current_period_end = subscription.usage_reset_date
    else:
        previous_reset = subscription.usage_reset_date
        if not _sync_from_dodo(subscription, data):
            return "ignored_unknown_product", subscription
        if event_type in ("subscription.active", "subscription.renewed"):
            subscription.status = SubscriptionStatus.ACTIVE
        elif event_type in ("subscription.on_hold", "subscription.failed"):
            subscription.status = SubscriptionStatus.PAST_DUE
        elif event_type == "subscription.cancelled":
            subscription.status = SubscriptionStatus.CANCELLED
            subscription.cancel_at_period_end = True
            subscription.cancelled_at = _parse_time(data.get("cancelled_at")) or event_at or now
        if event_type == "subscription.renewed":
            period_start = _parse_time(data.get("previous_billing_date"))
            # Our hourly reset may have got there first (the renewal arrived late): reset
            # only if this period's usage has not been reset yet.
            if period_start is None or previous_reset <= period_start + _RENEWAL_SLACK:
                subscription.current_podcast_count = 0
                subscription.current_minutes_used = 0
        if subscription.status != SubscriptionStatus.CANCELLED:
            subscription.cancelled_at = None
        _apply_plan_limits(subscription)
        if (
            subscription.status == SubscriptionStatus.CANCELLED
            and subscription.current_period_end <= now
        ):
            _downgrade_to_free(subscription)
    if event_at is not None:
        subscription.dodo_event_at = event_at
    subscription.save()
    return "applied", subscription


def _sync_from_dodo(subscription: Subscription, data: dict[str, Any]) -> bool:
    """Copy Dodo's view of the subscription (plan, ids, period, cancel flag, status).
    False when the product is none of ours."""
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    plan = plan_for_product(data.get("product_id"))
    if plan is None and metadata.get("plan") in PAID_PLANS:
        plan = metadata["plan"]
    if plan is None:
        logger.error("Dodo product %r is not one of our plans", data.get("product_id"))
        return False
    subscription.plan = plan
    subscription.dodo_product_id = data.get("product_id") or subscription.dodo_product_id
    if data.get("subscription_id"):
        subscription.dodo_subscription_id = data["subscription_id"]
    customer_id = _customer_id(data)
    if customer_id:
        subscription.dodo_customer_id = customer_id
    start = _parse_time(data.get("previous_billing_date"))
    end = _parse_time(data.get("next_billing_date"))
    if start:
        subscription.current_period_start = start
    if end:
        subscription.current_period_end = end
        subscription.usage_reset_date = end  # a paid plan's usage follows its billing cycle
    if "cancel_at_next_billing_date" in data:
        subscription.cancel_at_period_end = bool(data["cancel_at_next_billing_date"])
    status = _DODO_STATUS.get(str(data.get("status") or ""))
    if status:
        subscription.status = status
    return True


def _customer_id(data: dict[str, Any]) -> str | None:
    customer = data.get("customer")
    if isinstance(customer, dict) and customer.get("customer_id"):
        return str(customer["customer_id"])
    return None


def _subscription_of_event(data: dict[str, Any], *, lock: bool) -> Subscription | None:
    """Find whose event this is: by Dodo subscription id, then the checkout's metadata
    userId, then the Dodo customer id."""
    from accounts.models import User

    queryset = Subscription.objects.select_for_update() if lock else Subscription.objects
    dodo_id = data.get("subscription_id")
    if dodo_id:
        found = queryset.filter(dodo_subscription_id=dodo_id).first()
        if found:
            return found
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    user_id = metadata.get("userId")
    if user_id:
        user = User.objects.filter(id=str(user_id)).first()
        if user is not None:
            subscription = subscription_for(user=user)
            return queryset.filter(pk=subscription.pk).first()
    customer_id = _customer_id(data)
    if customer_id:
        return queryset.filter(dodo_customer_id=customer_id).first()
    return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed
