"""The job processor: notes -> script -> speech -> one MP3 -> storage -> saved podcast.

Steps and progress figures are the plan's: script 0-25%, speech 25-60%, combine 60-80%,
store 80-95%, save 95-100%. Each step writes `progress` and `currentStep` to Podcast and
PodcastJob; between steps the job checks whether it was cancelled.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.services import usage_charge
from podcasts import metrics, publisher, storage
from podcasts.models import FINAL_STATUSES, JobStatus, Podcast, PodcastJob, PodcastStatus
from podcasts.pipeline.audio import AssembledAudio, audio_assemble
from podcasts.pipeline.line_cache import LineCache, ScriptCache
from podcasts.providers import registry
from podcasts.providers.base import GUEST, HOST, ProviderError, Script, SpeechClip
from podcasts.services import podcast_event_emit, podcast_job_fail
from webhooks_app.models import WebhookEvent

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, str], None]


class JobCancelled(Exception):
    """The podcast was cancelled or deleted while the job ran."""


class TransientJobError(Exception):
    """A provider failed in a way a later attempt may not; the task retries."""


@dataclass
class EpisodeRequest:
    """What the pipeline needs, free of the database (the CLI builds one from a file)."""

    notes: str
    duration: str  # "SHORT" | "LONG"
    title: str | None
    host_voice: str
    guest_voice: str
    tts_provider: str
    language: str = "en"  # ISO 639-1: the script is written in it, voices chosen for it
    instructions: str = ""  # tone and focus, for the script writer
    podcast_id: str | None = None  # set by the job: retries reuse the script written


@dataclass
class Episode:
    title: str
    script: Script
    audio: AssembledAudio


def episode_produce(request: EpisodeRequest, *, progress: ProgressCallback) -> Episode:
    """Run script, speech and combine. `progress(percent, step)` may raise JobCancelled."""
    progress(0, "Writing script")
    script = _script_write(request)
    title = request.title or script.title
    progress(25, "Script generated")

    clips = _speech_synthesize(request, script, progress)
    progress(60, "Audio generated")

    audio = audio_assemble(
        lines=[(line.speaker, line.text, clip) for line, clip in zip(script.lines, clips)],
        title=title,
        artist=settings.AUDIO_ARTIST,
    )
    progress(80, "Audio combined")
    return Episode(title=title, script=script, audio=audio)


def _script_write(request: EpisodeRequest) -> Script:
    """The writer's script; for a podcast, the one an earlier attempt already paid for.

    An LLM writes different words each time, so without this a retried job would voice
    all-new lines and the line cache could never hit.
    """
    writer = registry.script_writer()
    params = {
        "writer": writer.name,
        "model": getattr(writer, "model", ""),
        "notes": request.notes,
        "duration": request.duration.lower(),
        "title": request.title,
        "language": request.language,
        "instructions": request.instructions,
    }
    cache = (
        ScriptCache(podcast_id=request.podcast_id, params=params)
        if request.podcast_id and getattr(writer, "cache_scripts", False)
        else None
    )
    if cache and (script := cache.get()):
        return script
    script = writer.write(
        notes=request.notes,
        duration=request.duration.lower(),
        title=request.title,
        language=request.language,
        instructions=request.instructions,
    )
    if cache:
        cache.put(script)
    return script


def _speech_synthesize(
    request: EpisodeRequest, script: Script, progress: ProgressCallback
) -> list[SpeechClip]:
    """Voice every line, up to the provider's concurrency at once, in script order.

    Lines already bought (same provider, voice, settings and text) come from the line
    cache. Progress and cancellation are handled here, in the calling thread: the worker
    threads only talk to the provider and to storage, never to the database.
    """
    name = request.tts_provider
    provider = registry.speech_provider(name)
    voices = {
        speaker: registry.voice_resolve(provider_name=name, voice=voice, language=request.language)
        for speaker, voice in ((HOST, request.host_voice), (GUEST, request.guest_voice))
    }
    cache = (
        LineCache(provider)
        if settings.TTS_LINE_CACHE and getattr(provider, "cache_lines", False)
        else None
    )

    def voice_line(index: int) -> SpeechClip:
        line = script.lines[index]
        voice = voices[line.speaker]
        if cache and (clip := cache.get(voice=voice, text=line.text)):
            return clip
        clip = provider.synthesize(text=line.text, voice=voice)
        if cache:
            cache.put(voice=voice, text=line.text, clip=clip)
        return clip

    total = len(script.lines)
    clips: list[SpeechClip | None] = [None] * total

    def line_done(done: int) -> None:
        progress(25 + (35 * done) // max(total, 1), f"Voicing line {done} of {total}")

    concurrency = min(registry.speech_concurrency(name), max(total, 1))
    if concurrency == 1:
        # One at a time: no thread, and a cancel stops the job before the next line.
        for index in range(total):
            clips[index] = voice_line(index)
            line_done(index + 1)
        return clips  # type: ignore[return-value]

    # A sliding window rather than submitting every line up front: when the job fails or
    # is cancelled, at most `concurrency` lines are in flight, and those finish (into the
    # cache) before we return, so a retry knows exactly what was already bought.
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"tts-{name}") as pool:
        pending: dict[Future, int] = {}
        next_index = 0
        done = 0
        try:
            while pending or next_index < total:
                while next_index < total and len(pending) < concurrency:
                    pending[pool.submit(voice_line, next_index)] = next_index
                    next_index += 1
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    clips[pending.pop(future)] = future.result()
                    done += 1
                    line_done(done)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return clips  # type: ignore[return-value]


# --- The Celery job around it --------------------------------------------------------------


def podcast_generate(*, podcast_id: str, job_id: str, final_attempt: bool = True) -> None:
    """Run the whole job for one podcast. Safe to run again for the same job (re-delivery)."""
    podcast = _job_start(podcast_id=podcast_id, job_id=job_id)
    if podcast is None:
        return
    tracker = _ProgressTracker(podcast_id=podcast_id, job_id=job_id)
    try:
        episode = episode_produce(_request_of(podcast), progress=tracker)
        tracker(80, "Uploading audio")
        key = storage.audio_upload(
            key=storage.audio_key(user_id=podcast.user_id, podcast_id=podcast.id),
            data=episode.audio.mp3,
        )
        tracker(95, "Saving podcast")
        _job_complete(podcast_id=podcast_id, job_id=job_id, episode=episode, key=key)
    except JobCancelled:
        logger.info("podcast %s cancelled during job %s", podcast_id, job_id)
    except ProviderError as exc:
        metrics.provider_error_observe(job_id=job_id, permanent=exc.permanent)
        if exc.permanent or final_attempt:
            podcast_job_fail(podcast_id=podcast_id, job_id=job_id, message=exc.message)
        else:
            _job_note_retry(job_id=job_id, message=exc.message)
            raise TransientJobError(exc.message) from exc
    except Exception as exc:  # noqa: BLE001 - a bug must still end the job, not leave it hanging
        logger.exception("podcast %s job %s crashed", podcast_id, job_id)
        podcast_job_fail(podcast_id=podcast_id, job_id=job_id, message=f"Internal error: {exc}")


def _request_of(podcast: Podcast) -> EpisodeRequest:
    return EpisodeRequest(
        notes=podcast.note_content,
        duration=podcast.duration,
        title=podcast.title,
        host_voice=podcast.host_voice,
        guest_voice=podcast.guest_voice,
        tts_provider=podcast.tts_provider,
        language=podcast.language,
        instructions=podcast.instructions,
        podcast_id=podcast.id,
    )


def _job_start(*, podcast_id: str, job_id: str) -> Podcast | None:
    """Mark the job running, or return None when there is nothing (left) to do."""
    now = timezone.now()
    with transaction.atomic():
        # Lock: a delete arriving now must either see PROCESSING or cancel us before we start.
        podcast = Podcast.objects.select_for_update().filter(id=podcast_id).first()
        job = PodcastJob.objects.select_for_update().filter(job_id=job_id).first()
        if podcast is None or job is None:
            return None
        if podcast.deleted_at or podcast.status in FINAL_STATUSES or job.status in FINAL_STATUSES:
            return None
        # A re-delivered job (its worker died) finds the podcast PROCESSING already: it runs
        # again, but subscribers heard "processing" once, under one webhook-id.
        announce = podcast.status == PodcastStatus.QUEUED
        podcast.status = PodcastStatus.PROCESSING
        podcast.progress = 0
        podcast.current_step = "Starting generation"
        podcast.started_at = podcast.started_at or now
        podcast.error = None
        podcast.save()
        job.status = JobStatus.PROCESSING
        job.progress = 0
        job.current_step = "Starting generation"
        job.attempts += 1
        job.started_at = job.started_at or now
        job.save()
        if announce:
            podcast_event_emit(podcast=podcast, event=WebhookEvent.PODCAST_PROCESSING)
    return podcast


class _ProgressTracker:
    """Writes progress to both rows and stops the job if the podcast was cancelled."""

    def __init__(self, *, podcast_id: str, job_id: str):
        self.podcast_id = podcast_id
        self.job_id = job_id

    def __call__(self, percent: int, step: str) -> None:
        updated = Podcast.objects.filter(
            id=self.podcast_id, status=PodcastStatus.PROCESSING, deleted_at__isnull=True
        ).update(progress=percent, current_step=step, updated_at=timezone.now())
        if not updated:
            raise JobCancelled()
        live = PodcastJob.objects.filter(job_id=self.job_id, status=JobStatus.PROCESSING).update(
            progress=percent, current_step=step
        )
        if not live:
            raise JobCancelled()  # superseded: the sweeper gave up on this worker
        publisher.progress_publish(
            podcast_id=self.podcast_id, job_id=self.job_id, percent=percent, step=step
        )


def _job_complete(*, podcast_id: str, job_id: str, episode: Episode, key: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        # Lock: a delete racing the last step either wins (we drop the audio) or waits.
        podcast = Podcast.objects.select_for_update().get(id=podcast_id)
        live = PodcastJob.objects.filter(job_id=job_id, status=JobStatus.PROCESSING).exists()
        if podcast.status != PodcastStatus.PROCESSING or podcast.deleted_at or not live:
            transaction.on_commit(lambda: storage.audio_delete(key=key))
            raise JobCancelled()
        podcast.title = podcast.title or episode.title
        podcast.status = PodcastStatus.COMPLETED
        podcast.progress = 100
        podcast.current_step = "Completed"
        podcast.audio_url = key
        podcast.audio_duration = round(episode.audio.duration, 3)
        podcast.audio_size = len(episode.audio.mp3)
        podcast.transcript = episode.audio.segments
        podcast.warnings = list(getattr(episode.script, "warnings", None) or [])
        podcast.completed_at = now
        podcast.error = None
        podcast.save()
        usage_charge(podcast=podcast)
        PodcastJob.objects.filter(job_id=job_id).update(
            status=JobStatus.COMPLETED,
            progress=100,
            current_step="Completed",
            completed_at=now,
            error=None,
        )
        podcast_event_emit(podcast=podcast, event=WebhookEvent.PODCAST_COMPLETED)
        # Streams learn the final state at once (progress writes are published as they go).
        transaction.on_commit(lambda: publisher.status_publish(podcast_id=podcast_id))


def _job_note_retry(*, job_id: str, message: str) -> None:
    """The job will run again after a backoff; pollers see why it paused."""
    job = PodcastJob.objects.filter(job_id=job_id).first()
    if job is None:
        return
    step = f"Retrying after a provider error: {message}"[:100]
    Podcast.objects.filter(id=job.podcast_id, status=PodcastStatus.PROCESSING).update(
        current_step=step, updated_at=timezone.now()
    )
    PodcastJob.objects.filter(job_id=job_id).update(
        current_step=step, error=message, stack_trace=traceback.format_exc()
    )
