from django.contrib import admin

from webhooks_app.models import Webhook, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = [
        "url",
        "user",
        "active",
        "success_count",
        "failure_count",
        "last_triggered_at",
        "created_at",
    ]
    list_filter = ["active", "created_at"]
    search_fields = ["url", "user__email", "id"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    exclude = ["secret"]
    readonly_fields = [
        "id",
        "success_count",
        "failure_count",
        "last_triggered_at",
        "created_at",
        "updated_at",
    ]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Deliveries are a log: staff read them, nobody edits them."""

    list_display = ["id", "webhook", "event", "status", "attempts", "created_at", "delivered_at"]
    list_filter = ["event", "status", "created_at"]
    search_fields = ["id", "webhook__url", "webhook__user__email"]
    list_select_related = ["webhook"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
