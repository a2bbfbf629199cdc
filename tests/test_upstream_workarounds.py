"""Each hand-written piece that stands in for a library's own behaviour exists because of a
flaw measured in that library. These tests pin the flaw itself, on the stock code: when one
fails, the upstream behaviour changed and our piece may be deleted (the module named in each
test), not patched.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from django.core.handlers.asgi import ASGIHandler
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler
from kombu.transport import filesystem
from psycopg_pool import ConnectionPool, PoolTimeout

from ops.schedules import BEAT_SCHEDULE
from podnex.celery import app as celery_app


def test_kombus_filesystem_transport_still_writes_messages_in_place(tmp_path, monkeypatch):
    """podnex/broker.py: the stock transport opens the final `.msg` file and then writes
    into it, so a consumer polling meanwhile can read a half-written message."""
    opened: list[str] = []
    real_open = open

    def watching_open(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(filesystem, "open", watching_open, raising=False)
    channel = filesystem.Channel.__new__(filesystem.Channel)
    channel.data_folder_out = str(tmp_path)
    filesystem.Channel._put(channel, "celery", {"body": "x"})
    assert len(opened) == 1
    assert opened[0].endswith(".celery.msg")  # the name a consumer picks up, while empty


@pytest.mark.django_db
def test_djangos_asgi_handler_still_reads_the_whole_body_before_any_middleware():
    """podnex/asgi.py BodyLimitASGI: the stock handler spools every chunk of a request body
    (chunked, no Content-Length) before the middleware that would refuse it runs."""
    chunks, chunk = 20, b"x" * 65536
    read = 0

    async def receive():
        nonlocal read
        if read >= chunks:  # the body is over; the client waits for the answer
            await asyncio.Event().wait()
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": read < chunks}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/metrics",
        "raw_path": b"/metrics",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(ASGIHandler()(scope, receive, send))
    assert read == chunks  # all of it, though the request is refused (CSRF, then 405)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] >= 400


def test_psycopg_pool_still_waits_for_its_timeout_while_the_database_is_away(postgres):
    """podnex/backends/postgresql: the stock pool never hands a connection error to the
    caller; while the database is away a request waits the pool's whole timeout."""
    from django.db import connection

    from tests.hardening.servers import TcpProxy

    db = connection.settings_dict
    proxy = TcpProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))
    kwargs = {**connection.get_connection_params(), "autocommit": True}
    kwargs.update(host="127.0.0.1", port=proxy.port)
    proxy.cut()
    pool = ConnectionPool(kwargs=kwargs, min_size=0, max_size=2, timeout=1.0, open=True)
    try:
        started = time.monotonic()
        with pytest.raises(PoolTimeout):
            pool.getconn()
        assert time.monotonic() - started >= 0.9
    finally:
        pool.close()
        proxy.close()


@pytest.mark.django_db(transaction=True)  # beat closes old connections as it starts
def test_the_stock_beat_scheduler_still_overwrites_a_schedule_staff_edited():
    """podnex/beat.py Scheduler: at every start the stock DatabaseScheduler rewrites each
    declared row from the code, undoing what staff changed in the admin."""
    row = PeriodicTask.objects.get(name="podnex-cleanup-daily")
    row.crontab = CrontabSchedule.objects.create(minute="0", hour="5")
    row.save()

    DatabaseScheduler(app=celery_app, lazy=True).update_from_dict(BEAT_SCHEDULE)

    row.refresh_from_db()
    assert (row.crontab.minute, row.crontab.hour) == ("17", "3")  # the edit is gone
