"""Periodic operations tasks (scheduled in ops/schedules.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from apikeys.services import api_keys_purge_expired
from ops.metrics import metrics_collect
from podcasts.cleanup import podcasts_purge

logger = logging.getLogger(__name__)


@shared_task(name="podnex.cleanup", acks_late=True, ignore_result=True)
def cleanup_task() -> dict[str, int]:
    """The daily cleanup: each app deletes what its retention rules say may go."""
    report = {**podcasts_purge(), "api_keys": api_keys_purge_expired()}
    logger.info("cleanup finished", extra={"cleanup": report})
    return report


@shared_task(name="podnex.metrics_collect", ignore_result=True)
def metrics_collect_task() -> dict[str, float]:
    return metrics_collect()
