"""The generation job run in-process: steps, progress, failure, cancellation, re-delivery."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from podcasts import services
from podcasts.models import JobStatus, Podcast, PodcastJob, PodcastStatus
from podcasts.pipeline import generate
from podcasts.pipeline.generate import TransientJobError, podcast_generate
from podcasts.providers import registry
from podcasts.providers.base import ProviderError
from tests.factories import SAMPLE_NOTES


def queued_podcast(user, **fields) -> tuple[Podcast, PodcastJob]:
    return services.podcast_create(
        user=user, note_content=SAMPLE_NOTES, tts_provider="espeak", **fields
    )


class FlakySpeech:
    """Wraps the real offline speech provider and misbehaves on the Nth line."""

    def __init__(self, *, fail_on: int, error: Exception | None = None, on_line=None):
        self.real = registry.speech_provider("espeak")
        self.name = "espeak"
        self.calls = 0
        self.fail_on = fail_on
        self.error = error
        self.on_line = on_line

    def voices(self):
        return self.real.voices()

    def default_voices(self):
        return self.real.default_voices()

    def synthesize(self, *, text, voice):
        self.calls += 1
        if self.calls == self.fail_on:
            if self.on_line:
                self.on_line()
            if self.error:
                raise self.error
        return self.real.synthesize(text=text, voice=voice)


@pytest.fixture
def use_speech(monkeypatch):
    def install(provider):
        monkeypatch.setattr(registry, "speech_provider", lambda name: provider)
        return provider

    return install


def test_a_job_runs_every_step_and_stores_the_episode(owner):
    podcast, job = queued_podcast(owner, title="Bees")
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id)

    podcast.refresh_from_db()
    job.refresh_from_db()
    assert podcast.status == PodcastStatus.COMPLETED
    assert podcast.progress == 100 and podcast.current_step == "Completed"
    assert podcast.started_at <= podcast.completed_at
    assert default_storage.exists(podcast.audio_url)
    assert default_storage.size(podcast.audio_url) == podcast.audio_size
    assert podcast.audio_url.startswith(f"podcasts/{owner.id}/{podcast.id}/")
    assert podcast.audio_duration >= 10
    assert abs(podcast.transcript[-1]["end"] - podcast.audio_duration) <= 0.5
    assert job.status == JobStatus.COMPLETED and job.attempts == 1 and job.progress == 100


def test_a_redelivered_job_for_a_completed_podcast_does_nothing(owner):
    podcast, job = queued_podcast(owner)
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id)
    podcast.refresh_from_db()
    first_completed_at = podcast.completed_at

    podcast_generate(podcast_id=podcast.id, job_id=job.job_id)
    podcast.refresh_from_db()
    job.refresh_from_db()
    assert podcast.completed_at == first_completed_at
    assert job.attempts == 1


def test_progress_is_written_step_by_step(owner, monkeypatch):
    podcast, job = queued_podcast(owner)
    seen = []
    original = generate._ProgressTracker.__call__

    def spy(self, percent, step):
        original(self, percent, step)
        row = Podcast.objects.get(id=podcast.id)
        seen.append((row.progress, row.current_step))

    monkeypatch.setattr(generate._ProgressTracker, "__call__", spy)
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id)
    percents = [p for p, _ in seen]
    assert percents == sorted(percents)
    for milestone, step in [
        (25, "Script generated"),
        (60, "Audio generated"),
        (80, "Audio combined"),
        (95, "Saving podcast"),
    ]:
        assert (milestone, step) in seen
    assert any(step.startswith("Voicing line") for _, step in seen)


def test_a_permanent_provider_error_fails_the_job_with_a_readable_error(owner, use_speech):
    use_speech(
        FlakySpeech(fail_on=2, error=ProviderError("espeak: voice data missing", permanent=True))
    )
    podcast, job = queued_podcast(owner)
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id, final_attempt=False)

    podcast.refresh_from_db()
    job.refresh_from_db()
    assert podcast.status == PodcastStatus.FAILED
    assert podcast.error == "espeak: voice data missing"
    assert podcast.audio_url is None
    assert job.status == JobStatus.FAILED
    assert "ProviderError" in job.stack_trace


def test_a_transient_error_asks_for_a_retry_until_the_last_attempt(owner, use_speech):
    use_speech(FlakySpeech(fail_on=1, error=ProviderError("timed out")))
    podcast, job = queued_podcast(owner)
    with pytest.raises(TransientJobError):
        podcast_generate(podcast_id=podcast.id, job_id=job.job_id, final_attempt=False)
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.PROCESSING
    assert "timed out" in podcast.current_step

    use_speech(FlakySpeech(fail_on=1, error=ProviderError("timed out")))
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id, final_attempt=True)
    podcast.refresh_from_db()
    job.refresh_from_db()
    assert podcast.status == PodcastStatus.FAILED and podcast.error == "timed out"
    assert job.attempts == 2


def test_a_transient_error_then_success_completes_on_the_next_attempt(owner, use_speech):
    use_speech(FlakySpeech(fail_on=3, error=ProviderError("503 from provider")))
    podcast, job = queued_podcast(owner)
    with pytest.raises(TransientJobError):
        podcast_generate(podcast_id=podcast.id, job_id=job.job_id, final_attempt=False)
    use_speech(FlakySpeech(fail_on=0))
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id, final_attempt=False)
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.COMPLETED


def test_deleting_a_running_podcast_stops_the_job_at_the_next_step(owner, use_speech):
    podcast, job = queued_podcast(owner)
    speech = use_speech(
        FlakySpeech(
            fail_on=2,
            on_line=lambda: services.podcast_delete(user=owner, podcast_id=podcast.id),
        )
    )
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id)

    podcast.refresh_from_db()
    job.refresh_from_db()
    assert podcast.status == PodcastStatus.CANCELLED and podcast.deleted_at is not None
    assert podcast.audio_url is None
    assert job.status == JobStatus.CANCELLED
    assert speech.calls == 2, "no line is voiced after the cancel is seen"
    assert not default_storage.exists(f"podcasts/{owner.id}/{podcast.id}/episode.mp3")


def test_a_failed_podcast_retried_through_the_api_completes(owner, owner_client, use_speech):
    use_speech(FlakySpeech(fail_on=1, error=ProviderError("bad voice", permanent=True)))
    podcast, job = queued_podcast(owner)
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id)
    use_speech(FlakySpeech(fail_on=0))

    retried = owner_client.post(f"/api/v1/podcasts/{podcast.id}/retry").json()["podcast"]
    podcast_generate(podcast_id=podcast.id, job_id=retried["jobId"])

    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.COMPLETED and podcast.retry_count == 1
    assert PodcastJob.objects.filter(podcast=podcast).count() == 2
