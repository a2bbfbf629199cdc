"""Thin Celery wrappers around the pipeline."""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from podcasts.pipeline.generate import TransientJobError, podcast_generate


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
    try:
        podcast_generate(podcast_id=podcast_id, job_id=job_id, final_attempt=final_attempt)
    except TransientJobError as exc:
        # Exponential backoff with jitter so that a provider outage is not hammered in step.
        base = settings.PODCAST_TASK_RETRY_BACKOFF * (2**self.request.retries)
        raise self.retry(exc=exc, countdown=base + random.uniform(0, base / 2)) from exc


@shared_task(name="podcasts.requeue_stale")
def podcast_jobs_requeue_stale_task() -> int:
    """Queued jobs whose message was lost, and running jobs whose worker was lost."""
    from podcasts.services import podcast_jobs_recover_stuck, podcast_jobs_requeue_stale

    return podcast_jobs_requeue_stale() + podcast_jobs_recover_stuck()
