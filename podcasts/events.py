"""Live progress of a podcast as Server-Sent Events: GET /api/v1/podcasts/:id/events.

The worker publishes each progress write (and the final status when its task ends) on a
Redis channel per podcast; the stream relays them at once. Without Redis, or when a message
was missed (e.g. a queued podcast cancelled before any worker saw it), the stream reads the
row itself: every SSE_POLL_SECONDS without Redis, every few seconds of silence with it.

Events, each with an id `<status>.<progress>` so that a client reconnecting with
Last-Event-ID is not sent the state it already has:
  event: status    data: {"podcastId", "status", "progress", "currentStep", "error", ...}
  event: progress  data: the same fields, when only progress or step changed
A comment line is sent every SSE_HEARTBEAT_SECONDS so that proxies keep the stream open.
The stream ends after the final status (completed, failed, cancelled, script_ready), or after
SSE_MAX_SECONDS, when the client's EventSource reconnects by itself.

The generator is asynchronous: under the ASGI server (Procfile: uvicorn) an open stream
costs a coroutine, not a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.views import APIView

from apikeys.scopes import PODCAST_READ
from podcasts.models import FINAL_STATUSES, Podcast
from podnex.api.responses import ErrorSerializer

logger = logging.getLogger(__name__)

FINAL = {s.lower() for s in FINAL_STATUSES}


def channel_name(podcast_id: str) -> str:
    return f"podnex:podcast:{podcast_id}:events"


@dataclass(frozen=True)
class Snapshot:
    podcast_id: str
    status: str  # lower-case, as the API
    progress: int
    current_step: str | None
    error: str | None = None
    audio_duration: int | None = None

    @property
    def event_id(self) -> str:
        return f"{self.status}.{self.progress}"

    def payload(self) -> dict[str, Any]:
        return {
            "podcastId": self.podcast_id,
            "status": self.status,
            "progress": self.progress,
            "currentStep": self.current_step,
            "error": self.error,
            "audioDuration": self.audio_duration,
        }

    @classmethod
    def of(cls, podcast: Podcast) -> Snapshot:
        return cls(
            podcast_id=podcast.id,
            status=podcast.status.lower(),
            progress=podcast.progress,
            current_step=podcast.current_step,
            error=podcast.error,
            audio_duration=podcast.audio_duration,
        )

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            podcast_id=data["podcastId"],
            status=data["status"],
            progress=int(data["progress"]),
            current_step=data.get("currentStep"),
            error=data.get("error"),
            audio_duration=data.get("audioDuration"),
        )


def snapshot_read(podcast_id: str) -> Snapshot | None:
    podcast = (
        Podcast.objects.filter(id=podcast_id)
        .only("id", "status", "progress", "current_step", "error", "audio_duration", "deleted_at")
        .first()
    )
    return _snapshot_of(podcast)


def _snapshot_read_and_close(podcast_id: str) -> Snapshot | None:
    # Runs in a pool thread shared by all streams: leave no connection behind in it.
    from django.db import connection

    try:
        return snapshot_read(podcast_id)
    finally:
        connection.close()


def _snapshot_of(podcast: Podcast | None) -> Snapshot | None:
    if podcast is None:
        return None
    snapshot = Snapshot.of(podcast)
    if podcast.deleted_at and snapshot.status not in FINAL:
        # Deleted mid-job: the row says cancelled an instant later; say it now.
        return Snapshot(podcast.id, "cancelled", snapshot.progress, "Cancelled")
    return snapshot


# --- Publishing (worker side) ---------------------------------------------------------------


@cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _publish(snapshot: Snapshot) -> None:
    if not settings.REDIS_URL:
        return  # streams poll the row instead
    try:
        _redis(settings.REDIS_URL).publish(
            channel_name(snapshot.podcast_id), json.dumps(snapshot.payload())
        )
    except Exception:  # noqa: BLE001 - a lost event costs a few seconds of lag, not the job
        logger.warning(
            "could not publish progress of podcast %s", snapshot.podcast_id, exc_info=True
        )


def progress_publish(*, podcast_id: str, job_id: str, percent: int, step: str) -> None:
    """Called by the pipeline after each progress write."""
    from podnex import metrics

    metrics.pipeline_progress_observe(job_id=job_id, percent=percent)
    _publish(Snapshot(podcast_id, "processing", percent, step))


def status_publish(*, podcast_id: str) -> None:
    """Publish the row's current state (called when a generation task ends)."""
    snapshot = snapshot_read(podcast_id)
    if snapshot is not None:
        _publish(snapshot)


# --- The stream (web side) -------------------------------------------------------------------


def _format(event: str, snapshot: Snapshot) -> bytes:
    data = json.dumps(snapshot.payload(), separators=(",", ":"))
    return f"id: {snapshot.event_id}\nevent: {event}\ndata: {data}\n\n".encode()


class _Emitter:
    """Turns successive snapshots into events, skipping repeats."""

    def __init__(self, last_event_id: str | None):
        # After a reconnection only the id is known; the step then counts as unchanged.
        self.last_id = last_event_id
        self.last_step: str | None = None
        self.last_status = last_event_id.split(".", 1)[0] if last_event_id else None

    def emit(self, snapshot: Snapshot) -> bytes | None:
        same_step = self.last_step is None or snapshot.current_step == self.last_step
        if snapshot.event_id == self.last_id and same_step:
            return None
        event = "status" if snapshot.status != self.last_status else "progress"
        self.last_id, self.last_status = snapshot.event_id, snapshot.status
        self.last_step = snapshot.current_step
        return _format(event, snapshot)


async def event_stream(
    *, podcast_id: str, first: Snapshot, last_event_id: str | None
) -> AsyncIterator[bytes]:
    emitter = _Emitter(last_event_id)
    heartbeat = settings.SSE_HEARTBEAT_SECONDS
    deadline = time.monotonic() + settings.SSE_MAX_SECONDS
    read = sync_to_async(_snapshot_read_and_close, thread_sensitive=False)

    # Tell EventSource how soon to reconnect after a drop.
    yield b"retry: 3000\n\n"
    pubsub = None
    if settings.REDIS_URL:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(settings.REDIS_URL)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        # Subscribe before reading the row: an update in between is then not lost.
        await pubsub.subscribe(channel_name(podcast_id))
        first = await read(podcast_id) or first
    try:
        chunk = emitter.emit(first)
        if chunk:
            yield chunk
        if first.status in FINAL:
            return
        poll = settings.SSE_FALLBACK_POLL_SECONDS if pubsub else settings.SSE_POLL_SECONDS
        last_beat = last_check = time.monotonic()
        while time.monotonic() < deadline:
            snapshot = None
            if pubsub is not None:
                message = await pubsub.get_message(timeout=min(poll, heartbeat))
                if message and message.get("type") == "message":
                    snapshot = Snapshot.from_message(json.loads(message["data"]))
            else:
                await asyncio.sleep(min(poll, heartbeat))
            now = time.monotonic()
            if snapshot is None and now - last_check >= poll:
                last_check = now
                snapshot = await read(podcast_id)
                if snapshot is None:  # purged while we watched
                    return
            if snapshot is not None:
                chunk = emitter.emit(snapshot)
                if chunk:
                    last_beat = now
                    yield chunk
                if snapshot.status in FINAL:
                    return
            if now - last_beat >= heartbeat:
                last_beat = now
                yield b": heartbeat\n\n"
    finally:
        if pubsub is not None:
            await pubsub.aclose()
            await client.aclose()


def event_stream_response(*, podcast: Podcast, last_event_id: str | None) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        event_stream(
            podcast_id=podcast.id, first=Snapshot.of(podcast), last_event_id=last_event_id
        ),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


# --- The view ----------------------------------------------------------------------------------


class PodcastEventsView(APIView):
    """Authenticates like every /api/v1 route, finds the user's podcast (another user's is
    404), then hands the connection to the asynchronous event generator."""

    required_scopes = PODCAST_READ  # an API key may watch what it may read

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
        from podcasts.services import podcast_get

        podcast = podcast_get(user=request.user, podcast_id=podcast_id)
        last_event_id = request.headers.get("Last-Event-ID") or request.query_params.get(
            "lastEventId"
        )
        return event_stream_response(podcast=podcast, last_event_id=last_event_id)
