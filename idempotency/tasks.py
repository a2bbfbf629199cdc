from celery import shared_task

from idempotency.services import keys_purge_expired


@shared_task(name="idempotency.purge_expired")
def idempotency_purge_expired_task() -> int:
    return keys_purge_expired()
