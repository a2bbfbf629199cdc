"""Dodo Payments through its official SDK: checkout, customer portal, subscription changes
and webhook verification. Reads django.conf.settings only; every failure is one
`PaymentProviderError` so callers need to know nothing about the SDK's exceptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dodopayments
from django.conf import settings
from dodopayments import DodoPayments
from standardwebhooks import WebhookVerificationError


class PaymentProviderError(Exception):
    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class PaymentsNotConfigured(PaymentProviderError):
    pass


class InvalidWebhookPayload(Exception):
    """Correctly signed, but not a JSON document we can read (e.g. nested past the stack)."""


class InvalidWebhook(Exception):
    """Signature missing, wrong or too old (or too new): the delivery is not from Dodo."""


def is_configured() -> bool:
    return bool(settings.DODO_PAYMENTS_API_KEY)


def client() -> DodoPayments:
    if not is_configured():
        raise PaymentsNotConfigured("Payments are not configured (DODO_PAYMENTS_API_KEY)")
    # Pass base_url explicitly (None when unset) so the SDK never reads the environment
    # itself and the host is whatever settings say: the override, or the mode's host.
    return DodoPayments(
        bearer_token=settings.DODO_PAYMENTS_API_KEY,
        webhook_key=settings.DODO_PAYMENTS_WEBHOOK_KEY or None,
        environment=settings.DODO_PAYMENTS_ENVIRONMENT,
        base_url=settings.DODO_PAYMENTS_BASE_URL or None,
        timeout=settings.DODO_PAYMENTS_TIMEOUT,
    )


def _call(fn, *args, **kwargs) -> Any:
    try:
        return fn(*args, **kwargs)
    except dodopayments.APIStatusError as exc:
        raise PaymentProviderError(
            f"Dodo Payments answered {exc.status_code}: {_api_message(exc)}",
            status=exc.status_code,
        ) from exc
    except dodopayments.APIError as exc:  # connection errors, timeouts, bad responses
        raise PaymentProviderError(f"Dodo Payments unreachable: {exc}") from exc


def _api_message(exc: dodopayments.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return str(body or exc.message)


def checkout_create(
    *, product_id: str, customer: dict[str, str], metadata: dict[str, str], return_url: str
) -> str:
    """A hosted checkout session for one subscription product; returns its URL."""
    session = _call(
        client().checkout_sessions.create,
        product_cart=[{"product_id": product_id, "quantity": 1}],
        customer=customer,
        metadata=metadata,
        return_url=return_url,
    )
    if not session.checkout_url:
        raise PaymentProviderError("Dodo Payments returned no checkout URL")
    return session.checkout_url


def portal_link(*, customer_id: str, return_url: str | None = None) -> str:
    kwargs = {"return_url": return_url} if return_url else {}
    session = _call(client().customers.customer_portal.create, customer_id, **kwargs)
    return session.link


def subscription_cancel_at_period_end(*, subscription_id: str) -> None:
    _call(client().subscriptions.update, subscription_id, cancel_at_next_billing_date=True)


def subscription_change_plan(
    *, subscription_id: str, product_id: str, metadata: dict[str, str]
) -> str | None:
    """Move a running subscription to another product. Returns a payment link when Dodo
    needs the customer to pay on a hosted page, else None."""
    response = _call(
        client().subscriptions.change_plan,
        subscription_id,
        product_id=product_id,
        quantity=1,
        proration_billing_mode=settings.DODO_PRORATION_BILLING_MODE,
        metadata=metadata,
    )
    return response.payment_link


def webhook_verify(*, body: bytes, headers: Mapping[str, str]) -> None:
    """Check the Standard Webhooks signature of a delivery against the raw body.

    Raises InvalidWebhook for a bad, missing or stale (> 5 minutes) signature."""
    key = settings.DODO_PAYMENTS_WEBHOOK_KEY
    if not key:
        raise PaymentsNotConfigured("Webhooks are not configured (DODO_PAYMENTS_WEBHOOK_KEY)")
    # The SDK's client wants a bearer token even just to verify; a webhook-only setup has
    # none, and unwrap() never calls the API.
    verifier = DodoPayments(
        bearer_token=settings.DODO_PAYMENTS_API_KEY or "unused",
        webhook_key=key,
        environment=settings.DODO_PAYMENTS_ENVIRONMENT,
        base_url=settings.DODO_PAYMENTS_BASE_URL or None,
    )
    try:
        verifier.webhooks.unwrap(body.decode("utf-8"), headers=dict(headers))
    except (WebhookVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidWebhook(str(exc) or "Invalid signature") from exc
    except RecursionError:
        # The SDK parses the body after the signature held: a signed body can still be junk.
        raise InvalidWebhookPayload("The webhook body is nested too deeply") from None
