"""Every Celery beat schedule, in one place. settings.CELERY_BEAT_SCHEDULE is this dict;
django-celery-beat's DatabaseScheduler syncs it into the database at beat start-up."""

from __future__ import annotations

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    # The plan's "retry failed webhooks every 5 minutes": sends every delivery now due.
    "webhooks-retry-due": {
        "task": "webhooks.retry_due",
        "schedule": crontab(minute="*/5"),
    },
}
