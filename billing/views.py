"""/api/v1/user/subscription*, /api/v1/user/usage and /api/v1/billing/*."""

from __future__ import annotations

import json
import math

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from apikeys import scopes
from billing import checkout, dodo, dodo_webhooks, selectors
from billing.models import DodoWebhookEvent
from billing.serializers import (
    CurrentPeriodSerializer,
    MonthTotalsSerializer,
    PlanRequestSerializer,
    SubscriptionSerializer,
    UpgradeSerializer,
    UsageQuerySerializer,
    UsageRecordSerializer,
)
from podnex.api.errors import DomainError
from podnex.api.pagination import PaginationSerializer, paginate
from podnex.api.responses import ErrorSerializer, envelope, ok, validated

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer}
PROVIDER_ERRORS = {502: ErrorSerializer, 503: ErrorSerializer}


def _upgrade(request):
    data = validated(PlanRequestSerializer, request.data)
    result = checkout.subscription_upgrade(user=request.user, plan=data["plan"].upper())
    return ok(checkoutUrl=result.checkout_url, mode=result.mode, plan=result.plan.lower())


class SubscriptionView(APIView):
    # API keys may read it; cancelling needs a signed-in session.
    required_scopes = {"GET": scopes.USAGE_READ}

    @extend_schema(
        operation_id="user_subscription_retrieve",
        summary="Plan, status, limits, usage, period and cancel state",
        responses={
            200: envelope("SubscriptionDetail", subscription=SubscriptionSerializer()),
            **ERRORS,
        },
    )
    def get(self, request):
        return ok(subscription=selectors.user_subscription_summary(user=request.user))

    @extend_schema(
        operation_id="user_subscription_cancel",
        summary="Cancel the paid plan at the end of the current period",
        description="The plan's limits hold until `currentPeriodEnd`; then the account "
        "returns to the free plan. Cancelling twice is harmless.",
        request=None,
        responses={
            200: envelope("SubscriptionCancelled", subscription=SubscriptionSerializer()),
            409: ErrorSerializer,
            **ERRORS,
            **PROVIDER_ERRORS,
        },
    )
    def delete(self, request):
        subscription = checkout.subscription_cancel(user=request.user)
        return ok(subscription=selectors.subscription_summary(subscription))


_UPGRADE_SCHEMA = {
    "request": PlanRequestSerializer,
    "responses": {
        200: envelope("CheckoutStarted", **UpgradeSerializer().fields),
        409: ErrorSerializer,
        **ERRORS,
        **PROVIDER_ERRORS,
    },
    "description": "A user without a paid subscription gets a Dodo checkout session "
    "(`mode: checkout`, pay at `checkoutUrl`). A paying user's subscription is moved to "
    "the new plan (`mode: plan_change`; `checkoutUrl` is a payment link when Dodo needs "
    "one, else null). The plan changes here when Dodo's webhook confirms it.",
}


class SubscriptionUpgradeView(APIView):
    @extend_schema(operation_id="user_subscription_upgrade", **_UPGRADE_SCHEMA)
    def post(self, request):
        return _upgrade(request)


class CheckoutView(APIView):
    @extend_schema(operation_id="billing_checkout", **_UPGRADE_SCHEMA)
    def post(self, request):
        return _upgrade(request)


class PortalView(APIView):
    @extend_schema(
        operation_id="billing_portal",
        summary="Link to Dodo's customer portal (payment methods, invoices)",
        responses={
            200: envelope("BillingPortal", portalUrl=serializers.URLField()),
            404: ErrorSerializer,
            **ERRORS,
            **PROVIDER_ERRORS,
        },
    )
    def get(self, request):
        return ok(portalUrl=checkout.billing_portal_link(user=request.user))


class UsageView(APIView):
    required_scopes = scopes.USAGE_READ

    @extend_schema(
        operation_id="user_usage",
        summary="Current period usage and the usage records of one month",
        parameters=[UsageQuerySerializer],
        responses={
            200: envelope(
                "Usage",
                currentPeriod=CurrentPeriodSerializer(),
                month=MonthTotalsSerializer(),
                history=UsageRecordSerializer(many=True),
                pagination=PaginationSerializer(),
            ),
            **ERRORS,
        },
    )
    def get(self, request):
        query = validated(UsageQuerySerializer, request.query_params)
        usage = selectors.usage_month(user=request.user, month=query.get("month"))
        summary = selectors.subscription_summary(usage.subscription)
        page = paginate(usage.records, page=query["page"], limit=query["limit"])
        return ok(
            currentPeriod={
                "podcastsUsed": summary["currentPodcastCount"],
                "podcastsLimit": summary["monthlyPodcastLimit"],
                "minutesUsed": summary["currentMinutesUsed"],
                "minutesLimit": summary["monthlyMinutesLimit"],
                "podcastsReserved": summary["reservedPodcastCount"],
                "minutesReserved": summary["reservedMinutes"],
                "resetDate": summary["usageResetDate"],
            },
            month={
                "month": usage.month,
                "podcasts": usage.podcasts,
                "seconds": usage.seconds,
                "minutes": math.ceil(usage.seconds / 60),
                "credits": usage.credits,
            },
            history=UsageRecordSerializer(page.items, many=True).data,
            pagination=page.meta(),
        )


class DodoWebhookView(APIView):
    """Dodo Payments calls this; it authenticates by Standard Webhooks signature only."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Signed deliveries from Dodo's few addresses: a burst of events must not get a 429.
    throttle_classes: list = []

    @extend_schema(
        operation_id="billing_webhooks",
        summary="Dodo Payments webhook receiver",
        description="Verifies `webhook-id`, `webhook-timestamp` and `webhook-signature` "
        "(Standard Webhooks, DODO_PAYMENTS_WEBHOOK_KEY) against the raw body. Each "
        "`webhook-id` is applied once; an event older than the state it would change is "
        "recorded and ignored.",
        request={"application/json": {"type": "object"}},
        parameters=[
            OpenApiParameter(name, location=OpenApiParameter.HEADER, required=True)
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        ],
        responses={
            200: envelope(
                "WebhookAccepted",
                received=serializers.BooleanField(),
                duplicate=serializers.BooleanField(),
            ),
            400: ErrorSerializer,
            401: ErrorSerializer,
            503: ErrorSerializer,
        },
    )
    def post(self, request):
        body = request.body  # the raw bytes: the signature covers them exactly
        headers = {
            name: request.headers.get(name, "")
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        try:
            dodo.webhook_verify(body=body, headers=headers)
        except dodo.PaymentsNotConfigured as exc:
            raise _WebhooksUnavailable(exc.message) from exc
        except dodo.InvalidWebhook as exc:
            raise _InvalidSignature(f"Invalid webhook signature: {exc}") from exc
        except dodo.InvalidWebhookPayload as exc:
            raise DomainError(str(exc), code="invalid_payload") from exc
        if len(headers["webhook-id"]) > DodoWebhookEvent.webhook_id.field.max_length:
            raise DomainError("webhook-id is too long", code="invalid_webhook_id")
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise DomainError("Webhook payload must be a JSON object", code="invalid_payload")
        event = dodo_webhooks.dodo_webhook_receive(
            webhook_id=headers["webhook-id"], payload=payload
        )
        return ok(received=True, duplicate=event is None)


class _InvalidSignature(DomainError):
    status_code = 401
    code = "invalid_signature"


class _WebhooksUnavailable(DomainError):
    status_code = 503
    code = "webhooks_unavailable"
