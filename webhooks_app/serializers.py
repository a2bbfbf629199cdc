"""Request validation and response shapes of /api/v1/webhooks (camelCase as the plan)."""

from __future__ import annotations

from rest_framework import serializers

from podnex.api.fields import HttpUrlField
from webhooks_app.models import SUBSCRIBABLE_EVENTS, DeliveryState, WebhookEvent, WebhookKind

EVENT_NAMES = [e.label for e in SUBSCRIBABLE_EVENTS]
_EVENT_BY_NAME = {e.label: e.value for e in SUBSCRIBABLE_EVENTS}


class EventListField(serializers.ListField):
    """Event names as the API writes them ("podcast.completed"), stored as the enum."""

    child = serializers.ChoiceField(choices=EVENT_NAMES)

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("max_length", len(EVENT_NAMES))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return [_EVENT_BY_NAME[name] for name in super().to_internal_value(data)]


class WebhookCreateSerializer(serializers.Serializer):
    url = HttpUrlField(max_length=2000)
    events = EventListField(
        required=False, default=list(EVENT_NAMES), help_text="Default: every podcast event."
    )
    active = serializers.BooleanField(required=False, default=True)

    def validate_events(self, value):
        # The default is given as names; a given list arrives converted.
        return [_EVENT_BY_NAME.get(v, v) for v in value]


class WebhookUpdateSerializer(serializers.Serializer):
    url = HttpUrlField(max_length=2000, required=False)
    events = EventListField(required=False)
    active = serializers.BooleanField(required=False)


class WebhookListQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)
    kind = serializers.ChoiceField(
        choices=[k.label for k in WebhookKind],
        required=False,
        default="endpoint",
        help_text="endpoint: registered here; per_request: from a podcast's webhookUrl.",
    )


class DeliveryListQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)
    state = serializers.ChoiceField(choices=[s.label for s in DeliveryState], required=False)


class WebhookSerializer(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.CharField()
    events = serializers.SerializerMethodField()
    active = serializers.BooleanField()
    kind = serializers.SerializerMethodField()
    successCount = serializers.IntegerField(source="success_count")
    failureCount = serializers.IntegerField(source="failure_count")
    lastTriggeredAt = serializers.DateTimeField(source="last_triggered_at", allow_null=True)
    failingSince = serializers.DateTimeField(source="failing_since", allow_null=True)
    disabledAt = serializers.DateTimeField(source="disabled_at", allow_null=True)
    disabledReason = serializers.CharField(source="disabled_reason", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_events(self, obj) -> list[str]:
        return [WebhookEvent(e).label for e in obj.events]

    def get_kind(self, obj) -> str:
        return WebhookKind(obj.kind).label


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="Standard Webhooks signing secret. Shown only on creation and rotation."
    )


class DeliverySerializer(serializers.Serializer):
    id = serializers.CharField()
    webhookId = serializers.CharField(source="webhook_id")
    event = serializers.SerializerMethodField()
    messageId = serializers.CharField(
        source="message_id", help_text="The webhook-id header; the same on every retry."
    )
    state = serializers.SerializerMethodField()
    status = serializers.IntegerField(help_text="HTTP status of the last attempt; 0: no answer")
    response = serializers.CharField(allow_null=True, help_text="Last answer's body, truncated")
    lastError = serializers.CharField(source="last_error", allow_null=True)
    attempts = serializers.IntegerField()
    nextAttemptAt = serializers.DateTimeField(source="next_attempt_at", allow_null=True)
    durationMs = serializers.IntegerField(source="duration_ms", allow_null=True)
    payload = serializers.JSONField()
    createdAt = serializers.DateTimeField(source="created_at")
    deliveredAt = serializers.DateTimeField(source="delivered_at", allow_null=True)

    def get_event(self, obj) -> str:
        return WebhookEvent(obj.event).label

    def get_state(self, obj) -> str:
        return DeliveryState(obj.state).label


class SigningSecretSerializer(serializers.Serializer):
    signingSecret = serializers.CharField(source="secret")
    updatedAt = serializers.DateTimeField(source="updated_at")
