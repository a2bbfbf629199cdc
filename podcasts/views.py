"""/api/v1/podcasts: thin views that parse, call a service or selector, and render."""

from __future__ import annotations

import mimetypes
import re
import time
from datetime import UTC, datetime

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views import View
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from apikeys import scopes
from idempotency import services as idempotency
from podcasts import selectors, services, storage, stream
from podcasts.providers import registry
from podcasts.serializers import (
    PodcastCreatedSerializer,
    PodcastCreateSerializer,
    PodcastDetailSerializer,
    PodcastListQuerySerializer,
    PodcastStatusSerializer,
    PodcastSummarySerializer,
    RenderPlanSerializer,
    ScriptLineInsertSerializer,
    ScriptLineSerializer,
    ScriptLineUpdateSerializer,
    ScriptReplaceSerializer,
    ScriptSerializer,
    TranscriptQuerySerializer,
    TranscriptSegmentSerializer,
    VoiceProviderSerializer,
    duration_of,
    status_payload,
)
from podcasts.transcripts import RENDERERS
from podnex.api.errors import Conflict, error_body
from podnex.api.pagination import PaginationSerializer
from podnex.api.responses import ERROR_RESPONSES, ErrorSerializer, envelope, ok, validated

ERRORS = ERROR_RESPONSES
IDEMPOTENT_ERRORS = {**ERRORS, **idempotency.ERROR_RESPONSES}


class PodcastListCreateView(APIView):
    required_scopes = {"GET": scopes.PODCAST_READ, "POST": scopes.PODCAST_CREATE}
    burst_limits = {"POST": "podcast_create"}

    @extend_schema(
        operation_id="podcasts_create",
        request=PodcastCreateSerializer,
        parameters=[idempotency.PARAMETER],
        responses={
            202: envelope("PodcastCreatedResponse", podcast=PodcastCreatedSerializer()),
            **IDEMPOTENT_ERRORS,
        },
    )
    @idempotency.idempotent
    def post(self, request):
        data = validated(PodcastCreateSerializer, request.data)
        podcast, job = services.podcast_create(
            user=request.user,
            note_content=data.get("noteContent", ""),
            source_ids=data.get("sourceIds"),
            duration=duration_of(data["duration"]),
            title=data.get("title"),
            note_id=data.get("noteId"),
            host_voice=data["hostVoice"],
            guest_voice=data["guestVoice"],
            tts_provider=data["ttsProvider"],
            webhook_url=data.get("webhookUrl"),
            language=data["language"],
            instructions=data["instructions"],
            speakers=data.get("speakers"),
            review=data["review"],
        )
        return ok(status=202, podcast=_created(podcast, job))

    @extend_schema(
        operation_id="podcasts_list",
        parameters=[PodcastListQuerySerializer],
        responses={
            200: envelope(
                "PodcastListResponse",
                podcasts=PodcastSummarySerializer(many=True),
                pagination=PaginationSerializer(),
            ),
            **ERRORS,
        },
    )
    def get(self, request):
        query = validated(PodcastListQuerySerializer, request.query_params)
        page = selectors.podcast_list(user=request.user, **query)
        return ok(
            podcasts=PodcastSummarySerializer(page.items, many=True).data,
            pagination=page.meta(),
        )


class PodcastDetailView(APIView):
    required_scopes = {"GET": scopes.PODCAST_READ, "DELETE": scopes.PODCAST_DELETE}

    @extend_schema(
        operation_id="podcasts_retrieve",
        responses={
            200: envelope("PodcastDetailResponse", podcast=PodcastDetailSerializer()),
            **ERRORS,
        },
    )
    def get(self, request, podcast_id: str):
        podcast = services.podcast_get(user=request.user, podcast_id=podcast_id)
        return ok(podcast=PodcastDetailSerializer(podcast).data)

    @extend_schema(
        operation_id="podcasts_destroy",
        responses={
            200: envelope("PodcastDeletedResponse", message=serializers.CharField()),
            **ERRORS,
        },
    )
    def delete(self, request, podcast_id: str):
        services.podcast_delete(user=request.user, podcast_id=podcast_id)
        return ok(message="Podcast deleted")


class PodcastRetryView(APIView):
    # Retrying starts a new generation: as expensive as a create, so the same scope and burst.
    required_scopes = {"POST": scopes.PODCAST_CREATE}
    burst_limits = {"POST": "podcast_create"}

    @extend_schema(
        operation_id="podcasts_retry",
        request=None,
        parameters=[idempotency.PARAMETER],
        responses={
            202: envelope("PodcastRetriedResponse", podcast=PodcastCreatedSerializer()),
            **IDEMPOTENT_ERRORS,
        },
    )
    @idempotency.idempotent
    def post(self, request, podcast_id: str):
        podcast, job = services.podcast_retry(user=request.user, podcast_id=podcast_id)
        return ok(status=202, podcast=_created(podcast, job))


class PodcastStatusView(APIView):
    required_scopes = scopes.PODCAST_READ

    @extend_schema(
        operation_id="podcasts_status",
        responses={
            200: envelope("PodcastStatusResponse", podcast=PodcastStatusSerializer()),
            **ERRORS,
        },
    )
    def get(self, request, podcast_id: str):
        podcast = selectors.podcast_status(user=request.user, podcast_id=podcast_id)
        return ok(podcast=PodcastStatusSerializer(status_payload(podcast)).data)


class PodcastEventsView(APIView):
    """Authenticates like every /api/v1 route, finds the user's podcast (another user's is
    404), then hands the connection to the asynchronous event generator."""

    required_scopes = scopes.PODCAST_READ  # an API key may watch what it may read

    def perform_content_negotiation(self, request, force=False):
        # Clients ask for text/event-stream; errors before the stream starts are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="podcasts_events",
        parameters=[
            OpenApiParameter(
                "Last-Event-ID",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Id of the last event received; its state is not sent again.",
            )
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR,
                description=(
                    "Server-Sent Events: `status` and `progress` events whose data is JSON "
                    "{podcastId, status, progress, currentStep, error, audioDuration}; "
                    "heartbeat comments; the stream closes at completed, failed or cancelled."
                ),
            ),
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def get(self, request, podcast_id: str):
        podcast = services.podcast_get(user=request.user, podcast_id=podcast_id)
        last_event_id = request.headers.get("Last-Event-ID") or request.query_params.get(
            "lastEventId"
        )
        return stream.event_stream_response(podcast=podcast, last_event_id=last_event_id)


class PodcastTranscriptView(APIView):
    required_scopes = scopes.PODCAST_READ

    @extend_schema(
        operation_id="podcasts_transcript",
        parameters=[TranscriptQuerySerializer],
        responses={
            (200, "application/json"): envelope(
                "PodcastTranscriptResponse",
                podcastId=serializers.CharField(),
                segments=TranscriptSegmentSerializer(many=True),
            ),
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="txt, srt, vtt"),
            **ERRORS,
        },
    )
    def get(self, request, podcast_id: str):
        query = validated(TranscriptQuerySerializer, request.query_params)
        podcast = services.podcast_get(user=request.user, podcast_id=podcast_id)
        if podcast.transcript is None:
            raise _not_ready(podcast)  # (during a re-render the earlier transcript is served)
        segments = podcast.transcript
        if query["format"] == "json":
            return ok(podcastId=podcast.id, segments=segments)
        render, content_type = RENDERERS[query["format"]]
        response = HttpResponse(render(segments), content_type=content_type)
        name = f"{podcast.id}.{query['format']}"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response


class PodcastDownloadView(APIView):
    required_scopes = scopes.PODCAST_READ

    @extend_schema(
        operation_id="podcasts_download",
        responses={
            200: envelope(
                "PodcastDownloadResponse",
                url=serializers.URLField(),
                expiresAt=serializers.DateTimeField(),
                expiresIn=serializers.IntegerField(help_text="seconds"),
            ),
            **ERRORS,
        },
    )
    def get(self, request, podcast_id: str):
        podcast = services.podcast_get(user=request.user, podcast_id=podcast_id)
        if not podcast.audio_url:  # (during a re-render the earlier audio is served)
            raise _not_ready(podcast)
        signed = storage.audio_signed_url(key=podcast.audio_url, filename=_filename(podcast))
        return ok(
            url=signed.url,
            expiresAt=_iso(signed.expires_at),
            expiresIn=signed.expires_at - _now_ts(),
        )


# --- The script and its render ---------------------------------------------------------------

SCRIPT_RESPONSE = envelope("PodcastScriptResponse", script=ScriptSerializer())
LINE_RESPONSE = envelope(
    "PodcastScriptLineResponse", line=ScriptLineSerializer(), script=ScriptSerializer()
)


def _script(stored) -> dict:
    return {
        "title": stored.title,
        "speakers": stored.speakers,
        "sections": stored.sections,
        "version": stored.version,
    }


class PodcastScriptView(APIView):
    required_scopes = {"GET": scopes.PODCAST_READ, "PUT": scopes.PODCAST_CREATE}

    @extend_schema(
        operation_id="podcasts_script_retrieve", responses={200: SCRIPT_RESPONSE, **ERRORS}
    )
    def get(self, request, podcast_id: str):
        stored = services.script_get(user=request.user, podcast_id=podcast_id)
        return ok(script=_script(stored))

    @extend_schema(
        operation_id="podcasts_script_replace",
        request=ScriptReplaceSerializer,
        responses={200: SCRIPT_RESPONSE, **ERRORS},
    )
    def put(self, request, podcast_id: str):
        data = validated(ScriptReplaceSerializer, request.data)
        stored = services.script_replace(user=request.user, podcast_id=podcast_id, document=data)
        return ok(script=_script(stored))


class PodcastScriptLinesView(APIView):
    required_scopes = {"POST": scopes.PODCAST_CREATE}

    @extend_schema(
        operation_id="podcasts_script_line_insert",
        request=ScriptLineInsertSerializer,
        responses={201: LINE_RESPONSE, **ERRORS},
    )
    def post(self, request, podcast_id: str):
        data = validated(ScriptLineInsertSerializer, request.data)
        stored, line = services.script_line_insert(user=request.user, podcast_id=podcast_id, **data)
        return ok(status=201, line=line, script=_script(stored))


class PodcastScriptLineView(APIView):
    required_scopes = {"PATCH": scopes.PODCAST_CREATE, "DELETE": scopes.PODCAST_CREATE}

    @extend_schema(
        operation_id="podcasts_script_line_update",
        request=ScriptLineUpdateSerializer,
        responses={200: LINE_RESPONSE, **ERRORS},
    )
    def patch(self, request, podcast_id: str, line_id: str):
        data = validated(ScriptLineUpdateSerializer, request.data)
        stored, line = services.script_line_update(
            user=request.user, podcast_id=podcast_id, line_id=line_id, **data
        )
        return ok(line=line, script=_script(stored))

    @extend_schema(
        operation_id="podcasts_script_line_delete", responses={200: SCRIPT_RESPONSE, **ERRORS}
    )
    def delete(self, request, podcast_id: str, line_id: str):
        stored = services.script_line_delete(
            user=request.user, podcast_id=podcast_id, line_id=line_id
        )
        return ok(script=_script(stored))


class PodcastRenderView(APIView):
    # Rendering voices speech, billed like a create: the same scope and burst limit.
    required_scopes = {"POST": scopes.PODCAST_CREATE}
    burst_limits = {"POST": "podcast_create"}

    @extend_schema(
        operation_id="podcasts_render",
        request=None,
        responses={
            202: envelope(
                "PodcastRenderResponse",
                podcast=PodcastCreatedSerializer(),
                render=RenderPlanSerializer(),
            ),
            **ERRORS,
        },
    )
    def post(self, request, podcast_id: str):
        podcast, job, plan = services.podcast_render(user=request.user, podcast_id=podcast_id)
        return ok(status=202, podcast=_created(podcast, job), render=plan)


class VoiceListView(APIView):
    required_scopes = scopes.PODCAST_READ

    @extend_schema(
        operation_id="voices_list",
        description="Every configured speech provider, its voices, and which voices the "
        'logical names "host" and "guest" stand for.',
        responses={
            200: envelope(
                "VoiceListResponse",
                defaultProvider=serializers.CharField(),
                providers=VoiceProviderSerializer(many=True),
            ),
            401: ErrorSerializer,
        },
    )
    def get(self, request):
        providers = []
        for name in registry.speech_provider_names():
            provider = registry.speech_provider(name)
            providers.append(
                {
                    "name": name,
                    "defaults": provider.default_voices(),
                    "voices": [vars(v) for v in provider.voices()],
                }
            )
        return ok(
            defaultProvider=registry.default_speech_provider_name(),
            providers=VoiceProviderSerializer(providers, many=True).data,
        )


def _created(podcast, job) -> dict:
    """What create and retry answer: the queued job and when to expect it."""
    created = {
        "id": podcast.id,
        "status": podcast.status.lower(),
        "progress": podcast.progress,
        "jobId": job.job_id,
        "estimatedTime": services.estimated_time(podcast.duration),
        "createdAt": podcast.created_at,
    }
    return PodcastCreatedSerializer(created).data


def _not_ready(podcast) -> Conflict:
    return Conflict(
        f"The podcast has no audio yet; it is {podcast.status.lower()}",
        code="not_ready",
        status=podcast.status.lower(),
    )


def _filename(podcast) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", podcast.title or "episode").strip("-")[:80]
    return f"{stem or 'episode'}.mp3"


def _now_ts() -> int:
    return int(time.time())


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


# --- Local audio files, behind a signed link -----------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class AudioFileView(View):
    """Serves a stored MP3 from local storage for a valid signed link, honouring Range so
    that players can seek. (With S3 the signed URL points at the bucket instead.)"""

    def get(self, request, token: str):
        try:
            key, filename = storage.audio_link_open(token)
        except storage.LinkExpired:
            return JsonResponse(error_body("This link has expired", "link_expired"), status=410)
        except storage.LinkInvalid:
            return JsonResponse(error_body("Not found", "not_found"), status=404)
        if not selectors.podcast_audio_is_served(key=key) or not default_storage.exists(key):
            # Deleted (or replaced) means gone, even for a link signed a minute ago.
            return JsonResponse(error_body("Not found", "not_found"), status=404)
        size = default_storage.size(key)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        byte_range = _parse_range(request.headers.get("Range"), size)
        if byte_range == "unsatisfiable":
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        if byte_range is None:
            response = FileResponse(default_storage.open(key, "rb"), content_type=content_type)
        else:
            start, end = byte_range
            response = StreamingHttpResponse(
                _read_span(key, start, end), status=206, content_type=content_type
            )
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
            response["Content-Length"] = str(end - start + 1)
        response["Accept-Ranges"] = "bytes"
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        response["Cache-Control"] = "private, max-age=300"
        return response


def _parse_range(header: str | None, size: int):
    """One byte range as (start, end) inclusive, None for the whole file (no or
    multi-range header), or "unsatisfiable"."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match:
        return None  # malformed or multiple ranges: RFC 9110 lets us send the whole file
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = _byte_position(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = _byte_position(first)
    end = min(_byte_position(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


_BEYOND_ANY_FILE = 10**18


def _byte_position(digits: str) -> int:
    """A Range number; any number of digits is valid, so past 18 (beyond any file we store,
    and before Python's int() digit limit) it stands for "beyond the end"."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else _BEYOND_ANY_FILE


def _read_span(key: str, start: int, end: int, chunk: int = 64 * 1024):
    with default_storage.open(key, "rb") as handle:
        handle.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            data = handle.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
