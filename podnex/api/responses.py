"""Success envelope helpers: {"success": true, ...}."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.response import Response


def ok(status: int = 200, **data: Any) -> Response:
    return Response({"success": True, **data}, status=status)


def envelope(name: str, **fields: serializers.Field) -> serializers.Serializer:
    """Schema of a success response: `success` plus the given fields."""
    return inline_serializer(name=name, fields={"success": serializers.BooleanField(), **fields})


class ErrorSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = serializers.CharField()
    code = serializers.CharField()
    details = serializers.DictField(required=False)
    retryAfter = serializers.IntegerField(required=False, help_text="Seconds to wait (429)")


# The error answers most /api/v1 operations document (all in the contract's error shape).
ERROR_RESPONSES = {code: ErrorSerializer for code in (400, 401, 403, 404, 409)}


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict:
    """Validated data of a request, or a 400 in the contract's shape."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
