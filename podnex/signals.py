"""Celery signal receivers that time generation attempts for /metrics."""

from __future__ import annotations

import time

_GENERATE = "podcasts.generate"
_started: dict[str, float] = {}


def job_started(sender=None, task_id=None, task=None, **kwargs) -> None:
    if getattr(task, "name", None) == _GENERATE and task_id:
        _started[task_id] = time.monotonic()


def job_finished(sender=None, task_id=None, task=None, args=None, state=None, **kwargs) -> None:
    if getattr(task, "name", None) != _GENERATE or not task_id:
        return
    from podcasts import events
    from podcasts.models import PodcastJob
    from podnex import metrics

    started = _started.pop(task_id, None)
    status = PodcastJob.objects.filter(job_id=task_id).values_list("status", flat=True).first()
    if state == "RETRY":
        outcome = "retrying"
    else:
        outcome = (status or "unknown").lower()
    if args:
        # Streams learn the final state at once (progress writes are published as they go).
        events.status_publish(podcast_id=args[0])
    metrics.pipeline_job_finished(
        job_id=task_id,
        outcome=outcome,
        seconds=time.monotonic() - started if started is not None else None,
    )
