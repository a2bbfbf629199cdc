"""Every periodic task of PodNex, declared in one place.

ops.apps hands this to the Celery app (beat_schedule). `podnex.beat.schedules_register` writes the
entries into django-celery-beat's tables after `migrate` and when beat starts, creating the
missing ones only: once a row exists, staff edit it in the admin (timing, enabled) and a
restart does not undo their edit. Each task is idempotent and safe to run twice at once.
"""

from __future__ import annotations

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    # Jobs older than 7 days, soft-deleted podcasts older than 30 days with their audio,
    # expired API keys.
    "podnex-cleanup-daily": {
        "task": "podnex.cleanup",
        "schedule": crontab(minute=17, hour=3),
    },
    # Costly aggregates for /metrics (audio minutes, users, subscriptions by plan).
    "podnex-metrics-hourly": {
        "task": "podnex.metrics_collect",
        "schedule": crontab(minute=37),
    },
    # Monthly usage reset (billing). Each subscription resets on its own usageResetDate, so
    # look every hour, not monthly.
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
    # Sources: files no source points at are removed (and stuck sources failed) daily; a
    # source whose reading never finished is failed within minutes of its timeout.
    "sources-cleanup-daily": {
        "task": "sources.cleanup",
        "schedule": crontab(minute=47, hour=3),
    },
    "sources-fail-stuck": {
        "task": "sources.fail_stuck",
        "schedule": crontab(minute="*/5"),
    },
    # A mail recorded while the broker was away (or whose message was lost) is sent again.
    "notifications-requeue-stale": {
        "task": "notifications.requeue_stale",
        "schedule": crontab(minute="*/5"),
    },
    # Idempotency-Key answers are replayed for 24 hours; older ones are forgotten.
    "idempotency-purge-expired": {
        "task": "idempotency.purge_expired",
        "schedule": crontab(minute=23),
    },
}
