"""Every periodic task, declared in one place. settings assigns this to CELERY_BEAT_SCHEDULE;
django-celery-beat's DatabaseScheduler syncs it into the database."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Each subscription resets on its own usageResetDate, so look every hour, not monthly.
    "billing-usage-reset": {
        "task": "billing.usage_reset",
        "schedule": crontab(minute=7),
    },
    # The plan's "retry failed webhooks every 5 minutes": sends every delivery now due.
    "webhooks-retry-due": {
        "task": "webhooks.retry_due",
        "schedule": crontab(minute="*/5"),
    },
    # A job whose message never reached a worker (broker down when the podcast was created)
    # gets a new one: no podcast stays QUEUED forever.
    "podcasts-requeue-stale": {
        "task": "podcasts.requeue_stale",
        "schedule": crontab(minute="*"),
    },
    # Idempotency-Key answers are replayed for 24 hours; older ones are forgotten.
    "idempotency-purge-expired": {
        "task": "idempotency.purge_expired",
        "schedule": crontab(minute=23),
    },
}
