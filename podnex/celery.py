"""The Celery app. Tasks live in each app's tasks.py; beat schedules in podnex/schedules.py."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")

app = Celery("podnex")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _logging_from_django(**kwargs) -> None:
    # Workers log through the same structlog pipeline as the web (JSON lines in production),
    # with the request id of the request that queued the task bound by django-structlog.
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


def _django_structlog_step():
    from django_structlog.celery.steps import DjangoStructLogInitStep

    return DjangoStructLogInitStep


app.steps["worker"].add(_django_structlog_step())


@app.on_after_configure.connect
def _ensure_filesystem_broker_folders(**kwargs) -> None:
    # kombu's filesystem transport needs its folders before the first message.
    from django.conf import settings

    if str(settings.CELERY_BROKER_URL).startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder"):
            os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)
