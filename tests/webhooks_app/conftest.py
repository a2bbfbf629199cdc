from __future__ import annotations

import pytest

from tests.webhooks_app.receiver import Receiver


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        server = Receiver(**kwargs)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


@pytest.fixture
def allow_loopback(settings):
    """The test receivers live on 127.0.0.1, which production refuses."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def workers(transactional_db, settings):
    """A real Celery worker in a thread of this process, consuming the generation queue and
    the webhook queue with a thread pool, so deliveries and the job run side by side.
    (Production runs the webhook queue in its own worker processes: see the Procfile. Two
    workers in one process do not work with the Redis transport, whose event loop is global.)
    """
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from podnex.celery import app

    def _close_connections(**kwargs):
        connections.close_all()  # worker threads must not keep the test database open

    task_postrun.connect(_close_connections, weak=False)
    app.control.purge()
    with start_worker(
        app,
        pool="threads",
        concurrency=6,
        queues=["celery", settings.WEBHOOK_QUEUE],
        perform_ping_check=False,
        shutdown_timeout=60,
        loglevel="WARNING",
    ):
        yield app
    task_postrun.disconnect(_close_connections)
