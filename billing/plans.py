"""The plan table: what each plan allows per billing period. The one place limits live.

`None` means unlimited (BUSINESS). Dodo product ids per paid plan come from settings
(DODO_PRODUCT_ID_STARTER, _PRO, _BUSINESS); FREE has no product.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from billing.models import SubscriptionPlan


@dataclass(frozen=True)
class PlanLimits:
    podcasts: int | None  # podcasts per period; None = unlimited
    minutes: int | None  # audio minutes per period; None = unlimited


PLAN_LIMITS: dict[str, PlanLimits] = {
    SubscriptionPlan.FREE: PlanLimits(podcasts=5, minutes=25),
    SubscriptionPlan.STARTER: PlanLimits(podcasts=50, minutes=250),
    SubscriptionPlan.PRO: PlanLimits(podcasts=200, minutes=1000),
    SubscriptionPlan.BUSINESS: PlanLimits(podcasts=None, minutes=None),
}

PAID_PLANS = (SubscriptionPlan.STARTER, SubscriptionPlan.PRO, SubscriptionPlan.BUSINESS)


def plan_limits(plan: str) -> PlanLimits:
    return PLAN_LIMITS[plan]


def product_id_for(plan: str) -> str:
    """The Dodo product of a paid plan ("" when not configured)."""
    return {
        SubscriptionPlan.STARTER: settings.DODO_PRODUCT_ID_STARTER,
        SubscriptionPlan.PRO: settings.DODO_PRODUCT_ID_PRO,
        SubscriptionPlan.BUSINESS: settings.DODO_PRODUCT_ID_BUSINESS,
    }.get(plan, "")


def plan_for_product(product_id: str | None) -> str | None:
    """The paid plan sold as this Dodo product, or None for a product we do not know."""
    if not product_id:
        return None
    for plan in PAID_PLANS:
        if product_id_for(plan) == product_id:
            return plan
    return None
