"""Secrets never reach the logs or error reports: API keys, webhook secrets, session tokens
and provider keys are redacted. Checked by grepping what the project's own log formatter
wrote, and what pytest's capture (another handler) saw."""

from __future__ import annotations

import io
import logging

import pytest
import structlog

from apikeys.keys import key_generate
from podnex import observability, redaction
from webhooks_app.transport import secret_generate

SESSION_TOKEN = "sessiontoken0123456789abcdefghij"
OPENAI_KEY = "sk-proj-Abcdefghijklmnopqrstuvwxyz012345"
UNREAL_KEY = "unreal0123456789abcdefabcdef"
DODO_KEY = "dodo_live_0123456789abcdefXYZ"


@pytest.fixture
def secrets_(settings):
    settings.OPENAI_API_KEY = OPENAI_KEY
    settings.UNREAL_SPEECH_API_KEY = UNREAL_KEY
    settings.DODO_PAYMENTS_API_KEY = DODO_KEY
    return {
        "api_key": key_generate(),
        "webhook_secret": secret_generate(),
        "session_token": SESSION_TOKEN,
        "openai": OPENAI_KEY,
        "unreal": UNREAL_KEY,
        "dodo": DODO_KEY,
    }


@pytest.fixture
def log_output():
    """What the project's JSON formatter writes, as production ships it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.json_formatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def assert_clean(text: str, secrets_: dict[str, str]) -> None:
    leaked = [name for name, value in secrets_.items() if value in text]
    assert not leaked, f"{leaked} leaked into:\n{text}"
    assert redaction.MASK in text


def test_secrets_in_standard_library_log_lines_are_redacted(secrets_, log_output, caplog):
    log = logging.getLogger("podnex.test")
    log.info("created key %s for the user", secrets_["api_key"])
    log.warning(
        "request headers: %s",
        {
            "HTTP_X_API_KEY": secrets_["api_key"],
            "HTTP_AUTHORIZATION": f"Bearer {secrets_['api_key']}",
            "HTTP_X_SESSION_TOKEN": secrets_["session_token"],
        },
    )
    log.info("X-Session-Token: %s", secrets_["session_token"])
    log.info("signing with %s", secrets_["webhook_secret"])
    log.error(f"provider call failed with key {secrets_['openai']} / {secrets_['unreal']}")
    log.error("dodo said no to %s", secrets_["dodo"])
    assert_clean(log_output.getvalue(), secrets_)
    assert_clean(caplog.text, secrets_)


def test_secrets_in_tracebacks_are_redacted(secrets_, log_output, caplog):
    try:
        raise RuntimeError(f"endpoint refused secret {secrets_['webhook_secret']}")
    except RuntimeError:
        logging.getLogger("podnex.test").exception("delivery crashed")
    output = log_output.getvalue()
    assert "RuntimeError" in output
    assert_clean(output, secrets_)
    assert_clean(caplog.text, secrets_)


def test_secrets_in_structlog_events_are_redacted(secrets_, log_output):
    structlog.get_logger("podnex.test").info(
        "api key created",
        key=secrets_["api_key"],
        headers={"X-Session-Token": secrets_["session_token"], "X-API-Key": "anything-at-all"},
        provider_key=secrets_["unreal"],
    )
    output = log_output.getvalue()
    assert "api key created" in output and "anything-at-all" not in output
    assert_clean(output, secrets_)


def test_error_reports_are_redacted_before_they_leave(secrets_):
    event = {
        "exception": {"values": [{"value": f"boom {secrets_['api_key']}"}]},
        "request": {
            "headers": {"X-Api-Key": secrets_["api_key"], "Accept": "application/json"},
            "data": {"webhookSecret": secrets_["webhook_secret"], "token": "x" * 10},
        },
        "extra": {"note": f"OPENAI={secrets_['openai']}"},
    }
    report = redaction.sentry_before_send(event, {})
    text = repr(report)
    assert_clean(text, secrets_)
    assert report["request"]["headers"]["Accept"] == "application/json"


def test_ordinary_messages_are_left_alone(log_output):
    logging.getLogger("podnex.test").info("podcast %s at %d%%", "pod_123", 45)
    assert "podcast pod_123 at 45%" in log_output.getvalue()
    assert redaction.MASK not in log_output.getvalue()
