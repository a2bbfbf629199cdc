"""Periodic operations tasks (scheduled in podnex/schedules.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="podnex.cleanup", acks_late=True, ignore_result=True)
def cleanup_task() -> dict[str, int]:
    from podnex.cleanup import cleanup_run

    return cleanup_run()


@shared_task(name="podnex.metrics_collect", ignore_result=True)
def metrics_collect_task() -> dict[str, float]:
    from podnex.metrics import metrics_collect

    return metrics_collect()
