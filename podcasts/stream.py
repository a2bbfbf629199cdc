"""Live progress of a podcast as Server-Sent Events, the stream itself (the view is
PodcastEventsView in podcasts.views, the worker side podcasts.publisher).

The worker publishes each progress write (and the job its final status) on a Redis channel
per podcast; the stream relays them at once. Without Redis, or when a message
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
import time
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import StreamingHttpResponse

from podcasts.models import Podcast
from podcasts.publisher import FINAL, Snapshot, channel_name, snapshot_read


def _snapshot_read_and_close(podcast_id: str) -> Snapshot | None:
    # Runs in a pool thread shared by all streams: leave no connection behind in it.
    try:
        return snapshot_read(podcast_id)
    finally:
        connection.close()


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
