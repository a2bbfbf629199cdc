"""The Celery app. Tasks live in each app's tasks.py; beat schedules in podnex/schedules.py."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")

app = Celery("podnex")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _ensure_filesystem_broker_folders(**kwargs) -> None:
    # kombu's filesystem transport needs its folders before the first message.
    from django.conf import settings

    if str(settings.CELERY_BROKER_URL).startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)


@signals.task_prerun.connect
@signals.task_postrun.connect
def _db_connections_recycle(sender=None, **kwargs) -> None:
    # What Django does around each request: drop this thread's connections if they are
    # broken, left mid-transaction or older than CONN_MAX_AGE; otherwise reuse them. (Celery's
    # own fixup would close them every time: see CELERY_DB_REUSE_MAX in settings.)
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
