"""GET /api/v1/podcasts/:id/events, read by a real HTTP client from PodNex under uvicorn
while a real Celery worker runs the job."""

from __future__ import annotations

import json

import httpx
import pytest

from podcasts import services
from podcasts.models import PodcastStatus
from tests.factories import PodcastFactory
from tests.ops.conftest import queued_podcast, session_cookie
from tests.utils import assert_error


class EventReader:
    """Parses a text/event-stream response into events, keeping comments apart."""

    def __init__(self, response: httpx.Response):
        self.lines = response.iter_lines()
        self.comments: list[str] = []
        self.retry: int | None = None

    def next(self) -> dict | None:
        """The next event, or None when the server closed the stream."""
        event: dict = {}
        for line in self.lines:
            if line == "":
                if "data" in event:
                    event["data"] = json.loads(event["data"])
                    return event
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "retry":
                self.retry = int(value)
            else:
                event[name] = value
        return None

    def until(self, predicate) -> list[dict]:
        seen = []
        while True:
            event = self.next()
            assert event is not None, f"stream closed before the expected event; saw {seen}"
            seen.append(event)
            if predicate(event):
                return seen


@pytest.fixture(params=["redis", "polling"])
def feed(request, settings):
    """Both ways a stream learns of changes: Redis pub/sub, or reading the row."""
    settings.SSE_POLL_SECONDS = 0.05
    settings.SSE_FALLBACK_POLL_SECONDS = 0.5
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    else:
        settings.REDIS_URL = ""
    return request.param


def stream(server, podcast_id: str, user, **headers):
    return httpx.stream(
        "GET",
        f"{server.url}/api/v1/podcasts/{podcast_id}/events",
        headers={"Accept": "text/event-stream", **session_cookie(user), **headers},
        timeout=httpx.Timeout(30.0),
    )


def test_a_stream_follows_a_real_job_step_by_step_and_closes_when_it_completes(
    feed, asgi_server, celery_worker, owner, episode
):
    episode.gated = True  # each progress write waits for the test to have seen the last one
    podcast, job = queued_podcast(owner)

    with stream(asgi_server, podcast.id, owner) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache, no-transform"
        reader = EventReader(response)

        first = reader.next()
        assert first["event"] == "status"
        assert first["data"]["podcastId"] == podcast.id
        assert first["data"]["status"] in ("queued", "processing")
        assert reader.retry == 3000
        events = [first]

        for percent, step in episode.STEPS:
            episode.release()
            seen = reader.until(lambda e, step=step: e["data"]["currentStep"] == step)
            assert seen[-1]["data"]["progress"] == percent
            assert seen[-1]["data"]["status"] == "processing"
            assert seen[-1]["id"] == f"processing.{percent}"
            events += seen

        episode.release()  # the upload and the save run freely from here
        while (event := reader.next()) is not None:
            events.append(event)

    last = events[-1]
    assert last["event"] == "status"
    assert last["data"]["status"] == "completed"
    assert last["data"]["progress"] == 100
    assert last["data"]["audioDuration"] == 3
    assert last["id"] == "completed.100"
    progress = [e["data"]["progress"] for e in events]
    assert progress == sorted(progress), "progress never goes backwards"
    assert {e["event"] for e in events[1:-1]} <= {"progress", "status"}
    assert podcast.__class__.objects.get(id=podcast.id).status == PodcastStatus.COMPLETED


def test_a_stream_sends_heartbeats_and_ends_when_the_podcast_is_cancelled(
    feed, asgi_server, owner, settings
):
    settings.SSE_HEARTBEAT_SECONDS = 0.1
    podcast = PodcastFactory(user=owner)  # queued; no worker picks it up

    with stream(asgi_server, podcast.id, owner) as response:
        reader = EventReader(response)
        assert reader.next()["data"]["status"] == "queued"
        while not reader.comments:  # wait for a heartbeat
            line = next(reader.lines)
            if line.startswith(":"):
                reader.comments.append(line)
        assert reader.comments[0] == ": heartbeat"

        assert services.podcast_cancel(podcast_id=podcast.id)
        final = reader.until(lambda e: e["event"] == "status")[-1]
        assert final["data"]["status"] == "cancelled"
        assert reader.next() is None


def test_a_reconnecting_client_is_not_sent_the_state_it_already_has(asgi_server, owner):
    podcast = PodcastFactory(
        user=owner,
        status=PodcastStatus.COMPLETED,
        progress=100,
        current_step="Completed",
        audio_duration=42,
    )

    with stream(asgi_server, podcast.id, owner) as response:
        reader = EventReader(response)
        event = reader.next()
        assert (event["event"], event["id"]) == ("status", "completed.100")
        assert reader.next() is None  # final state: the stream ends

    with stream(asgi_server, podcast.id, owner, **{"Last-Event-ID": "completed.100"}) as response:
        assert EventReader(response).next() is None

    with stream(asgi_server, podcast.id, owner, **{"Last-Event-ID": "processing.80"}) as response:
        event = EventReader(response).next()
        assert event["data"]["status"] == "completed"


def test_another_users_podcast_has_no_stream(asgi_server, owner, other_user):
    podcast = PodcastFactory(user=owner)
    with stream(asgi_server, podcast.id, other_user) as response:
        response.read()
        assert_error(response, 404, "not_found")


def test_an_api_key_with_podcast_read_may_watch_and_one_without_may_not(asgi_server, owner):
    from apikeys.services import api_key_create

    podcast = PodcastFactory(user=owner, status=PodcastStatus.COMPLETED, progress=100)
    _, reader_key = api_key_create(user=owner, name="watch", scopes=["podcast:read"])
    _, writer_key = api_key_create(user=owner, name="make", scopes=["podcast:create"])
    url = f"{asgi_server.url}/api/v1/podcasts/{podcast.id}/events"

    with httpx.stream("GET", url, headers={"X-API-Key": reader_key}, timeout=30) as response:
        assert response.status_code == 200
        assert EventReader(response).next()["data"]["status"] == "completed"
    refused = httpx.get(url, headers={"X-API-Key": writer_key}, timeout=30)
    assert_error(refused, 403, "insufficient_scope")


def test_a_stream_needs_credentials(anon_client, owner):
    podcast = PodcastFactory(user=owner)
    response = anon_client.get(
        f"/api/v1/podcasts/{podcast.id}/events", HTTP_ACCEPT="text/event-stream"
    )
    assert_error(response, 401, "not_authenticated")


def test_a_stream_follows_the_real_pipeline_from_the_first_event_to_the_last(
    feed, asgi_server, celery_worker, owner
):
    """No stand-in: the offline script writer and eSpeak NG voice a short episode."""
    from podcasts.tasks import podcast_generate_task

    held = []
    # Hold the task back until the stream is open, so that it sees the job from its start.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(podcast_generate_task, "apply_async", lambda **kw: held.append(kw))
        podcast, _ = queued_podcast(owner, title="Bees")
    assert len(held) == 1

    with stream(asgi_server, podcast.id, owner) as response:
        reader = EventReader(response)
        events = [reader.next()]
        assert events[0]["data"]["status"] == "queued"
        podcast_generate_task.apply_async(**held[0])
        while (event := reader.next()) is not None:
            events.append(event)

    assert events[0]["event"] == "status"
    assert events[-1]["data"]["status"] == "completed", events[-1]
    assert events[-1]["data"]["progress"] == 100
    progress = [e["data"]["progress"] for e in events]
    assert progress == sorted(progress)
    steps = [e["data"]["currentStep"] for e in events]
    if feed == "redis":  # pub/sub relays every write; polling may merge quick ones
        assert "Writing script" in steps and "Audio combined" in steps
        assert any((step or "").startswith("Voicing line") for step in steps)
    assert len(events) >= 3
