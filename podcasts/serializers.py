"""Request validation and response shapes of /api/v1/podcasts (camelCase as the plan)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from podcasts.languages import LANGUAGES
from podcasts.models import Podcast, PodcastDuration, PodcastStatus
from podcasts.providers import registry
from podnex.api.fields import DocumentedCharField, HttpUrlField, StrictCharField
from webhooks_app.ssrf import UnsafeUrl, url_check

DURATIONS = ["short", "long"]
MAX_INSTRUCTIONS_CHARS = 1000
STATUSES = [s.lower() for s in PodcastStatus.values]
SORTS = {"createdAt": "created_at", "updatedAt": "updated_at", "duration": "audio_duration"}


class PodcastCreateSerializer(serializers.Serializer):
    noteContent = StrictCharField(
        trim_whitespace=True, max_length=settings.MAX_NOTE_CHARS, allow_blank=False
    )
    duration = serializers.ChoiceField(choices=DURATIONS, default="short")
    title = StrictCharField(
        required=False, allow_blank=True, allow_null=True, max_length=settings.MAX_TITLE_CHARS
    )
    noteId = StrictCharField(required=False, allow_null=True, max_length=200)
    hostVoice = DocumentedCharField(
        required=False, default="host", max_length=100, schema=lambda: _voices_schema()
    )
    guestVoice = DocumentedCharField(
        required=False, default="guest", max_length=100, schema=lambda: _voices_schema()
    )
    ttsProvider = DocumentedCharField(
        required=False,
        max_length=30,
        schema=lambda: {"enum": registry.speech_provider_names()},
        help_text="A configured speech provider (GET /api/v1/voices).",
    )
    webhookUrl = HttpUrlField(required=False, allow_null=True, max_length=2000)
    language = DocumentedCharField(
        required=False,
        default="en",
        max_length=8,
        schema=lambda: {"enum": sorted(LANGUAGES)},
        help_text="ISO 639-1 code of the episode's language (e.g. en, fr, de). The script is "
        "written in it and voices are chosen for it where the provider has them.",
    )
    instructions = StrictCharField(
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=True,
        max_length=MAX_INSTRUCTIONS_CHARS,
        help_text="Free text about tone and focus for the script writer.",
    )

    def validate_language(self, value: str) -> str:
        code = value.strip().lower()
        if code not in LANGUAGES:
            raise serializers.ValidationError(
                f"Unknown language {value!r}; use an ISO 639-1 code such as en, fr or de."
            )
        return code

    def validate_webhookUrl(self, value: str | None) -> str | None:
        try:
            return url_check(value) and value if value else value  # no private targets
        except UnsafeUrl as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_ttsProvider(self, value: str) -> str:
        names = registry.speech_provider_names()
        if value not in names:
            raise serializers.ValidationError(
                f"Unknown provider {value!r}; available: {', '.join(names)}."
            )
        return value

    def validate(self, attrs: dict) -> dict:
        provider = attrs.get("ttsProvider") or registry.default_speech_provider_name()
        attrs["ttsProvider"] = provider
        errors = {}
        for field in ("hostVoice", "guestVoice"):
            voice = attrs[field]
            if not registry.voice_is_known(provider_name=provider, voice=voice):
                known = ", ".join(["host", "guest", *registry.voice_ids(provider)])
                errors[field] = [f"Unknown voice {voice!r} for {provider}; available: {known}."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PodcastListQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    sort = serializers.ChoiceField(choices=list(SORTS), required=False, default="createdAt")
    order = serializers.ChoiceField(choices=["asc", "desc"], required=False, default="desc")


class TranscriptQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["json", "srt", "vtt", "txt"], default="json")


def _lower(value: str | None) -> str | None:
    return value.lower() if value else value


class PodcastSummarySerializer(serializers.ModelSerializer):
    """What lists show: everything but the notes and the transcript."""

    userId = serializers.CharField(source="user_id", read_only=True)
    noteId = serializers.CharField(source="note_id", allow_null=True)
    duration = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    currentStep = serializers.CharField(source="current_step", allow_null=True)
    audioUrl = serializers.SerializerMethodField()
    audioDuration = serializers.FloatField(
        source="audio_duration", allow_null=True, help_text="seconds"
    )
    audioSize = serializers.IntegerField(source="audio_size", allow_null=True)
    hostVoice = serializers.CharField(source="host_voice")
    guestVoice = serializers.CharField(source="guest_voice")
    ttsProvider = serializers.CharField(source="tts_provider")
    webhookUrl = serializers.CharField(source="webhook_url", allow_null=True)
    language = serializers.CharField(help_text="ISO 639-1")
    instructions = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)
    retryCount = serializers.IntegerField(source="retry_count")

    class Meta:
        model = Podcast
        fields = [
            "id",
            "userId",
            "title",
            "noteId",
            "duration",
            "status",
            "progress",
            "currentStep",
            "audioUrl",
            "audioDuration",
            "audioSize",
            "hostVoice",
            "guestVoice",
            "ttsProvider",
            "webhookUrl",
            "language",
            "instructions",
            "createdAt",
            "updatedAt",
            "startedAt",
            "completedAt",
            "error",
            "retryCount",
        ]

    def get_duration(self, obj: Podcast) -> str:
        return obj.duration.lower()

    def get_status(self, obj: Podcast) -> str:
        return obj.status.lower()

    def get_audioUrl(self, obj: Podcast) -> str | None:
        """The download endpoint (which hands out a signed URL), once audio exists."""
        if obj.status != PodcastStatus.COMPLETED or not obj.audio_url:
            return None
        path = reverse("podcasts:download", kwargs={"podcast_id": obj.id})
        return f"{settings.PUBLIC_BASE_URL}{path}"


class TranscriptSegmentSerializer(serializers.Serializer):
    speaker = serializers.ChoiceField(choices=["host", "guest"])
    text = serializers.CharField()
    start = serializers.FloatField(help_text="seconds")
    end = serializers.FloatField(help_text="seconds")


class PodcastWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="e.g. notes_too_short_for_duration")
    message = serializers.CharField()


class PodcastDetailSerializer(PodcastSummarySerializer):
    noteContent = serializers.CharField(source="note_content")
    transcript = TranscriptSegmentSerializer(many=True, allow_null=True)
    warnings = PodcastWarningSerializer(many=True)

    class Meta(PodcastSummarySerializer.Meta):
        fields = [*PodcastSummarySerializer.Meta.fields, "noteContent", "transcript", "warnings"]


class PodcastCreatedSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    jobId = serializers.CharField()
    estimatedTime = serializers.IntegerField(help_text="seconds")
    createdAt = serializers.DateTimeField()


class PodcastStatusSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    currentStep = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    audioDuration = serializers.FloatField(allow_null=True, help_text="seconds")
    warnings = PodcastWarningSerializer(many=True)
    updatedAt = serializers.DateTimeField()


def status_payload(podcast: Podcast) -> dict:
    return {
        "id": podcast.id,
        "status": podcast.status.lower(),
        "progress": podcast.progress,
        "currentStep": podcast.current_step,
        "error": podcast.error,
        "audioDuration": podcast.audio_duration,
        "warnings": podcast.warnings or [],
        "updatedAt": podcast.updated_at,
    }


def duration_of(value: str) -> str:
    return PodcastDuration.LONG if value == "long" else PodcastDuration.SHORT


class VoiceSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="What hostVoice / guestVoice accept")
    name = serializers.CharField()
    gender = serializers.ChoiceField(choices=["female", "male", "neutral"])
    language = serializers.CharField(
        help_text='ISO 639-1 code; "mul" for voices that speak every language of the model'
    )


class VoiceDefaultsSerializer(serializers.Serializer):
    host = serializers.CharField(help_text='The voice id "host" stands for')
    guest = serializers.CharField(help_text='The voice id "guest" stands for')


class VoiceProviderSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="What ttsProvider accepts")
    defaults = VoiceDefaultsSerializer()
    voices = VoiceSerializer(many=True)


def voice_choices() -> list[str]:
    """Every value hostVoice / guestVoice may take with some configured provider (the
    schema's VoiceEnum, see ENUM_NAME_OVERRIDES)."""
    voices = {"host", "guest"}
    for name in registry.speech_provider_names():
        voices.update(registry.voice_ids(name))
    return sorted(voices)


def _voices_schema() -> dict:
    return {
        "enum": voice_choices(),
        "description": "host, guest, or a voice id of the chosen ttsProvider (GET /api/v1/voices).",
    }
