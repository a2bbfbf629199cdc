"""Secrets never reach logs or error reports.

Three layers, all using `redact(text)`:
- a LogRecord factory (installed with the logging config) renders each record's message
  with its arguments and redacts it before any handler sees it, whatever the handler
  (structlog's formatter, Celery's own, pytest's capture);
- a structlog processor, last before rendering, redacts every string of the event
  (including the rendered traceback) of both structlog and standard-library records;
- Sentry's `before_send` redacts every string of an error report.

What counts as a secret: the signature of a signed download link (local `/media/<token>`
or a presigned S3 URL), API keys (`pk_live_…`, `pk_test_…`), webhook secrets
(`whsec_…`), OpenAI-style keys (`sk-…`), the values of credential headers and fields
(X-API-Key, X-Session-Token, Authorization, Cookie, session_token, password, secret) and
the literal values of the secret settings (provider keys, SECRET_KEY, ...).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings

MASK = "[REDACTED]"

_PATTERNS = [
    (re.compile(r"\b(pk_(?:live|test)_)[A-Za-z0-9_-]{8,}"), rf"\1{MASK}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]{8,}"), f"whsec_{MASK}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), f"sk-{MASK}"),
    (re.compile(r"(?i)\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    # Signed download links: keep the payload and timestamp (which file, when), drop the
    # signature that makes the link work; the same for presigned S3 URLs.
    (
        re.compile(r"(?i)(/media/[A-Za-z0-9_.-]+(?::|%3A)[A-Za-z0-9]+(?::|%3A))[A-Za-z0-9_-]+"),
        rf"\1{MASK}",
    ),
    (re.compile(r"(?i)(X-Amz-Signature=)[0-9a-f]+"), rf"\1{MASK}"),
    # name: value, name=value, 'name': 'value', "HTTP_X_API_KEY": "value" ...
    (
        re.compile(
            r"(?i)((?:HTTP_)?(?:x[-_]api[-_]key|x[-_]session[-_]token|authorization|cookie|"
            r"session[-_]?token|api[-_]?key|password\d?|secret|webhook[-_]?secret)"
            r"[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED\])(?:(?:Bearer|Basic|Token)\s+)?"
            r"[^\s\"',;}&]{4,}"
        ),
        rf"\1{MASK}",
    ),
]

# Dict keys (headers, structlog fields) whose values are credentials, whatever they look like.
_SENSITIVE_KEY = re.compile(
    r"(?i)^(?:HTTP_)?(?:x[-_]api[-_]key|x[-_]session[-_]token|authorization|cookie|"
    r"session[-_]?token|api[-_]?key|raw[-_]?key|password\d?|secret|webhook[-_]?secret|token)$"
)

# Settings whose values are secrets; their literal values are masked wherever they appear.
SECRET_SETTINGS = (
    "SECRET_KEY",
    "API_KEY_HASH_SECRET",
    "OPENAI_API_KEY",
    "UNREAL_SPEECH_API_KEY",
    "DODO_PAYMENTS_API_KEY",
    "DODO_PAYMENTS_WEBHOOK_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "METRICS_TOKEN",
)


def _secret_values() -> list[str]:
    try:
        if not settings.configured:
            return []
        values = [str(getattr(settings, name, "") or "") for name in SECRET_SETTINGS]
    except Exception:  # noqa: BLE001 - logging must never fail because of settings
        return []
    # Short values would mask ordinary words; real secrets are long.
    return sorted({v for v in values if len(v) >= 8}, key=len, reverse=True)


def redact(text: str) -> str:
    for value in _secret_values():
        if value in text:
            text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_any(value: Any) -> Any:
    """Strings redacted inside dicts, lists and tuples (event dicts, Sentry events)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            k: MASK
            if isinstance(k, str) and _SENSITIVE_KEY.match(k) and value_is_set(v)
            else redact_any(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_any(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_any(v) for v in value)
    return value


def value_is_set(value: Any) -> bool:
    return value not in (None, "", [], {})


def structlog_processor(logger, method_name: str, event_dict: dict) -> dict:
    return {
        key: value if key.startswith("_") else _redact_field(value)
        for key, value in event_dict.items()
    }


def _redact_field(value: Any) -> Any:
    """An event field as the renderer will show it: any other object (an exception, a
    Celery Retry carrying one) would be rendered with repr() after this processor ran, so
    it is rendered and redacted here."""
    if value is None or isinstance(value, (str, int, float, bool, dict, list, tuple)):
        return redact_any(value)
    return redact(repr(value))


def sentry_before_send(event: dict, hint: dict) -> dict:
    return redact_any(event)


def _redact_record(record: logging.LogRecord, message: str) -> None:
    """Redact the template and each argument in place, keeping the record's shape: some
    formatters unpack `args` (uvicorn's access log takes a 5-tuple), and untouched
    templates keep errors grouped. Only a secret that spans the template and an argument
    is flattened into the message."""
    args = record.args
    if isinstance(args, tuple):
        args = tuple(redact(a) if isinstance(a, str) else a for a in args)
    elif isinstance(args, dict):
        args = {k: redact(v) if isinstance(v, str) else v for k, v in args.items()}
    record.msg, record.args = redact(record.msg), args
    try:
        rendered = record.getMessage()
    except Exception:  # noqa: BLE001 - redacting changed the template's placeholders
        rendered = None
    if rendered is None or redact(rendered) != rendered:
        record.msg, record.args = redact(message), ()


_installed = False


def install_record_factory() -> None:
    """Redact every log record at creation (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    base_factory = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = base_factory(*args, **kwargs)
        if not isinstance(record.msg, str):
            return record  # structlog's event dict: its processor redacts it
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the handler's to report
            return record
        if redact(message) != message:
            _redact_record(record, message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
