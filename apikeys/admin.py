from django.contrib import admin

from apikeys.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "user",
        "active",
        "rate_limit",
        "usage_count",
        "last_used_at",
        "expires_at",
        "created_at",
    ]
    list_filter = ["active", "created_at", "expires_at"]
    search_fields = ["name", "prefix", "user__email", "id"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    # The digest is never useful to staff and never editable.
    exclude = ["key"]
    readonly_fields = ["id", "prefix", "usage_count", "last_used_at", "created_at"]

    def has_add_permission(self, request) -> bool:
        # A key is shown once, to its owner, by POST /api/v1/api-keys; the admin cannot.
        return False
