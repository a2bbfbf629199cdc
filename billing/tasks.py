"""Thin Celery wrappers around billing services."""

from __future__ import annotations

from celery import shared_task

from billing.services import usage_reset_due


@shared_task(name="billing.usage_reset", acks_late=True)
def usage_reset_task() -> int:
    """Scheduled in podnex/schedules.py; safe to run twice (the second finds nothing due)."""
    return usage_reset_due()
