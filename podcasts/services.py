"""Podcast writes and business rules: create, retry, cancel, delete, and job bookkeeping.

Views, tasks, admin actions and commands all call these functions.
"""

from __future__ import annotations

import logging
import math
import traceback
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.services import quota_release, quota_reserve
from notifications import services as notify
from podcasts import publisher, scripts, storage
from podcasts.models import (
    ACTIVE_STATUSES,
    EDITABLE_STATUSES,
    FINAL_STATUSES,
    JobKind,
    JobStatus,
    Podcast,
    PodcastDuration,
    PodcastJob,
    PodcastScript,
    PodcastStatus,
)
from podcasts.providers import registry
from podcasts.serializers import PodcastSummarySerializer
from podcasts.speakers import speakers_with_ids, voices_assign
from podnex import durations
from podnex.api.errors import Conflict, InvalidInput, NotFound
from podnex.celery import app as celery_app
from podnex.celery import task_send
from sources.services import source_summary, sources_for_podcast, sources_notes
from webhooks_app import services as webhooks
from webhooks_app.models import WebhookEvent

logger = logging.getLogger(__name__)

GENERATE_TASK = "podcasts.generate"


def estimated_time(duration: str) -> int:
    """Seconds a job of this length usually takes, end to end."""
    return durations.estimated_job_seconds(duration)


def podcast_event_emit(*, podcast: Podcast, event: str) -> None:
    """Tell the owner's webhooks (and the podcast's own webhookUrl) what happened, with the
    podcast as the API shows it. Inside the caller's transaction; sent after it commits."""
    webhooks.podcast_event_emit(
        user_id=podcast.user_id,
        event=event,
        data=PodcastSummarySerializer(podcast).data,
        webhook_url=podcast.webhook_url,
    )


def podcast_get(*, user, podcast_id: str) -> Podcast:
    """A user's own, not deleted podcast; anyone else's is simply not found."""
    podcast = Podcast.visible.filter(id=podcast_id, user=user).first()
    if podcast is None:
        raise NotFound("Podcast not found")
    return podcast


def podcast_create(
    *,
    user,
    note_content: str = "",
    duration: str = PodcastDuration.SHORT,
    title: str | None = None,
    note_id: str | None = None,
    host_voice: str = "host",
    guest_voice: str = "guest",
    tts_provider: str,
    webhook_url: str | None = None,
    language: str = "en",
    instructions: str = "",
    source_ids: list[str] | None = None,
    speakers: list[dict] | None = None,
    review: bool = False,
) -> tuple[Podcast, PodcastJob]:
    sources = sources_for_podcast(user=user, source_ids=source_ids) if source_ids else []
    if sources:
        # Each source becomes a section headed by its title, after any pasted notes.
        note_content = sources_notes(sources, notes=note_content)
    with transaction.atomic():
        podcast = Podcast.objects.create(
            user=user,
            note_content=note_content,
            sources=[source_summary(source) for source in sources],
            duration=duration,
            title=title or None,
            note_id=note_id or None,
            host_voice=host_voice,
            guest_voice=guest_voice,
            tts_provider=tts_provider,
            webhook_url=webhook_url or None,
            language=language,
            instructions=instructions,
            speakers=[
                {"name": s["name"], "role": s["role"], "voice": s.get("voice") or ""}
                for s in speakers or []
            ],
            review=review,
        )
        quota_reserve(user=user, podcast_id=podcast.id, duration=podcast.duration)
        job = _job_enqueue(podcast)
        podcast_event_emit(podcast=podcast, event=WebhookEvent.PODCAST_CREATED)
    return podcast, job


def podcast_retry(*, user, podcast_id: str) -> tuple[Podcast, PodcastJob]:
    with transaction.atomic():
        # Lock: two retries clicked at once must not enqueue two jobs.
        podcast = Podcast.visible.select_for_update().filter(id=podcast_id, user=user).first()
        if podcast is None:
            raise NotFound("Podcast not found")
        if podcast.status != PodcastStatus.FAILED:
            raise Conflict(
                f"Only a failed podcast can be retried; this one is {podcast.status.lower()}",
                code="invalid_state",
                status=podcast.status.lower(),
            )
        # Failure released its quota: the new attempt must fit the plan again.
        quota_reserve(user=user, podcast_id=podcast.id, duration=podcast.duration)
        podcast.status = PodcastStatus.QUEUED
        podcast.progress = 0
        podcast.current_step = "Queued for retry"
        podcast.error = None
        podcast.retry_count += 1
        podcast.started_at = None
        podcast.completed_at = None
        podcast.save()
        job = _job_enqueue(podcast)
    return podcast, job


def podcast_delete(*, user, podcast_id: str) -> None:
    """Soft delete; a job still queued or running is cancelled (it stops at the next step)."""
    with transaction.atomic():
        # Lock: the worker may be completing this podcast right now; one of us wins cleanly.
        podcast = Podcast.visible.select_for_update().filter(id=podcast_id, user=user).first()
        if podcast is None:
            raise NotFound("Podcast not found")
        now = timezone.now()
        if podcast.status in ACTIVE_STATUSES:
            _cancel_locked(podcast, now=now)
        elif podcast.status == PodcastStatus.SCRIPT_READY:
            quota_release(podcast_id=podcast.id)  # a draft held its quota until now
        podcast.deleted_at = now
        podcast.save()
        if podcast.audio_url:
            # Deleted means gone: a presigned S3 link cannot be revoked, but its object can.
            transaction.on_commit(lambda key=podcast.audio_url: _audio_forget(key))


def _audio_forget(key: str) -> None:
    try:
        storage.audio_delete(key=key)
    except Exception:  # noqa: BLE001 - the daily cleanup deletes it later; the delete stands
        logger.exception("could not delete the audio of a deleted podcast: %s", key)


def podcast_cancel(*, podcast_id: str) -> bool:
    """Cancel a queued or running job (staff action). Returns whether anything changed."""
    with transaction.atomic():
        podcast = Podcast.objects.select_for_update().filter(id=podcast_id).first()
        if podcast is None or podcast.status not in ACTIVE_STATUSES:
            return False
        _cancel_locked(podcast, now=timezone.now())
        podcast.save()
        return True


def _cancel_locked(podcast: Podcast, *, now) -> None:
    podcast.status = PodcastStatus.CANCELLED
    podcast.current_step = "Cancelled"
    podcast.completed_at = now
    active_jobs = podcast.jobs.filter(status__in=ACTIVE_STATUSES)
    job_ids = list(active_jobs.values_list("job_id", flat=True))
    active_jobs.update(status=JobStatus.CANCELLED, completed_at=now)
    quota_release(podcast_id=podcast.id)
    transaction.on_commit(lambda: _revoke(job_ids))
    transaction.on_commit(lambda: publisher.status_publish(podcast_id=podcast.id))


def _revoke(job_ids: list[str]) -> None:
    # A queued task is dropped by the worker; a running one notices at its next step.
    for job_id in job_ids:
        try:
            celery_app.control.revoke(job_id)
        except Exception:  # noqa: BLE001 - the broker may not support remote control
            pass


def _job_enqueue(podcast: Podcast, *, kind: str = JobKind.GENERATE) -> PodcastJob:
    job = PodcastJob.objects.create(podcast=podcast, job_id=str(uuid.uuid4()), kind=kind)
    transaction.on_commit(lambda: _job_send(podcast_id=podcast.id, job_id=job.job_id))
    return job


def _job_send(*, podcast_id: str, job_id: str) -> bool:
    """Publish the job. The podcast is already committed (QUEUED, quota reserved): if the
    broker is unreachable the request still answers, and `podcast_jobs_requeue_stale`
    sends the job once the broker is back."""
    try:
        task_send(GENERATE_TASK, args=[podcast_id, job_id], task_id=job_id)
    except Exception:  # noqa: BLE001 - kombu raises several types for "no broker"
        logger.exception(
            "broker unreachable: job %s of podcast %s waits for the sweeper", job_id, podcast_id
        )
        return False
    return True


def podcast_jobs_requeue_stale(*, now: datetime | None = None, limit: int = 500) -> int:
    """The beat task: give every podcast whose job has waited QUEUED longer than
    PODCAST_QUEUE_STALE_SECONDS a new job and send it. The old job is cancelled first, so
    that if its message does turn up after all, the worker skips it (`_job_start` ignores
    final jobs) and the podcast still runs once. Returns how many were re-enqueued."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.PODCAST_QUEUE_STALE_SECONDS)
    podcast_ids = list(
        PodcastJob.objects.filter(
            status=JobStatus.QUEUED,
            created_at__lt=cutoff,
            podcast__status=PodcastStatus.QUEUED,
            podcast__deleted_at__isnull=True,
        )
        .order_by("created_at")
        .values_list("podcast_id", flat=True)
        .distinct()[:limit]
    )
    requeued = 0
    for podcast_id in podcast_ids:
        with transaction.atomic():
            # Lock: the job's own message may reach a worker right now; `_job_start` takes
            # this lock too, so either it starts the job (and we see PROCESSING) or we
            # cancel the job first (and it skips).
            podcast = Podcast.objects.select_for_update().filter(id=podcast_id).first()
            if podcast is None or podcast.status != PodcastStatus.QUEUED or podcast.deleted_at:
                continue
            stale = podcast.jobs.filter(status=JobStatus.QUEUED)
            if stale.filter(created_at__gte=cutoff).exists():
                continue  # a fresh job is already waiting
            kind = stale.order_by("-created_at").values_list("kind", flat=True).first()
            stale.update(
                status=JobStatus.CANCELLED,
                completed_at=now,
                error="Superseded: not picked up by a worker in time, sent again",
            )
            _job_enqueue(podcast, kind=kind or JobKind.GENERATE)
            requeued += 1
    if requeued:
        logger.warning("re-enqueued %d podcasts whose jobs waited too long", requeued)
    return requeued


def podcast_job_fail(*, podcast_id: str, job_id: str, message: str) -> None:
    """The job failed for good: the podcast is FAILED with `message` (a failed re-render
    keeps its earlier audio), charges nothing and frees its quota reservation; webhooks
    and streams hear of it."""
    now = timezone.now()
    with transaction.atomic():
        podcast = Podcast.objects.select_for_update().filter(id=podcast_id).first()
        if podcast is None or podcast.status in FINAL_STATUSES:
            return
        if podcast.audio_url:
            # A failed re-render: the earlier episode is still there and still playable.
            podcast.status = PodcastStatus.COMPLETED
            podcast.progress = 100
            podcast.current_step = "Render failed; the earlier audio is kept"
        else:
            podcast.status = PodcastStatus.FAILED
            podcast.current_step = "Failed"
            podcast.completed_at = now
        podcast.error = message
        podcast.save()
        quota_release(podcast_id=podcast_id)
        PodcastJob.objects.filter(job_id=job_id).update(
            status=JobStatus.FAILED,
            error=message,
            stack_trace=traceback.format_exc(),
            completed_at=now,
        )
        podcast_event_emit(podcast=podcast, event=WebhookEvent.PODCAST_FAILED)
        notify.episode_failed(
            user_id=podcast.user_id,
            podcast_id=podcast.id,
            title=podcast.title,
            reason=message,
            attempt=podcast.retry_count + 1,
        )
        transaction.on_commit(lambda: publisher.status_publish(podcast_id=podcast_id))


# The note a job superseded by the sweeper carries; the podcast is re-run once, not twice.
WORKER_LOST = "Worker lost"


def podcast_jobs_recover_stuck(*, now: datetime | None = None, limit: int = 500) -> int:
    """The beat task's second half: a podcast PROCESSING without progress (its `updatedAt`,
    written at every step) for PODCAST_PROCESSING_STALE_SECONDS lost its worker in a way
    the broker did not redeliver. Its job is marked FAILED; the podcast runs once more on a
    new job (its quota reservation stands), or, if the sweeper already did that once, fails
    for good (the reservation is released, nothing is charged). Charged at most once: a
    superseded worker that wakes up stops at its next step, and completing requires the
    job to be the live one (`podcast_generate`). Returns how many podcasts were handled."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.PODCAST_PROCESSING_STALE_SECONDS)
    podcast_ids = list(
        Podcast.objects.filter(
            status=PodcastStatus.PROCESSING, updated_at__lt=cutoff, deleted_at__isnull=True
        ).values_list("id", flat=True)[:limit]
    )
    for podcast_id in podcast_ids:
        _podcast_recover(podcast_id=podcast_id, cutoff=cutoff, now=now)
    if podcast_ids:
        logger.warning("recovered %d podcasts whose workers were lost", len(podcast_ids))
    return len(podcast_ids)


def _podcast_recover(*, podcast_id: str, cutoff: datetime, now: datetime) -> None:
    with transaction.atomic():
        # Lock: the worker (if alive after all) writes progress under this lock's row;
        # either it moved on (updated_at is fresh, we leave it) or we supersede it first.
        podcast = Podcast.objects.select_for_update().filter(id=podcast_id).first()
        if podcast is None or podcast.status != PodcastStatus.PROCESSING:
            return
        if podcast.updated_at >= cutoff or podcast.deleted_at:
            return
        silent = int((now - podcast.updated_at).total_seconds())
        already_rerun = podcast.jobs.filter(error__startswith=WORKER_LOST).exists()
        stuck = list(podcast.jobs.filter(status__in=ACTIVE_STATUSES))
        if already_rerun:
            message = f"{WORKER_LOST} twice: no progress for {silent} s; giving up"
            for job in stuck:
                podcast_job_fail(podcast_id=podcast.id, job_id=job.job_id, message=message)
            if not stuck:  # no live job row at all: fail the podcast alone
                podcast_job_fail(podcast_id=podcast.id, job_id="", message=message)
            return
        PodcastJob.objects.filter(id__in=[job.id for job in stuck]).update(
            status=JobStatus.FAILED,
            completed_at=now,
            error=f"{WORKER_LOST}: no progress for {silent} s; sent again",
        )
        podcast.status = PodcastStatus.QUEUED
        podcast.progress = 0
        podcast.current_step = "Queued again: its worker was lost"
        podcast.save()
        # The same kind of job again (a lost re-render is rendered again, not regenerated).
        _job_enqueue(podcast, kind=stuck[0].kind if stuck else JobKind.GENERATE)


# --- The script: read, edit, render -------------------------------------------------------


def script_get(*, user, podcast_id: str) -> PodcastScript:
    podcast = podcast_get(user=user, podcast_id=podcast_id)
    stored = PodcastScript.objects.filter(podcast=podcast).first()
    if stored is None:
        raise Conflict(
            f"The podcast has no script yet; it is {podcast.status.lower()}",
            code="not_ready",
            status=podcast.status.lower(),
        )
    return stored


def _script_locked(*, user, podcast_id: str) -> tuple[Podcast, PodcastScript]:
    """The podcast (row-locked) and its script, when its owner may change it now.
    Call inside transaction.atomic()."""
    # Lock: an edit racing a render (or another edit) must not be lost or voiced half-done;
    # the render takes this lock too, so an edit lands either before it or after its job.
    podcast = Podcast.visible.select_for_update().filter(id=podcast_id, user=user).first()
    if podcast is None:
        raise NotFound("Podcast not found")
    if podcast.status in ACTIVE_STATUSES:
        raise Conflict(
            f"A job is running on this podcast ({podcast.status.lower()}); wait until it ends",
            code="job_running",
            status=podcast.status.lower(),
        )
    stored = PodcastScript.objects.filter(podcast=podcast).first()
    if stored is None or podcast.status not in EDITABLE_STATUSES:
        raise Conflict(
            f"This podcast's script can not be changed; it is {podcast.status.lower()}",
            code="invalid_state",
            status=podcast.status.lower(),
        )
    return podcast, stored


def _script_store(stored: PodcastScript, document: dict) -> PodcastScript:
    stored.title = document["title"]
    stored.speakers = document["speakers"]
    stored.sections = document["sections"]
    stored.version += 1
    stored.save()
    return stored


def script_replace(*, user, podcast_id: str, document: dict) -> PodcastScript:
    """PUT: a whole new script. Speakers left out stay; lines keep the ids they send."""
    with transaction.atomic():
        podcast, stored = _script_locked(user=user, podcast_id=podcast_id)
        speakers = stored.speakers
        if document.get("speakers"):
            _voices_check(podcast, document["speakers"])
            speakers = voices_assign(
                provider_name=podcast.tts_provider,
                speakers=speakers_with_ids(document["speakers"]),
                language=podcast.language,
            )
            podcast.speakers = [
                {key: s[key] for key in ("name", "role", "voice")} for s in speakers
            ]
            podcast.save(update_fields=["speakers", "updated_at"])
        checked = scripts.document_check({**document, "speakers": speakers})
        return _script_store(stored, checked)


def _voices_check(podcast: Podcast, speakers: list[dict]) -> None:
    for speaker in speakers:
        voice = speaker.get("voice")
        if voice and not registry.voice_is_known(provider_name=podcast.tts_provider, voice=voice):
            raise InvalidInput(
                f"Unknown voice {voice!r} for {podcast.tts_provider}; see GET /api/v1/voices",
                code="unknown_voice",
            )


def script_line_update(
    *, user, podcast_id: str, line_id: str, text: str | None = None, speaker: str | None = None
) -> tuple[PodcastScript, dict]:
    with transaction.atomic():
        _, stored = _script_locked(user=user, podcast_id=podcast_id)
        document = scripts.document_of(stored)
        line = scripts.line_update(document, line_id, text=text, speaker=speaker)
        return _script_store(stored, document), line


def script_line_insert(
    *,
    user,
    podcast_id: str,
    speaker: str,
    text: str,
    after: str | None = None,
    position: int | None = None,
) -> tuple[PodcastScript, dict]:
    with transaction.atomic():
        _, stored = _script_locked(user=user, podcast_id=podcast_id)
        document = scripts.document_of(stored)
        line = scripts.line_insert(
            document, speaker=speaker, text=text, after=after, position=position
        )
        return _script_store(stored, document), line


def script_line_delete(*, user, podcast_id: str, line_id: str) -> PodcastScript:
    with transaction.atomic():
        _, stored = _script_locked(user=user, podcast_id=podcast_id)
        document = scripts.document_of(stored)
        scripts.line_delete(document, line_id)
        return _script_store(stored, document)


def _manifest(podcast: Podcast, stored: PodcastScript | None) -> dict | None:
    """The last render's manifest while its audio is the podcast's (a re-render keeps it)."""
    return stored.rendered if stored and podcast.audio_url else None


def podcast_render(*, user, podcast_id: str) -> tuple[Podcast, PodcastJob, dict]:
    """Queue a render of the stored script. Returns the plan: lines to voice and reused.

    A podcast's first audio holds a podcast and its estimated minutes, like a create (a
    reviewed draft already holds them); a re-render holds the minutes of the lines it will
    newly voice and is charged for those only."""
    with transaction.atomic():
        podcast, stored = _script_locked(user=user, podcast_id=podcast_id)
        document = scripts.document_of(stored)
        to_voice, words = scripts.render_plan(
            tts_provider=podcast.tts_provider,
            document=document,
            manifest=_manifest(podcast, stored),
        )
        if podcast.audio_url:
            minutes = math.ceil(durations.minutes_of(words))
            quota_reserve(user=user, podcast_id=podcast.id, minutes=minutes, new_podcast=False)
        else:
            quota_reserve(user=user, podcast_id=podcast.id, duration=podcast.duration)
        podcast.status = PodcastStatus.QUEUED
        podcast.progress = 0
        podcast.current_step = "Queued for rendering"
        podcast.error = None
        podcast.started_at = None
        podcast.save()
        job = _job_enqueue(podcast, kind=JobKind.RENDER)
    total = len(scripts.document_lines(document))
    plan = {"lines": total, "linesToVoice": to_voice, "linesReused": total - to_voice}
    return podcast, job, plan
