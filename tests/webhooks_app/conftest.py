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
    """Two real Celery workers in threads of this process, as the Procfile runs them: one
    for generation (queue `celery`, solo pool) and one for webhooks (its own queue, threads),
    so a hanging endpoint can hold only webhook workers."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from podnex.celery import app

    def _close_connections(**kwargs):
        connections.close_all()  # worker threads must not keep the test database open

    common = {"perform_ping_check": False, "shutdown_timeout": 60, "loglevel": "WARNING"}
    task_postrun.connect(_close_connections, weak=False)
    app.control.purge()
    with start_worker(app, pool="solo", queues=["celery"], hostname="generate@test", **common):
        with start_worker(
            app,
            pool="threads",
            concurrency=4,
            queues=[settings.WEBHOOK_QUEUE],
            hostname="webhooks@test",
            **common,
        ):
            yield app
    task_postrun.disconnect(_close_connections)
