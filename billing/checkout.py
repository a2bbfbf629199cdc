"""Paying through Dodo Payments: a checkout for a new subscription, a plan change for a
paying customer, the customer portal, and cancelling at the end of the period. The local
plan changes only when Dodo's webhook confirms it (billing.dodo_webhooks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from billing import dodo
from billing.errors import PaymentProviderFailed, PaymentsUnavailable
from billing.models import Subscription, SubscriptionStatus
from billing.plans import PAID_PLANS, product_id_for
from billing.services import subscription_for
from podnex.api.errors import Conflict, InvalidInput, NotFound

logger = logging.getLogger(__name__)


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
