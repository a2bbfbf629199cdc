from rest_framework import serializers

# API name -> NotificationPreference field.
FIELDS = {
    "episodeCompleted": "episode_completed",
    "episodeFailed": "episode_failed",
    "paymentReceipts": "payment_receipts",
    "paymentFailed": "payment_failed",
    "usageWarnings": "usage_warnings",
}


class NotificationPreferencesSerializer(serializers.Serializer):
    episodeCompleted = serializers.BooleanField(
        source="episode_completed", help_text="an episode is ready"
    )
    episodeFailed = serializers.BooleanField(
        source="episode_failed", help_text="an episode could not be made"
    )
    paymentReceipts = serializers.BooleanField(
        source="payment_receipts", help_text="a receipt for each payment"
    )
    paymentFailed = serializers.BooleanField(
        source="payment_failed", help_text="a payment did not go through"
    )
    usageWarnings = serializers.BooleanField(
        source="usage_warnings", help_text="80% and 100% of the month's plan used"
    )


class NotificationPreferencesUpdateSerializer(NotificationPreferencesSerializer):
    """Any subset of the switches; unknown fields are ignored, like the rest of the API."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
