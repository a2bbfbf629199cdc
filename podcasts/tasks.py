"""Thin Celery wrappers around the pipeline."""

from __future__ import annotations

import random
import time

from celery import shared_task
from django.conf import settings

from podcasts import metrics
from podcasts.models import PodcastJob
from podcasts.pipeline.generate import TransientJobError, podcast_generate
from podcasts.services import podcast_jobs_recover_stuck, podcast_jobs_requeue_stale


@shared_task(
    bind=True,
    name="podcasts.generate",
    acks_late=True,  # a worker killed mid-job leaves the message for another worker
    reject_on_worker_lost=True,
    max_retries=None,  # counted below from the setting, read at run time
)
def podcast_generate_task(self, podcast_id: str, job_id: str) -> None:
    max_retries = settings.PODCAST_TASK_MAX_RETRIES
    final_attempt = self.request.retries >= max_retries
    started = time.monotonic()
    try:
        podcast_generate(podcast_id=podcast_id, job_id=job_id, final_attempt=final_attempt)
    except TransientJobError as exc:
        _attempt_timed(job_id=job_id, started=started, outcome="retrying")
        # Exponential backoff with jitter so that a provider outage is not hammered in step.
        base = settings.PODCAST_TASK_RETRY_BACKOFF * (2**self.request.retries)
        raise self.retry(exc=exc, countdown=base + random.uniform(0, base / 2)) from exc
    _attempt_timed(job_id=job_id, started=started)


def _attempt_timed(*, job_id: str, started: float, outcome: str | None = None) -> None:
    """Time the attempt for /metrics, labelled with how it ended (the job row says)."""
    if outcome is None:
        status = PodcastJob.objects.filter(job_id=job_id).values_list("status", flat=True).first()
        outcome = (status or "unknown").lower()
    metrics.pipeline_job_finished(
        job_id=job_id, outcome=outcome, seconds=time.monotonic() - started
    )


@shared_task(name="podcasts.requeue_stale")
def podcast_jobs_requeue_stale_task() -> int:
    """Queued jobs whose message was lost, and running jobs whose worker was lost."""
    return podcast_jobs_requeue_stale() + podcast_jobs_recover_stuck()
