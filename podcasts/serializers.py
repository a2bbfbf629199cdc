"""Request validation and response shapes of /api/v1/podcasts (camelCase as the plan)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.validators import RegexValidator
from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from podcasts.languages import LANGUAGES, language_name
from podcasts.models import Podcast, PodcastDuration, PodcastStatus
from podcasts.providers import registry
from podcasts.speakers import MAX_SPEAKERS, ROLES, language_supported, speakers_of
from podnex import outbound
from podnex.api.fields import DocumentedCharField, HttpUrlField, StrictCharField

DURATIONS = ["short", "long"]
MAX_INSTRUCTIONS_CHARS = 1000
STATUSES = [s.lower() for s in PodcastStatus.values]
SORTS = {"createdAt": "created_at", "updatedAt": "updated_at", "duration": "audio_duration"}


class ScriptTextField(DocumentedCharField):
    """A string of a script: NUL characters (nothing anyone can say) are dropped, not
    refused, so that any string the schema allows is accepted."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.replace("\x00", "")
        return super().to_internal_value(data)


class SpeakerInSerializer(serializers.Serializer):
    name = ScriptTextField(
        max_length=40,
        trim_whitespace=True,
        allow_blank=False,
        schema=lambda: {"pattern": r"[^\s\x00]"},  # something to say besides spaces and NULs
    )

    role = serializers.ChoiceField(choices=ROLES)
    voice = DocumentedCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        schema=lambda: _voices_schema(),
        help_text="A voice id of the podcast's ttsProvider; left out, each speaker gets a "
        "distinct one.",
    )


class PodcastCreateSerializer(serializers.Serializer):
    noteContent = StrictCharField(
        required=False,
        trim_whitespace=True,
        max_length=settings.MAX_NOTE_CHARS,
        allow_blank=False,
        help_text="The notes; optional when sourceIds are given (then they come first).",
    )
    sourceIds = serializers.ListField(
        child=StrictCharField(
            max_length=40,
            validators=[RegexValidator(r"^[a-z0-9]+$", "Not a source id.")],
            help_text="A source id",
        ),
        required=False,
        min_length=1,
        max_length=settings.SOURCE_MAX_PER_PODCAST,
        help_text="Your ready sources (POST /api/v1/sources) to write the episode from, each "
        "as a section headed by its title.",
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
        schema=lambda: {"enum": speakable_languages()},
        help_text="ISO 639-1 code of the episode's language (e.g. en, fr, de): one that the "
        "script writer writes and the chosen provider has voices for (else 400). The script "
        "is written in it and voices are chosen for it.",
    )
    instructions = StrictCharField(
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=True,
        max_length=MAX_INSTRUCTIONS_CHARS,
        help_text="Free text about tone and focus for the script writer.",
    )
    review = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Stop once the script is written (status script_ready) so that it can be "
        "read and edited (GET/PUT /podcasts/:id/script) before POST /podcasts/:id/render.",
    )
    speakers = serializers.ListField(
        child=SpeakerInSerializer(),
        required=False,
        min_length=1,
        max_length=MAX_SPEAKERS,
        help_text="1 to 4 speakers; without it a host and a guest (hostVoice, guestVoice). "
        "One speaker gives a narrated monologue, three or four a panel.",
    )

    def validate_speakers(self, value: list[dict]) -> list[dict]:
        names = [speaker["name"].casefold() for speaker in value]
        if len(set(names)) != len(names):
            raise serializers.ValidationError("Each speaker needs a name of their own.")
        return value

    def validate_language(self, value: str) -> str:
        code = value.strip().lower()
        if code not in LANGUAGES:
            raise serializers.ValidationError(
                f"Unknown language {value!r}; use an ISO 639-1 code such as en, fr or de."
            )
        return code

    def validate_webhookUrl(self, value: str | None) -> str | None:
        try:
            return outbound.url_check(value) and value if value else value  # no private targets
        except outbound.UnsafeUrl as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_ttsProvider(self, value: str) -> str:
        names = registry.speech_provider_names()
        if value not in names:
            raise serializers.ValidationError(
                f"Unknown provider {value!r}; available: {', '.join(names)}."
            )
        return value

    def validate_sourceIds(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("A source may be listed only once.")
        return value

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("noteContent") and not attrs.get("sourceIds"):
            raise serializers.ValidationError(
                {"noteContent": ["Give noteContent, sourceIds, or both."]}
            )
        provider = attrs.get("ttsProvider") or registry.default_speech_provider_name()
        attrs["ttsProvider"] = provider
        errors = {}
        known = ", ".join(["host", "guest", *registry.voice_ids(provider)])
        for field in ("hostVoice", "guestVoice"):
            voice = attrs[field]
            if not registry.voice_is_known(provider_name=provider, voice=voice):
                errors[field] = [f"Unknown voice {voice!r} for {provider}; available: {known}."]
        for index, speaker in enumerate(attrs.get("speakers") or []):
            voice = speaker["voice"]
            if voice and not registry.voice_is_known(provider_name=provider, voice=voice):
                errors.setdefault("speakers", []).append(
                    f"Speaker {index + 1}: unknown voice {voice!r} for {provider}; "
                    f"available: {known}."
                )
        if problem := language_problem(provider=provider, language=attrs["language"]):
            errors["language"] = [problem]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PodcastCreateSchema(OpenApiSerializerExtension):
    """The schema states what `validate` enforces: noteContent, sourceIds, or both; and
    voices and language that the chosen ttsProvider has (one variant per provider)."""

    target_class = PodcastCreateSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["anyOf"] = [{"required": ["noteContent"]}, {"required": ["sourceIds"]}]
        if "sourceIds" in schema.get("properties", {}):
            schema["properties"]["sourceIds"]["uniqueItems"] = True
        schema["oneOf"] = provider_variants()
        return schema


def provider_variants() -> list[dict]:
    """Per configured speech provider, the voices and languages it takes. Without a
    ttsProvider the default provider's apply. Written as patterns, not enums: spectacular's
    enum post-processing would fold same-named enums into one shared component."""
    default = registry.default_speech_provider_name()
    variants: list[dict] = []
    for name in registry.speech_provider_names():
        voices = one_of(["host", "guest", *registry.voice_ids(name)])
        languages = [
            code
            for code in speakable_languages()
            if language_problem(provider=name, language=code) is None
        ]
        rules = {
            "hostVoice": {"pattern": voices},
            "guestVoice": {"pattern": voices},
            "language": {"pattern": one_of(languages)},
            "speakers": {"items": {"properties": {"voice": {"pattern": f"^$|{voices}"}}}},
        }
        variants.append(
            {
                "properties": {"ttsProvider": {"pattern": one_of([name])}, **rules},
                "required": ["ttsProvider"],
            }
        )
        if name == default:
            variants.append({"not": {"required": ["ttsProvider"]}, "properties": rules})
    return variants


def one_of(values: list[str]) -> str:
    """A pattern matching exactly one of `values`."""
    return "^(" + "|".join(re.escape(v) for v in values) + ")$"


def speakable_languages() -> list[str]:
    """Languages some configured provider speaks and the script writer writes."""
    writable = registry.script_languages()
    return sorted(
        code
        for code in LANGUAGES
        if (writable is None or code in writable)
        and any(
            language_supported(provider_name=name, language=code)
            for name in registry.speech_provider_names()
        )
    )


def language_problem(*, provider: str, language: str) -> str | None:
    """Why an episode in `language` cannot be made with these providers, or None."""
    name = f"{language_name(language)} ({language})"
    if not language_supported(provider_name=provider, language=language):
        return f"The speech provider {provider} has no voice that speaks {name}."
    writable = registry.script_languages()
    if writable is not None and language not in writable:
        return (
            f"The {registry.script_writer().name} script writer does not write {name}; it "
            f"writes {', '.join(sorted(writable))}."
        )
    return None


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


class SpeakerOutSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="What script lines name as their speaker")
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=ROLES)
    voice = serializers.CharField(help_text="A voice id of the provider")


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
    review = serializers.BooleanField(help_text="Stops at script_ready for the owner to edit")
    speakers = serializers.SerializerMethodField()

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
            "review",
            "speakers",
        ]

    @extend_schema_field(SpeakerOutSerializer(many=True))
    def get_speakers(self, obj: Podcast) -> list[dict]:
        return speakers_of(obj)

    def get_duration(self, obj: Podcast) -> str:
        return obj.duration.lower()

    def get_status(self, obj: Podcast) -> str:
        return obj.status.lower()

    def get_audioUrl(self, obj: Podcast) -> str | None:
        """The download endpoint (which hands out a signed URL), once audio exists."""
        if not obj.audio_url:  # kept while a re-render runs, until the new audio replaces it
            return None
        path = reverse("podcasts:download", kwargs={"podcast_id": obj.id})
        return f"{settings.PUBLIC_BASE_URL}{path}"


class TranscriptSegmentSerializer(serializers.Serializer):
    speaker = serializers.CharField(help_text="Speaker id (host, guest, expert, ...)")
    name = serializers.CharField(required=False, help_text="The speaker's name")
    lineId = serializers.CharField(required=False, help_text="The script line voiced here")
    text = serializers.CharField()
    start = serializers.FloatField(help_text="seconds")
    end = serializers.FloatField(help_text="seconds")
    section = serializers.CharField(
        required=False,
        help_text="Title of the script section the line belongs to, when there is one.",
    )


class PodcastWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="e.g. notes_too_short_for_duration")
    message = serializers.CharField()


class PodcastSourceSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=["url", "text", "file"])
    title = serializers.CharField(allow_null=True)
    characters = serializers.IntegerField()


class PodcastDetailSerializer(PodcastSummarySerializer):
    noteContent = serializers.CharField(source="note_content")
    transcript = TranscriptSegmentSerializer(many=True, allow_null=True)
    sources = PodcastSourceSerializer(
        many=True, help_text="The sources the episode was written from, as they were then."
    )
    warnings = PodcastWarningSerializer(many=True)
    linesVoiced = serializers.SerializerMethodField(
        help_text="Lines the last finished job sent to the speech provider"
    )
    linesReused = serializers.SerializerMethodField(
        help_text="Lines the last finished job reused from earlier renders"
    )

    class Meta(PodcastSummarySerializer.Meta):
        fields = [
            *PodcastSummarySerializer.Meta.fields,
            "noteContent",
            "transcript",
            "sources",
            "warnings",
            "linesVoiced",
            "linesReused",
        ]

    def _last_job(self, obj: Podcast):
        if not hasattr(obj, "_last_voiced_job"):
            obj._last_voiced_job = (
                obj.jobs.filter(lines_voiced__isnull=False).order_by("-completed_at").first()
            )
        return obj._last_voiced_job

    def get_linesVoiced(self, obj: Podcast) -> int | None:
        job = self._last_job(obj)
        return job.lines_voiced if job else None

    def get_linesReused(self, obj: Podcast) -> int | None:
        job = self._last_job(obj)
        return job.lines_reused if job else None


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


# --- The script -------------------------------------------------------------------------------


class ScriptLineSerializer(serializers.Serializer):
    id = ScriptTextField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="Stable; left out on PUT for a new line (one is minted)",
    )
    speaker = ScriptTextField(
        max_length=100, allow_blank=True, help_text="A speaker's id (or name)"
    )
    text = ScriptTextField(max_length=2000, trim_whitespace=True, allow_blank=True)


class ScriptSectionSerializer(serializers.Serializer):
    id = ScriptTextField(required=False, allow_blank=True, max_length=40)
    title = ScriptTextField(required=False, allow_blank=True, default="", max_length=200)
    lines = ScriptLineSerializer(many=True)


class ScriptSerializer(serializers.Serializer):
    """The script as GET (and every edit) answers it."""

    title = serializers.CharField()
    speakers = SpeakerOutSerializer(many=True)
    sections = ScriptSectionSerializer(many=True)
    version = serializers.IntegerField(read_only=True, help_text="Counts saved edits")


class ScriptReplaceSerializer(serializers.Serializer):
    """What PUT takes: ids optional (kept when sent), `speakers` left out keeps them."""

    title = ScriptTextField(max_length=200, allow_blank=True)
    speakers = serializers.ListField(
        child=SpeakerInSerializer(), required=False, min_length=1, max_length=MAX_SPEAKERS
    )
    sections = serializers.ListField(child=ScriptSectionSerializer(), min_length=1)

    def validate_speakers(self, value: list[dict]) -> list[dict]:
        return PodcastCreateSerializer().validate_speakers(value)


class ScriptLineUpdateSerializer(serializers.Serializer):
    """Either field or both; an empty body changes nothing."""

    text = ScriptTextField(required=False, max_length=2000, allow_blank=True)
    speaker = ScriptTextField(
        required=False, allow_blank=True, max_length=100, help_text="A speaker's id or name"
    )


class ScriptLineInsertSerializer(serializers.Serializer):
    speaker = ScriptTextField(max_length=100, allow_blank=True, help_text="A speaker's id or name")
    text = ScriptTextField(max_length=2000, allow_blank=True)
    after = ScriptTextField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="Insert after this line id (wins over position)",
    )
    position = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Or at this index over the whole script (0 = first); past the end appends",
    )


class RenderPlanSerializer(serializers.Serializer):
    lines = serializers.IntegerField(help_text="Lines in the script")
    linesToVoice = serializers.IntegerField(help_text="Lines the speech provider will voice")
    linesReused = serializers.IntegerField(help_text="Unchanged lines reused from earlier audio")
