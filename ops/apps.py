from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate

from ops import schedules
from podnex.celery import app as celery_app


class OpsConfig(AppConfig):
    """The top floor: staff API, health, metrics and the platform's beat schedules. It may
    import every app; no app imports it."""

    name = "ops"
    verbose_name = "PodNex operations"

    def ready(self) -> None:
        # In ready(): podnex.beat loads django-celery-beat's models, which need the registry.
        from podnex import beat

        # One place declares every periodic task; beat reads it from the Celery app, and
        # after `migrate` the missing rows are written for staff to edit.
        celery_app.conf.beat_schedule = schedules.BEAT_SCHEDULE
        # Sent per app with models; ops has none, so hook the app whose tables we fill.
        post_migrate.connect(
            beat.schedules_on_post_migrate,
            sender=apps.get_app_config("django_celery_beat"),
            dispatch_uid="ops.schedules",
        )
