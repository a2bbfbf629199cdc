"""Billing's domain errors, rendered by podnex.api.handlers.exception_handler."""

from __future__ import annotations

from rest_framework import status

from podnex.api.errors import DomainError, Forbidden


class PlanLimitReached(Forbidden):
    """403 with the plan's body: `reason` and `subscription{plan, usage, limit, resetDate}`."""

    code = "plan_limit_reached"
    message = "Subscription limit reached"


class PaymentsUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "payments_unavailable"
    message = "Payments are not configured on this server"


class PaymentProviderFailed(DomainError):
    status_code = status.HTTP_502_BAD_GATEWAY
    code = "payment_provider_error"
    message = "The payment provider could not complete the request"
