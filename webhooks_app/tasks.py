"""Thin Celery wrappers around the delivery services. They run on settings.WEBHOOK_QUEUE
(its own workers: see the Procfile), so a slow endpoint never holds a generation worker."""

from __future__ import annotations

from celery import shared_task

from webhooks_app import services


@shared_task(name="webhooks.deliver", acks_late=True, ignore_result=True)
def webhook_deliver_task(delivery_id: str) -> None:
    # Retries are scheduled by the service from the delivery row, not by Celery.
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.fanout", ignore_result=True)
def webhook_fanout_task(delivery_ids: list[str]) -> None:
    services.deliveries_fanout(delivery_ids)


@shared_task(name="webhooks.retry_due", ignore_result=True)
def webhooks_retry_due_task() -> int:
    return services.deliveries_retry_due()
