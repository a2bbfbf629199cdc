"""The Celery app. Tasks live in each app's tasks.py; beat schedules in podnex/schedules.py."""

import os

from celery import Celery, bootsteps, signals
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")

app = Celery("podnex")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def task_send(name: str, *, args: list, **options):
    """Send a task by name, for a service enqueueing its own app's task (the tasks module
    imports the service, so the service cannot import it). A process that has loaded the
    task (a worker, the tests) goes through it, so eager mode and the task's options apply;
    a web process, which loads no tasks modules, sends the message by name."""
    task = app.tasks.get(name)
    if task is not None:
        return task.apply_async(args=args, **options)
    return app.send_task(name, args=args, **options)


@setup_logging.connect
def _logging_from_django(**kwargs) -> None:
    # Workers log through the same structlog pipeline as the web (JSON lines in production),
    # with the request id of the request that queued the task bound by django-structlog.
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


class _TaskLogContextStep(bootsteps.Step):
    """Binds, in the worker, the log context (request_id...) that the publisher put in the
    task headers. django-structlog's own step also re-connects the publish receivers that
    its AppConfig already connected, which would log every enqueued task twice."""

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        from celery import signals
        from django_structlog.celery.receivers import CeleryReceiver

        self.receiver = receiver = CeleryReceiver()  # held here: signals keep weak refs
        signals.task_prerun.connect(receiver.receiver_task_prerun)
        signals.task_retry.connect(receiver.receiver_task_retry)
        signals.task_success.connect(receiver.receiver_task_success)
        signals.task_failure.connect(receiver.receiver_task_failure)
        signals.task_revoked.connect(receiver.receiver_task_revoked)
        signals.task_unknown.connect(receiver.receiver_task_unknown)
        signals.task_rejected.connect(receiver.receiver_task_rejected)


app.steps["worker"].add(_TaskLogContextStep)


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


@signals.worker_process_init.connect
def _db_pools_forget_the_parents(**kwargs) -> None:
    # A prefork child inherits the parent's connection pool objects (settings DATABASE_POOL),
    # whose sockets and maintenance threads belong to the parent: start empty, never close
    # them from here (that would end the parent's sessions).
    from django.db import connections

    for alias in connections:
        pools = getattr(type(connections[alias]), "_connection_pools", None)
        if pools:
            pools.clear()
