"""Structured logs with a request id that follows the work: HTTP request -> Celery tasks it
starts -> webhook deliveries those tasks make.

structlog renders every line (its own loggers and the standard library's alike) as one JSON
object in production, or a readable line in development. django-structlog binds
`request_id` for each request and carries it to Celery tasks in the message headers
(DJANGO_STRUCTLOG_CELERY_ENABLED); this module vets or makes the id and returns it.

This module is imported by settings: it must not touch models or settings at import time.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async

from podnex import metrics, redaction

REQUEST_ID_HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
# An upstream id is taken as is only if it is short and plain: a header is user input and
# ends up in every log line.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """The LOGGING dict for settings, and structlog configured to feed it. Secrets are
    redacted from every record (podnex.redaction)."""
    redaction.install_record_factory()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": json_formatter_config(),
            "console": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    redaction.structlog_processor,
                    structlog.dev.ConsoleRenderer(colors=False),
                ],
                "foreign_pre_chain": _SHARED_PROCESSORS,
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # django-structlog logs each request once, with its id; Django's own line is noise.
            "django.server": {"level": "WARNING"},
            "django.request": {"level": "ERROR"},
        },
    }


def json_formatter_config() -> dict[str, Any]:
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redaction.structlog_processor,  # last before rendering: sees the traceback too
            structlog.processors.JSONRenderer(),
        ],
        "foreign_pre_chain": _SHARED_PROCESSORS,
    }


def json_formatter() -> structlog.stdlib.ProcessorFormatter:
    config = json_formatter_config()
    config.pop("()")
    return structlog.stdlib.ProcessorFormatter(**config)


def request_id_current() -> str | None:
    """The id of the request (or of the request that started this task), if any. Webhook
    deliveries send it as X-Request-ID so that receivers can quote it."""
    return structlog.contextvars.get_contextvars().get("request_id")


def request_id_headers() -> dict[str, str]:
    """{"X-Request-ID": ...} inside work a request started (outbound calls quote it), else {}."""
    request_id = request_id_current()
    return {REQUEST_ID_HEADER: request_id} if request_id else {}


def request_id_normalize(raw: str | None) -> str:
    if raw and _ACCEPTABLE_ID.match(raw):
        return raw
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Accepts a well-formed X-Request-ID or makes one, hands it to django-structlog (which
    trusts the header because this middleware vetted it), returns it on the response, and
    counts and times the request for /metrics."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def _before(self, request) -> tuple[str, float]:
        request_id = request_id_normalize(request.META.get(_META_KEY))
        request.META[_META_KEY] = request_id
        request.request_id = request_id
        # The client address as the ASGI server resolved it (uvicorn applies X-Forwarded-For
        # from trusted proxies); cheaper than django-structlog's ipware lookup, switched off.
        structlog.contextvars.bind_contextvars(ip=request.META.get("REMOTE_ADDR"))
        return request_id, time.perf_counter()

    def _after(self, request, response, request_id: str, started: float) -> None:
        response[REQUEST_ID_HEADER] = request_id
        if not getattr(response, "streaming", False) or response.status_code != 200:
            metrics.http_request_observe(
                method=request.method,
                status=response.status_code,
                seconds=time.perf_counter() - started,
            )

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        request_id, started = self._before(request)
        response = self.get_response(request)
        self._after(request, response, request_id, started)
        return response

    async def __acall__(self, request):
        request_id, started = self._before(request)
        response = await self.get_response(request)
        # The metrics store may be Redis: keep blocking I/O off the event loop.
        await sync_to_async(self._after)(request, response, request_id, started)
        return response
