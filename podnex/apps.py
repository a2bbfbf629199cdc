from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PodnexConfig(AppConfig):
    """The project package as an app: its tasks (cleanup, metrics), the beat schedule rows
    written after migrate, and the metrics hooks on the generation task."""

    name = "podnex"
    verbose_name = "PodNex operations"

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from podnex import beat, signals

        post_migrate.connect(
            beat.schedules_on_post_migrate, sender=self, dispatch_uid="podnex.schedules"
        )
        task_prerun.connect(signals.job_started, weak=False, dispatch_uid="podnex.job_started")
        task_postrun.connect(signals.job_finished, weak=False, dispatch_uid="podnex.job_finished")
