from django.contrib import admin, messages

from podcasts import services
from podcasts.models import Feed, Podcast, PodcastJob


class PodcastJobInline(admin.TabularInline):
    model = PodcastJob
    extra = 0
    can_delete = False
    fields = [
        "job_id",
        "status",
        "progress",
        "current_step",
        "attempts",
        "started_at",
        "completed_at",
        "error",
    ]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Podcast)
class PodcastAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "user",
        "status",
        "progress",
        "duration",
        "audio_duration",
        "tts_provider",
        "created_at",
        "deleted_at",
    ]
    list_filter = [
        "status",
        ("user__subscription__plan", admin.ChoicesFieldListFilter),
        "duration",
        "tts_provider",
        "created_at",
        ("deleted_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["id", "title", "user__email", "note_id"]
    list_select_related = ["user"]
    readonly_fields = ["id", "created_at", "updated_at", "started_at", "completed_at"]
    raw_id_fields = ["user"]
    inlines = [PodcastJobInline]
    actions = ["retry_failed", "cancel_running"]
    date_hierarchy = "created_at"

    @admin.action(description="Retry selected failed podcasts")
    def retry_failed(self, request, queryset):
        retried = 0
        for podcast in queryset.filter(status="FAILED", deleted_at__isnull=True):
            services.podcast_retry(user=podcast.user, podcast_id=podcast.id)
            retried += 1
        self.message_user(request, f"{retried} podcast(s) queued again.", messages.SUCCESS)

    @admin.action(description="Cancel selected queued or running podcasts")
    def cancel_running(self, request, queryset):
        cancelled = sum(services.podcast_cancel(podcast_id=p.id) for p in queryset)
        self.message_user(request, f"{cancelled} podcast(s) cancelled.", messages.SUCCESS)


@admin.register(PodcastJob)
class PodcastJobAdmin(admin.ModelAdmin):
    list_display = [
        "job_id",
        "podcast",
        "status",
        "progress",
        "current_step",
        "attempts",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["job_id", "podcast__id", "podcast__title", "error"]
    list_select_related = ["podcast"]
    raw_id_fields = ["podcast"]
    readonly_fields = ["id", "created_at"]


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ("user", "title", "language", "category", "explicit", "updated_at")
    search_fields = ("user__email", "title")
    # The token's nonce and hash stay out of forms: rotating is the owner's action.
    exclude = ("token_nonce", "token_hash")
    readonly_fields = ("image_key", "intro_key", "outro_key", "bed_key", "created_at")
    raw_id_fields = ("user",)

    def has_add_permission(self, request) -> bool:
        return False  # a feed is made with its secret on the owner's first GET /feed
