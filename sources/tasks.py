"""Thin Celery wrappers around sources.services."""

from __future__ import annotations

from celery import shared_task

from sources import services


@shared_task(name="sources.extract", acks_late=True, ignore_result=True)
def source_extract_task(source_id: str) -> None:
    # acks_late: a worker killed mid-read leaves the message for another; the service
    # skips a source that is already final, and the cleanup fails one left pending.
    services.source_extract(source_id=source_id)


@shared_task(name="sources.cleanup", acks_late=True, ignore_result=True)
def sources_cleanup_task() -> dict[str, int]:
    return services.sources_cleanup()


@shared_task(name="sources.fail_stuck", ignore_result=True)
def sources_fail_stuck_task() -> int:
    return services.sources_fail_stuck()
