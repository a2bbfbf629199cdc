"""/api/v1/api-keys: managed from a signed-in session only, never with an API key."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from apikeys import selectors, services
from apikeys.serializers import ApiKeyCreateSerializer, ApiKeySerializer, ApiKeyUpdateSerializer
from podnex.api.responses import ErrorSerializer, envelope, ok, validated

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


class ApiKeyListCreateView(APIView):
    # A leaked key must not be able to mint, widen or revoke keys.
    allow_api_keys = False

    @extend_schema(
        operation_id="api_keys_list",
        responses={200: envelope("ApiKeyList", apiKeys=ApiKeySerializer(many=True)), **ERRORS},
    )
    def get(self, request):
        api_keys = selectors.api_key_list(user=request.user)
        return ok(apiKeys=ApiKeySerializer(api_keys, many=True).data)

    @extend_schema(
        operation_id="api_keys_create",
        description="Creates a key and returns it in `key`: this is the only time it is shown.",
        request=ApiKeyCreateSerializer,
        responses={
            201: envelope(
                "ApiKeyCreated",
                key=serializers.CharField(help_text="The key; shown once, never again"),
                prefix=serializers.CharField(),
                createdAt=serializers.DateTimeField(),
                apiKey=ApiKeySerializer(),
            ),
            **ERRORS,
        },
    )
    def post(self, request):
        data = validated(ApiKeyCreateSerializer, request.data)
        api_key, raw_key = services.api_key_create(
            user=request.user,
            name=data["name"],
            scopes=data.get("scopes"),
            expires_at=data.get("expiresAt"),
            rate_limit=data.get("rateLimit"),
        )
        shown = ApiKeySerializer(api_key).data
        return ok(
            status=201,
            key=raw_key,
            prefix=api_key.prefix,
            createdAt=shown["createdAt"],
            apiKey=shown,
        )


class ApiKeyDetailView(APIView):
    allow_api_keys = False

    @extend_schema(
        operation_id="api_keys_update",
        request=ApiKeyUpdateSerializer,
        responses={
            200: envelope("ApiKeyUpdated", apiKey=ApiKeySerializer()),
            404: ErrorSerializer,
            409: ErrorSerializer,
            **ERRORS,
        },
    )
    def patch(self, request, api_key_id: str):
        data = validated(ApiKeyUpdateSerializer, request.data)
        api_key = services.api_key_update(
            user=request.user,
            api_key_id=api_key_id,
            name=data.get("name"),
            scopes=data.get("scopes"),
            rate_limit=data.get("rateLimit"),
        )
        [api_key] = selectors.with_pending_uses([api_key])
        return ok(apiKey=ApiKeySerializer(api_key).data)

    @extend_schema(
        operation_id="api_keys_revoke",
        description="Revokes the key: it stops working at once. The row stays, inactive.",
        responses={
            200: envelope("ApiKeyRevoked", message=serializers.CharField()),
            404: ErrorSerializer,
            **ERRORS,
        },
    )
    def delete(self, request, api_key_id: str):
        services.api_key_revoke(user=request.user, api_key_id=api_key_id)
        return ok(message="API key revoked")
