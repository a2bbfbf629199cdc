"""Secrets never reach logs or error reports.

Three layers, all using `redact(text)`:
- a LogRecord factory (installed with the logging config) renders each record's message
  with its arguments and redacts it before any handler sees it, whatever the handler
  (structlog's formatter, Celery's own, pytest's capture);
- a structlog processor, last before rendering, redacts every string of the event
  (including the rendered traceback) of both structlog and standard-library records;
- Sentry's `before_send` redacts every string of an error report.

What counts as a secret: API keys (`pk_live_…`, `pk_test_…`), webhook secrets
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
        key: value if key.startswith("_") else redact_any(value)
        for key, value in event_dict.items()
    }


def sentry_before_send(event: dict, hint: dict) -> dict:
    return redact_any(event)


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
        clean = redact(message)
        if clean != message:  # untouched records keep their template (error grouping)
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
