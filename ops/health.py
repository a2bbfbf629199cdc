"""Health checks: /api/health (the API answers) and one route per component it depends on.

Each answers 200 with its latency when the component is reachable, 503 with the reason when
it is not, and 200 with `"status": "not configured"` when the component is switched off
(no REDIS_URL, no S3_BUCKET_NAME): a load balancer should not pull an instance for a
component it was never meant to have.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

import podnex
from podcasts.storage import storage_service

NOT_CONFIGURED = "not configured"
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")


class NotConfigured(Exception):
    pass


def _check_db() -> dict[str, Any]:
    # A fresh connection, closed at once: it proves a new one can be made (what the next
    # request needs) and leaves nothing open in the pool thread.
    # Not from the connection pool (settings DATABASE_POOL): a pooled connection says that an
    # old session still works, not that a new one can be opened.
    db = copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS])
    db["OPTIONS"].pop("pool", None)
    conn = load_backend(db["ENGINE"]).DatabaseWrapper(db, DEFAULT_DB_ALIAS)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"vendor": conn.vendor}
    finally:
        conn.close()


def _check_redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        raise NotConfigured()
    # A fresh connection, as for the database: it proves a new one can be made.
    timeout = settings.HEALTH_CHECK_TIMEOUT
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        client.ping()
    finally:
        client.close()
    return {}


def _check_s3() -> dict[str, Any]:
    if not settings.S3_BUCKET_NAME:
        raise NotConfigured()
    return storage_service().ping()


def check(name: str, probe: Callable[[], dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """Run `probe` with a deadline; return (HTTP status, body)."""
    started = time.perf_counter()
    future = _pool.submit(probe)
    try:
        details = future.result(timeout=settings.HEALTH_CHECK_TIMEOUT)
    except NotConfigured:
        return 200, {"success": True, "component": name, "status": NOT_CONFIGURED}
    except FutureTimeout:
        return 503, _down(name, f"no answer within {settings.HEALTH_CHECK_TIMEOUT:g}s", started)
    except Exception as exc:  # noqa: BLE001 - any failure of the component is "down"
        return 503, _down(name, f"{type(exc).__name__}: {exc}"[:300], started)
    return 200, {
        "success": True,
        "component": name,
        "status": "ok",
        "latencyMs": _ms(started),
        **details,
    }


def _down(name: str, reason: str, started: float) -> dict[str, Any]:
    return {
        "success": False,
        "component": name,
        "status": "down",
        "error": f"{name} is unreachable",
        "code": "unavailable",
        "reason": reason,
        "latencyMs": _ms(started),
    }


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _respond(name: str, probe) -> JsonResponse:
    status, body = check(name, probe)
    return JsonResponse(body, status=status)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """The API process answers (no dependency is touched: liveness)."""
    started = time.perf_counter()
    return JsonResponse(
        {
            "success": True,
            "component": "api",
            "status": "ok",
            "version": getattr(podnex, "__version__", "0"),
            "environment": settings.ENVIRONMENT,
            "latencyMs": _ms(started),
        }
    )


@never_cache
@require_GET
def health_db(request: HttpRequest) -> JsonResponse:
    return _respond("database", _check_db)


@never_cache
@require_GET
def health_redis(request: HttpRequest) -> JsonResponse:
    return _respond("redis", _check_redis)


@never_cache
@require_GET
def health_s3(request: HttpRequest) -> JsonResponse:
    return _respond("s3", _check_s3)
