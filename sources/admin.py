from django.contrib import admin

from sources import services
from sources.models import Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "user",
        "type",
        "status",
        "content_type",
        "characters",
        "size",
        "created_at",
    ]
    list_filter = ["status", "type", "content_type", "created_at"]
    search_fields = ["id", "title", "user__email", "url", "filename"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = [
        "id",
        "type",
        "status",
        "error",
        "url",
        "filename",
        "content_type",
        "file_key",
        "size",
        "characters",
        "text",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "created_at"
    actions = ["delete_with_files"]

    @admin.action(description="Delete selected sources and their stored files")
    def delete_with_files(self, request, queryset):
        count = 0
        for source in queryset.select_related("user"):
            services.source_delete(user=source.user, source_id=source.id)
            count += 1
        self.message_user(request, f"Deleted {count} sources with their files.")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would leave the files behind
        return actions

    def delete_model(self, request, obj):
        services.source_delete(user=obj.user, source_id=obj.id)
