from django.contrib import admin

from notifications.models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "user", "to_email", "status", "attempts", "sent_at")
    list_filter = ("kind", "status")
    search_fields = ("user__email", "event_key", "to_email")
    readonly_fields = [f.name for f in Notification._meta.fields]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "episode_completed", "episode_failed", "payment_receipts")
    search_fields = ("user__email",)
