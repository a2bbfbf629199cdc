"""Request validation and response shapes of /api/v1/api-keys (camelCase as the plan)."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from apikeys.models import ApiKey
from apikeys.scopes import SCOPES
from podnex.api.fields import StrictCharField


class StrictIntegerField(serializers.IntegerField):
    """An integer that refuses strings, booleans and fractions instead of coercing them."""

    default_error_messages = {"not_an_integer": "Must be an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


def _scopes_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=list(SCOPES)),
        min_length=1,
        help_text="Scopes: " + "; ".join(f"`{s}`: {d}" for s, d in SCOPES.items()),
        **kwargs,
    )


def _unique(scopes: list[str]) -> list[str]:
    return list(dict.fromkeys(scopes))


class _NoUnknownFields(serializers.Serializer):
    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return attrs


class ApiKeyCreateSerializer(_NoUnknownFields):
    name = StrictCharField(trim_whitespace=True, max_length=100, allow_blank=False)
    scopes = _scopes_field(required=False)
    expiresAt = serializers.DateTimeField(required=False, allow_null=True)
    rateLimit = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=ApiKey.RATE_LIMIT_MAX,
        help_text=f"Requests per hour (default {ApiKey.RATE_LIMIT_DEFAULT}).",
    )

    def validate_scopes(self, value: list[str]) -> list[str]:
        return _unique(value)

    def validate_expiresAt(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value


class ApiKeyUpdateSerializer(_NoUnknownFields):
    name = StrictCharField(required=False, trim_whitespace=True, max_length=100)
    scopes = _scopes_field(required=False)
    rateLimit = StrictIntegerField(required=False, min_value=1, max_value=ApiKey.RATE_LIMIT_MAX)

    def validate_name(self, value: str) -> str:
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        return value

    def validate_scopes(self, value: list[str]) -> list[str]:
        return _unique(value)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if not attrs:
            raise serializers.ValidationError("Give at least one of name, scopes, rateLimit.")
        return attrs


class ApiKeySerializer(serializers.Serializer):
    """A key as listed: masked, only its prefix is ever shown again."""

    id = serializers.CharField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters, e.g. pk_live_Ab3x")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=list(SCOPES)))
    active = serializers.BooleanField(help_text="False once revoked")
    lastUsedAt = serializers.DateTimeField(source="last_used_at", allow_null=True)
    usageCount = serializers.IntegerField(source="usage_count")
    rateLimit = serializers.IntegerField(source="rate_limit", help_text="Requests per hour")
    createdAt = serializers.DateTimeField(source="created_at")
    expiresAt = serializers.DateTimeField(source="expires_at", allow_null=True)
