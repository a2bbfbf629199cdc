"""The final state reaches the live streams from where it happens: the job publishes it as it
completes or fails, the cancel as it cancels (no Celery signal in between)."""

from __future__ import annotations

import json
import time

import pytest
from django_redis import get_redis_connection

from podcasts import services
from podcasts.providers.base import ProviderError
from podcasts.publisher import channel_name
from podcasts.tasks import podcast_generate_task
from tests.ops.conftest import queued_podcast


@pytest.fixture
def listen(redis_url):
    subscriptions = []

    def subscribe(podcast_id: str):
        pubsub = get_redis_connection().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel_name(podcast_id))
        subscriptions.append(pubsub)
        return pubsub

    yield subscribe
    for pubsub in subscriptions:
        pubsub.close()


def statuses(pubsub, quiet: float = 1.0) -> list[str]:
    """Statuses published, until the channel has been quiet for `quiet` seconds."""
    seen = []
    deadline = time.monotonic() + quiet
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)  # None also for the subscribe confirmation
        if message is not None:
            seen.append(json.loads(message["data"])["status"])
            deadline = time.monotonic() + quiet
    return seen


def test_a_completed_job_publishes_completed(listen, owner, episode, transactional_db):
    podcast, job = queued_podcast(owner)
    pubsub = listen(podcast.id)
    podcast_generate_task.apply(args=[podcast.id, job.job_id], task_id=job.job_id)
    assert statuses(pubsub)[-1] == "completed"


def test_a_failed_job_publishes_failed(listen, owner, episode, transactional_db, monkeypatch):
    from podcasts.pipeline import generate

    def fail(request, *, progress):
        raise ProviderError("voice quota exhausted", permanent=True)

    monkeypatch.setattr(generate, "episode_produce", fail)
    podcast, job = queued_podcast(owner)
    pubsub = listen(podcast.id)
    podcast_generate_task.apply(args=[podcast.id, job.job_id], task_id=job.job_id)
    assert statuses(pubsub) == ["failed"]


def test_a_cancel_publishes_cancelled(listen, owner, transactional_db):
    podcast, _ = queued_podcast(owner)
    pubsub = listen(podcast.id)
    services.podcast_delete(user=owner, podcast_id=podcast.id)
    assert statuses(pubsub) == ["cancelled"]
