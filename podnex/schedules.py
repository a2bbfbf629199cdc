"""Every periodic task, declared in one place. settings assigns this to CELERY_BEAT_SCHEDULE;
django-celery-beat's DatabaseScheduler syncs it into the database."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Each subscription resets on its own usageResetDate, so look every hour, not monthly.
    "billing-usage-reset": {
        "task": "billing.usage_reset",
        "schedule": crontab(minute=7),
    },
}
