"""The sweeper and a job whose worker vanished beyond the broker's redelivery: a podcast
PROCESSING without progress for PODCAST_PROCESSING_STALE_SECONDS is re-run once on a new
job, then failed for good; a superseded worker that wakes up stops; nothing is charged
twice. Real rows, the real sweeper, and a real Celery worker for the re-run."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Subscription, UsageRecord, UsageReservation
from podcasts import services
from podcasts.models import JobKind, JobStatus, Podcast, PodcastJob, PodcastStatus
from podcasts.pipeline import generate
from podcasts.pipeline.generate import JobCancelled
from tests.billing.conftest import complete
from tests.factories import SAMPLE_NOTES


def later(settings, seconds_past: int = 1):
    return timezone.now() + timedelta(
        seconds=settings.PODCAST_PROCESSING_STALE_SECONDS + seconds_past
    )


@pytest.fixture
def sent(monkeypatch):
    """What the sweeper publishes (the broker itself is tested with the real worker below)."""
    messages: list[dict] = []
    monkeypatch.setattr(services, "_job_send", lambda **kw: messages.append(kw) or True)
    return messages


def running(owner):
    """A podcast whose worker started it, then vanished."""
    podcast, job = services.podcast_create(
        user=owner, note_content=SAMPLE_NOTES, tts_provider="espeak"
    )
    generate._job_start(podcast_id=podcast.id, job_id=job.job_id)
    return podcast, job


def test_a_running_job_silent_too_long_is_run_again_once(
    owner, settings, sent, django_capture_on_commit_callbacks
):
    podcast, lost = running(owner)
    assert services.podcast_jobs_recover_stuck() == 0  # still fresh
    with django_capture_on_commit_callbacks(execute=True):
        assert services.podcast_jobs_recover_stuck(now=later(settings)) == 1

    lost.refresh_from_db()
    podcast.refresh_from_db()
    assert lost.status == JobStatus.FAILED and lost.error.startswith(services.WORKER_LOST)
    assert podcast.status == PodcastStatus.QUEUED
    new = PodcastJob.objects.get(podcast=podcast, status=JobStatus.QUEUED)
    assert sent == [{"podcast_id": podcast.id, "job_id": new.job_id}]
    assert UsageReservation.objects.filter(podcast_id=podcast.id).count() == 1  # still held
    # Sweeping again at once finds nothing: the re-run is fresh.
    assert services.podcast_jobs_recover_stuck(now=later(settings, -5)) == 0

    # The lost job's message redelivered after all is skipped; the new job completes,
    # charged once.
    generate.podcast_generate(podcast_id=podcast.id, job_id=lost.job_id)
    assert Podcast.objects.get(id=podcast.id).status == PodcastStatus.QUEUED
    complete(podcast, new, seconds=200)
    assert UsageRecord.objects.filter(podcast_id=podcast.id).count() == 1
    assert Subscription.objects.get(user=owner).current_podcast_count == 1


def test_a_lost_render_job_is_rendered_again_not_regenerated(
    owner, settings, sent, django_capture_on_commit_callbacks
):
    podcast, lost = running(owner)
    PodcastJob.objects.filter(pk=lost.pk).update(kind=JobKind.RENDER)
    with django_capture_on_commit_callbacks(execute=True):
        services.podcast_jobs_recover_stuck(now=later(settings))
    assert PodcastJob.objects.get(podcast=podcast, status=JobStatus.QUEUED).kind == JobKind.RENDER


def test_a_superseded_worker_that_wakes_up_stops_and_charges_nothing(
    owner, settings, sent, django_capture_on_commit_callbacks
):
    podcast, lost = running(owner)
    with django_capture_on_commit_callbacks(execute=True):
        services.podcast_jobs_recover_stuck(now=later(settings))
    new = PodcastJob.objects.get(podcast=podcast, status=JobStatus.QUEUED)
    generate._job_start(podcast_id=podcast.id, job_id=new.job_id)  # the re-run is going

    tracker = generate._ProgressTracker(podcast_id=podcast.id, job_id=lost.job_id)
    with pytest.raises(JobCancelled):
        tracker(50, "Generating audio")  # the old worker's next step
    episode = generate.Episode(title="B", script=None, audio=_audio(100))
    with pytest.raises(JobCancelled):
        generate._job_complete(podcast_id=podcast.id, job_id=lost.job_id, episode=episode, key="k")
    assert not UsageRecord.objects.filter(podcast_id=podcast.id).exists()

    generate._job_complete(podcast_id=podcast.id, job_id=new.job_id, episode=episode, key="k")
    assert UsageRecord.objects.filter(podcast_id=podcast.id).count() == 1


def test_a_job_lost_twice_fails_for_good_and_frees_its_quota(
    owner, settings, sent, django_capture_on_commit_callbacks
):
    podcast, _ = running(owner)
    with django_capture_on_commit_callbacks(execute=True):
        services.podcast_jobs_recover_stuck(now=later(settings))
    new = PodcastJob.objects.get(podcast=podcast, status=JobStatus.QUEUED)
    generate._job_start(podcast_id=podcast.id, job_id=new.job_id)
    Podcast.objects.filter(id=podcast.id).update(updated_at=timezone.now())  # ran, then lost

    with django_capture_on_commit_callbacks(execute=True):
        assert services.podcast_jobs_recover_stuck(now=later(settings, 60)) == 1
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.FAILED
    assert "giving up" in podcast.error
    assert len(sent) == 1  # no third run
    assert not UsageReservation.objects.filter(podcast_id=podcast.id).exists()
    assert not UsageRecord.objects.filter(podcast_id=podcast.id).exists()
    assert services.podcast_jobs_recover_stuck(now=later(settings, 7200)) == 0


def test_the_sweeper_leaves_queued_finished_deleted_and_progressing_podcasts_alone(
    owner, settings, sent
):
    for status in (PodcastStatus.QUEUED, PodcastStatus.COMPLETED, PodcastStatus.FAILED):
        Podcast.objects.create(user=owner, note_content="n", status=status)
    Podcast.objects.create(
        user=owner, note_content="n", status=PodcastStatus.PROCESSING, deleted_at=timezone.now()
    )
    podcast, job = running(owner)
    generate._ProgressTracker(podcast_id=podcast.id, job_id=job.job_id)(30, "Generating audio")
    assert services.podcast_jobs_recover_stuck(now=later(settings, -60)) == 0
    assert sent == []


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_recovered_job_to_completion_once(request, owner, settings):
    podcast, lost = running(owner)
    request.getfixturevalue("celery_worker")  # a real worker on the configured broker
    assert services.podcast_jobs_recover_stuck(now=later(settings)) == 1
    deadline = time.monotonic() + 120
    while Podcast.objects.get(id=podcast.id).status not in (
        PodcastStatus.COMPLETED,
        PodcastStatus.FAILED,
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.COMPLETED, podcast.error
    assert podcast.jobs.filter(status=JobStatus.COMPLETED).count() == 1
    assert UsageRecord.objects.filter(podcast_id=podcast.id).count() == 1


def _audio(seconds: float):
    from types import SimpleNamespace

    return SimpleNamespace(duration=seconds, mp3=b"ID3fake", segments=[])
