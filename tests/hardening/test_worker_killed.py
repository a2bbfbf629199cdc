"""A worker killed with SIGKILL in the middle of a job: the job is delivered again (acks
late, Redis visibility timeout), finishes on another worker, is charged once, and its
webhooks carry one webhook-id per event. Real `celery worker` processes on Redis."""

from __future__ import annotations

import json
import time

import pytest

from billing.models import Subscription, UsageRecord
from podcasts import services as podcast_services
from podcasts.models import Podcast, PodcastJob, PodcastStatus
from podnex.celery import app
from tests.factories import SAMPLE_NOTES, UserFactory
from tests.hardening.servers import celery_worker, subprocess_env
from tests.podcasts.providers.fakes import Reply, UnrealServer
from tests.webhooks_app.receiver import Receiver
from webhooks_app import services as webhook_services
from webhooks_app.models import WebhookDelivery

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

VISIBILITY_TIMEOUT = 2  # seconds before Redis hands an unacknowledged job to another worker


def wait_until(condition, *, timeout: float, what: str, logs=()):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            output = "\n\n".join(process.output()[-3000:] for process in logs)
            pytest.fail(f"timed out waiting for {what}\n{output}")
        time.sleep(0.1)


@pytest.fixture
def unreal():
    server = UnrealServer().start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.close()


def test_a_job_whose_worker_is_killed_finishes_elsewhere_charged_once(
    postgres, redis_url, tmp_path, settings, unreal, receiver
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    app.control.purge()
    user = UserFactory(email="sigkill@example.com")
    webhook_services.webhook_create(
        user=user,
        url=receiver.url(),
        events=["PODCAST_PROCESSING", "PODCAST_COMPLETED", "PODCAST_FAILED"],
    )
    # Slow lines until the kill, so that the job is surely in the middle of its speech step.
    slow = {"on": True}
    unreal.respond = lambda request: (
        Reply(200, unreal.answer(request).body, delay=0.4) if slow["on"] else None
    )
    env = subprocess_env(
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        TTS_PROVIDER="unreal",
        UNREAL_SPEECH_API_KEY="unreal-test-key",
        UNREAL_SPEECH_BASE_URL=unreal.url,
        TTS_CONCURRENCY_UNREAL="1",
        WEBHOOK_ALLOW_PRIVATE_URLS="true",
        WEBHOOK_RETRY_SCHEDULE="1,1,1",
    )
    first = celery_worker(tmp_path, "first", env=env)
    second = None
    try:
        podcast, job = podcast_services.podcast_create(
            user=user, note_content=SAMPLE_NOTES, tts_provider="unreal"
        )
        wait_until(
            lambda: len(unreal.to("/stream")) >= 3,
            timeout=30,
            what="the first worker to be voicing lines",
            logs=[first],
        )
        assert Podcast.objects.get(id=podcast.id).status == PodcastStatus.PROCESSING
        first.kill()
        slow["on"] = False

        second = celery_worker(tmp_path, "second", env=env)
        wait_until(
            lambda: Podcast.objects.get(id=podcast.id).status != PodcastStatus.PROCESSING,
            timeout=60,
            what="the job to finish on the second worker",
            logs=[first, second],
        )
        podcast.refresh_from_db()
        assert podcast.status == PodcastStatus.COMPLETED, podcast.error
        job = PodcastJob.objects.get(job_id=job.job_id)
        assert job.status == PodcastStatus.COMPLETED
        assert job.attempts == 2  # the same job, delivered again, not a new one

        # Charged once.
        assert UsageRecord.objects.filter(podcast_id=podcast.id).count() == 1
        assert Subscription.objects.get(user=user).current_podcast_count == 1

        # One delivery per event, each received under its own single webhook-id.
        deliveries = WebhookDelivery.objects.filter(webhook__user=user)
        assert sorted(d.event for d in deliveries) == ["PODCAST_COMPLETED", "PODCAST_PROCESSING"]
        wait_until(
            lambda: (
                {r.headers["webhook-id"] for r in receiver.requests}
                >= {d.message_id for d in deliveries}
            ),
            timeout=30,
            what="both webhooks to arrive",
            logs=[second],
        )
        ids_by_type: dict[str, set[str]] = {}
        for received in receiver.requests:
            kind = json.loads(received.body)["type"]
            ids_by_type.setdefault(kind, set()).add(received.headers["webhook-id"])
        assert ids_by_type == {
            "podcast.processing": {deliveries.get(event="PODCAST_PROCESSING").message_id},
            "podcast.completed": {deliveries.get(event="PODCAST_COMPLETED").message_id},
        }
    finally:
        first.stop()
        if second:
            second.stop()
        app.control.purge()
