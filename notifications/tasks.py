"""Thin Celery wrapper: send one recorded notification, retrying a busy mail server."""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from notifications.services import (
    TransientMailError,
    notification_deliver,
    notification_give_up,
    notifications_requeue_stale,
)


@shared_task(bind=True, name="notifications.send", acks_late=True, max_retries=None)
def notification_send_task(self, notification_id: str) -> str:
    try:
        return notification_deliver(notification_id=notification_id)
    except TransientMailError as exc:
        if self.request.retries >= settings.NOTIFICATION_MAX_RETRIES:
            notification_give_up(notification_id=notification_id, error=str(exc))
            return "failed"
        base = settings.NOTIFICATION_RETRY_BACKOFF * (2**self.request.retries)
        raise self.retry(exc=exc, countdown=base + random.uniform(0, base / 2)) from exc


@shared_task(name="notifications.requeue_stale")
def notifications_requeue_stale_task() -> int:
    """Mails whose message never reached a worker (see the service)."""
    return notifications_requeue_stale()
