"""/api/v1/webhooks: thin views that parse, call a service or selector, and render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from apikeys import scopes
from podnex.api.pagination import PaginationSerializer
from podnex.api.responses import ERROR_RESPONSES, envelope, ok, validated
from webhooks_app import selectors, services
from webhooks_app.serializers import (
    DeliveryListQuerySerializer,
    DeliverySerializer,
    SigningSecretSerializer,
    WebhookCreateSerializer,
    WebhookListQuerySerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
    WebhookWithSecretSerializer,
)

ERRORS = ERROR_RESPONSES
TAGS = ["webhooks"]


class _WebhookView(APIView):
    required_scopes = scopes.WEBHOOK_MANAGE


def _with_secret(webhook) -> dict:
    data = WebhookSerializer(webhook).data
    data["secret"] = webhook.secret
    return data


class WebhookListCreateView(_WebhookView):
    @extend_schema(
        operation_id="webhooks_list",
        tags=TAGS,
        parameters=[WebhookListQuerySerializer],
        responses={
            200: envelope(
                "WebhookList",
                webhooks=WebhookSerializer(many=True),
                pagination=PaginationSerializer(),
            ),
            **ERRORS,
        },
    )
    def get(self, request):
        query = validated(WebhookListQuerySerializer, request.query_params)
        page = selectors.webhook_list(user=request.user, **query)
        return ok(webhooks=WebhookSerializer(page.items, many=True).data, pagination=page.meta())

    @extend_schema(
        operation_id="webhooks_create",
        tags=TAGS,
        request=WebhookCreateSerializer,
        responses={
            201: envelope("WebhookCreated", webhook=WebhookWithSecretSerializer()),
            **ERRORS,
        },
    )
    def post(self, request):
        data = validated(WebhookCreateSerializer, request.data)
        webhook = services.webhook_create(
            user=request.user, url=data["url"], events=data["events"], active=data["active"]
        )
        return ok(status=201, webhook=_with_secret(webhook))


class WebhookDetailView(_WebhookView):
    @extend_schema(
        operation_id="webhooks_retrieve",
        tags=TAGS,
        responses={200: envelope("WebhookDetail", webhook=WebhookSerializer()), **ERRORS},
    )
    def get(self, request, webhook_id: str):
        webhook = services.webhook_get(user=request.user, webhook_id=webhook_id)
        return ok(webhook=WebhookSerializer(webhook).data)

    @extend_schema(
        operation_id="webhooks_update",
        tags=TAGS,
        request=WebhookUpdateSerializer,
        responses={200: envelope("WebhookUpdated", webhook=WebhookSerializer()), **ERRORS},
    )
    def patch(self, request, webhook_id: str):
        data = validated(WebhookUpdateSerializer, request.data)
        webhook = services.webhook_update(user=request.user, webhook_id=webhook_id, **data)
        return ok(webhook=WebhookSerializer(webhook).data)

    @extend_schema(
        operation_id="webhooks_destroy",
        tags=TAGS,
        responses={200: envelope("WebhookDeleted", message=serializers.CharField()), **ERRORS},
    )
    def delete(self, request, webhook_id: str):
        services.webhook_delete(user=request.user, webhook_id=webhook_id)
        return ok(message="Webhook deleted")


class WebhookRotateSecretView(_WebhookView):
    @extend_schema(
        operation_id="webhooks_rotate_secret",
        tags=TAGS,
        request=None,
        description="New signing secret. For `WEBHOOK_SECRET_GRACE` seconds the old one "
        "still signs too (a second `v1,` signature), so receivers can switch without loss.",
        responses={
            200: envelope("WebhookSecretRotated", webhook=WebhookWithSecretSerializer()),
            **ERRORS,
        },
    )
    def post(self, request, webhook_id: str):
        webhook = services.webhook_secret_rotate(user=request.user, webhook_id=webhook_id)
        return ok(webhook=_with_secret(webhook))


class WebhookDeliveryListView(_WebhookView):
    @extend_schema(
        operation_id="webhooks_deliveries",
        tags=TAGS,
        parameters=[DeliveryListQuerySerializer],
        responses={
            200: envelope(
                "WebhookDeliveryList",
                deliveries=DeliverySerializer(many=True),
                pagination=PaginationSerializer(),
            ),
            **ERRORS,
        },
    )
    def get(self, request, webhook_id: str):
        query = validated(DeliveryListQuerySerializer, request.query_params)
        webhook = services.webhook_get(user=request.user, webhook_id=webhook_id)
        page = selectors.delivery_list(webhook=webhook, **query)
        return ok(deliveries=DeliverySerializer(page.items, many=True).data, pagination=page.meta())


class WebhookTestView(_WebhookView):
    @extend_schema(
        operation_id="webhooks_test",
        tags=TAGS,
        request=None,
        description="Sends a signed `webhook.test` event now and answers with the delivery "
        "(state `delivered` or `failed`); a test is not retried.",
        responses={200: envelope("WebhookTested", delivery=DeliverySerializer()), **ERRORS},
    )
    def post(self, request, webhook_id: str):
        delivery = services.webhook_test(user=request.user, webhook_id=webhook_id)
        return ok(delivery=DeliverySerializer(delivery).data)


def _secret_fields() -> dict:
    return {
        "signingSecret": serializers.CharField(help_text="Standard Webhooks secret, whsec_..."),
        "updatedAt": serializers.DateTimeField(),
    }


class SigningSecretView(_WebhookView):
    @extend_schema(
        operation_id="webhooks_signing_secret",
        tags=TAGS,
        description="The secret that signs events sent to a podcast's `webhookUrl` "
        "(per-request webhooks). Created on first use.",
        responses={200: envelope("SigningSecret", **_secret_fields()), **ERRORS},
    )
    def get(self, request):
        key = services.signing_key_get(user=request.user)
        return ok(**SigningSecretSerializer(key).data)


class SigningSecretRotateView(_WebhookView):
    @extend_schema(
        operation_id="webhooks_signing_secret_rotate",
        tags=TAGS,
        request=None,
        responses={200: envelope("SigningSecretRotated", **_secret_fields()), **ERRORS},
    )
    def post(self, request):
        key = services.signing_key_rotate(user=request.user)
        return ok(**SigningSecretSerializer(key).data)
