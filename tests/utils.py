"""Helpers shared by the tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from podnex.celery import app as celery_app

DEAD_BROKER = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


def assert_error(response: Any, status: int, code: str) -> dict:
    """The response is an error in the contract's shape, with this status and code; returns
    the body. Works for Django's and DRF's test clients, requests and httpx alike."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False, body
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"], body
    return body


def _reset_broker_pools() -> None:
    celery_app._pool = None
    celery_app.__dict__.get("amqp") and setattr(celery_app.amqp, "_producer_pool", None)


@contextmanager
def broker_unreachable() -> Iterator[None]:
    """Inside: every task sent by this process fails to reach a broker, as in an outage."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport
    # Without Redis the transport is named apart from the URL (podnex.broker): unset it, or
    # the dead URL would still reach the filesystem broker.
    conf.broker_url, conf.broker_transport = DEAD_BROKER, None
    _reset_broker_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.broker_transport = saved
        _reset_broker_pools()
