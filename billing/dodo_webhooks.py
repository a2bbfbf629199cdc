"""Dodo Payments' inbound webhooks: each verified delivery applied once, through a table of
event type -> handler.

Payment events are kept as the record of the delivery. Subscription events first find the
subscription and skip what is stale or about another subscription, then copy Dodo's view of
it (plan, ids, period, status) and apply what the event itself means.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from billing.models import DodoWebhookEvent, Subscription, SubscriptionStatus
from billing.plans import PAID_PLANS, plan_for_product
from billing.services import (
    add_months,
    plan_limits_apply,
    subscription_downgrade_to_free,
    subscription_for,
)

logger = logging.getLogger(__name__)

Outcome = tuple[str, Subscription | None]

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
        event.outcome = outcome
        event.subscription = subscription
        event.save(update_fields=["outcome", "subscription"])
    logger.info("Dodo %s %s: %s", event_type, webhook_id, outcome)
    return event


def _dodo_event_apply(event_type: str, data: dict[str, Any], event_at: datetime | None) -> Outcome:
    handler = HANDLERS.get(event_type)
    if handler is None:
        return "ignored_type", None
    return handler(event_type, data, event_at)


def _payment_recorded(event_type: str, data: dict[str, Any], event_at: datetime | None) -> Outcome:
    # Kept as the delivery record (amount, status, ids live in the payload).
    return "recorded", _subscription_of_event(data, lock=False)


def _subscription_event(
    event_type: str, data: dict[str, Any], event_at: datetime | None
) -> Outcome:
    subscription = _subscription_of_event(data, lock=True)
    if subscription is None:
        logger.warning(
            "Dodo %s for an unknown subscription: %s", event_type, data.get("subscription_id")
        )
        return "ignored_unknown_subscription", None
    skipped = _skip_reason(subscription, event_type, data, event_at)
    if skipped:
        return skipped, subscription
    if event_type == "subscription.expired" or data.get("status") == "expired":
        _expire(subscription)
    else:
        change = Change(subscription, data, event_at, previous_reset=subscription.usage_reset_date)
        if not _sync_from_dodo(subscription, data):
            return "ignored_unknown_product", subscription
        STATE_CHANGES[event_type](change)
        _settle(subscription)
    if event_at is not None:
        subscription.dodo_event_at = event_at
    subscription.save()
    return "applied", subscription


def _skip_reason(
    subscription: Subscription, event_type: str, data: dict[str, Any], event_at: datetime | None
) -> str | None:
    dodo_id = data.get("subscription_id")
    if (
        subscription.dodo_subscription_id
        and dodo_id != subscription.dodo_subscription_id
        and event_type != "subscription.active"
    ):
        # About a subscription the user no longer has (a new one replaced it).
        return "ignored_other_subscription"
    if subscription.dodo_event_at and event_at and event_at < subscription.dodo_event_at:
        # Delivered out of order: newer state is already applied.
        return "ignored_stale"
    return None


# --- What each subscription event means, once Dodo's view is copied ------------------------


@dataclass
class Change:
    subscription: Subscription
    data: dict[str, Any]
    event_at: datetime | None
    previous_reset: datetime


def _activated(change: Change) -> None:
    change.subscription.status = SubscriptionStatus.ACTIVE


def _renewed(change: Change) -> None:
    subscription = change.subscription
    subscription.status = SubscriptionStatus.ACTIVE
    period_start = _parse_time(change.data.get("previous_billing_date"))
    # Our hourly reset may have got there first (the renewal arrived late): reset only if
    # this period's usage has not been reset yet.
    if period_start is None or change.previous_reset <= period_start + _RENEWAL_SLACK:
        subscription.current_podcast_count = 0
        subscription.current_minutes_used = 0


def _payment_trouble(change: Change) -> None:
    change.subscription.status = SubscriptionStatus.PAST_DUE


def _cancelled(change: Change) -> None:
    subscription = change.subscription
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.cancel_at_period_end = True
    cancelled_at = _parse_time(change.data.get("cancelled_at"))
    subscription.cancelled_at = cancelled_at or change.event_at or timezone.now()


def _changed(change: Change) -> None:
    """Plan changed or details updated: Dodo's view, already copied, is all there is."""


STATE_CHANGES: dict[str, Callable[[Change], None]] = {
    "subscription.active": _activated,
    "subscription.renewed": _renewed,
    "subscription.on_hold": _payment_trouble,
    "subscription.failed": _payment_trouble,
    "subscription.cancelled": _cancelled,
    "subscription.plan_changed": _changed,
    "subscription.updated": _changed,
}

HANDLERS: dict[str, Callable[[str, dict[str, Any], datetime | None], Outcome]] = {
    "payment.succeeded": _payment_recorded,
    "payment.failed": _payment_recorded,
    "subscription.expired": _subscription_event,
    **{event_type: _subscription_event for event_type in STATE_CHANGES},
}


def _expire(subscription: Subscription) -> None:
    subscription_downgrade_to_free(subscription)
    subscription.current_period_start = add_months(subscription.usage_reset_date, -1)
    subscription.current_period_end = subscription.usage_reset_date


def _settle(subscription: Subscription) -> None:
    """After any change: a live plan has no cancel date, the limits follow the plan and its
    status, and a cancelled plan whose period is over is FREE at once."""
    if subscription.status != SubscriptionStatus.CANCELLED:
        subscription.cancelled_at = None
    plan_limits_apply(subscription)
    if (
        subscription.status == SubscriptionStatus.CANCELLED
        and subscription.current_period_end <= timezone.now()
    ):
        subscription_downgrade_to_free(subscription)


# --- Reading Dodo's payload ------------------------------------------------------------------


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
    queryset = Subscription.objects.select_for_update() if lock else Subscription.objects
    dodo_id = data.get("subscription_id")
    if dodo_id:
        found = queryset.filter(dodo_subscription_id=dodo_id).first()
        if found:
            return found
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    user_id = metadata.get("userId")
    if user_id:
        user = get_user_model().objects.filter(id=str(user_id)).first()
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
