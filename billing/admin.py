from django.contrib import admin

from billing.models import DodoWebhookEvent, Subscription, UsageRecord, UsageReservation


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "plan",
        "status",
        "current_podcast_count",
        "monthly_podcast_limit",
        "current_minutes_used",
        "monthly_minutes_limit",
        "usage_reset_date",
        "cancel_at_period_end",
    ]
    list_filter = ["plan", "status", "cancel_at_period_end"]
    search_fields = ["user__email", "dodo_customer_id", "dodo_subscription_id", "id"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = ["user_id", "podcast_id", "duration", "credits", "billing_month", "recorded_at"]
    list_filter = ["billing_month", "recorded_at"]
    search_fields = ["user_id", "podcast_id", "subscription__user__email"]
    raw_id_fields = ["subscription"]
    readonly_fields = ["id", "recorded_at"]


@admin.register(UsageReservation)
class UsageReservationAdmin(admin.ModelAdmin):
    """Quota held by queued or running podcasts (deleting one frees it by hand)."""

    list_display = ["podcast_id", "subscription", "minutes", "created_at"]
    search_fields = ["podcast_id", "subscription__user__email"]
    raw_id_fields = ["subscription"]
    readonly_fields = ["id", "created_at"]


@admin.register(DodoWebhookEvent)
class DodoWebhookEventAdmin(admin.ModelAdmin):
    list_display = ["event_type", "outcome", "webhook_id", "event_at", "received_at"]
    list_filter = ["event_type", "outcome"]
    search_fields = ["webhook_id", "subscription__user__email"]
    raw_id_fields = ["subscription"]
    readonly_fields = [
        "id",
        "webhook_id",
        "event_type",
        "event_at",
        "payload",
        "outcome",
        "subscription",
        "received_at",
    ]
