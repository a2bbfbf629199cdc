"""The broker unreachable when a podcast is created: the request still answers 202, the
podcast is kept QUEUED, and the beat sweeper sends its job once the broker is back."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from ops.schedules import BEAT_SCHEDULE
from podcasts import services
from podcasts.models import JobStatus, Podcast, PodcastJob, PodcastStatus
from podcasts.pipeline.generate import podcast_generate
from podnex.celery import app
from tests.factories import SAMPLE_NOTES
from tests.utils import broker_unreachable

URL = "/api/v1/podcasts"


@pytest.fixture
def broker_down():
    with broker_unreachable():
        yield


def later(settings, seconds_past: int = 1):
    return timezone.now() + timezone.timedelta(
        seconds=settings.PODCAST_QUEUE_STALE_SECONDS + seconds_past
    )


def test_creating_a_podcast_with_the_broker_down_still_answers_and_keeps_it(
    owner_client, broker_down, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(URL, {"noteContent": SAMPLE_NOTES}, format="json")
    assert response.status_code == 202, response.content
    assert time.monotonic() - started < 15  # gave up publishing instead of hanging
    podcast = Podcast.objects.get(id=response.json()["podcast"]["id"])
    assert podcast.status == PodcastStatus.QUEUED
    assert podcast.jobs.get().status == JobStatus.QUEUED


def test_the_sweeper_gives_a_stale_queued_podcast_a_new_job_and_cancels_the_old(
    owner, settings, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(services, "_job_send", lambda **kw: sent.append(kw) or True)
    with django_capture_on_commit_callbacks(execute=True):
        podcast, old_job = services.podcast_create(
            user=owner, note_content=SAMPLE_NOTES, tts_provider="espeak"
        )
    assert services.podcast_jobs_requeue_stale() == 0  # not stale yet
    with django_capture_on_commit_callbacks(execute=True):
        assert services.podcast_jobs_requeue_stale(now=later(settings)) == 1
    old_job.refresh_from_db()
    assert old_job.status == JobStatus.CANCELLED
    new_job = PodcastJob.objects.get(podcast=podcast, status=JobStatus.QUEUED)
    assert sent[-1] == {"podcast_id": podcast.id, "job_id": new_job.job_id}

    # The old message turning up after all is skipped: the podcast runs once.
    podcast_generate(podcast_id=podcast.id, job_id=old_job.job_id)
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.QUEUED
    # A second sweep finds the fresh job and does nothing.
    assert services.podcast_jobs_requeue_stale(now=later(settings, -5)) == 0


def test_the_sweeper_leaves_running_finished_and_deleted_podcasts_alone(owner, settings):
    for status in (PodcastStatus.PROCESSING, PodcastStatus.COMPLETED, PodcastStatus.FAILED):
        podcast = Podcast.objects.create(user=owner, note_content="n", status=status)
        PodcastJob.objects.create(podcast=podcast, job_id=f"job-{status}")
    deleted = Podcast.objects.create(user=owner, note_content="n", deleted_at=timezone.now())
    PodcastJob.objects.create(podcast=deleted, job_id="job-deleted")
    assert services.podcast_jobs_requeue_stale(now=later(settings, 3600)) == 0


def test_the_sweeper_is_scheduled_every_minute(settings):
    entry = BEAT_SCHEDULE["podcasts-requeue-stale"]
    assert entry["task"] == "podcasts.requeue_stale"
    assert app.tasks[entry["task"]]


@pytest.mark.django_db(transaction=True)
def test_a_podcast_created_while_the_broker_was_down_completes_once_it_is_back(
    request, owner_client, owner, settings
):
    with broker_unreachable():
        response = owner_client.post(URL, {"noteContent": SAMPLE_NOTES}, format="json")
    assert response.status_code == 202, response.content
    podcast_id = response.json()["podcast"]["id"]

    request.getfixturevalue("celery_worker")  # a real worker on the real broker
    assert services.podcast_jobs_requeue_stale(now=later(settings)) == 1
    deadline = time.monotonic() + 120
    podcast = Podcast.objects.get(id=podcast_id)
    while podcast.status not in (PodcastStatus.COMPLETED, PodcastStatus.FAILED):
        assert time.monotonic() < deadline, podcast.current_step
        time.sleep(0.2)
        podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.COMPLETED, podcast.error
    assert podcast.jobs.filter(status=JobStatus.COMPLETED).count() == 1
