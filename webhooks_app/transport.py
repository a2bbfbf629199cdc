"""One HTTP POST to a webhook endpoint: Standard Webhooks signing, SSRF-checked and pinned.

The signature follows https://www.standardwebhooks.com: headers `webhook-id`,
`webhook-timestamp` and `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`, one per active secret (two during a secret rotation).

The connection goes to an address that `outbound.url_resolve` checked, never to a fresh DNS
answer; the Host header and TLS SNI/certificate check still use the URL's host name.
Redirects are not followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import urllib3
from django.conf import settings
from standardwebhooks import Webhook as StandardWebhook

from podnex import outbound

SECRET_PREFIX = "whsec_"
USER_AGENT = "PodNex-Webhooks/1.0"
RESPONSE_KEEP_BYTES = 2048  # of the answer's body, for the delivery log


def secret_generate() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def headers_sign(
    *, secrets_: list[str], message_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with each active secret by the
    `standardwebhooks` library (the one receivers verify with)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    text = body.decode("utf-8")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            StandardWebhook(secret).sign(msg_id=message_id, timestamp=moment, data=text)
            for secret in secrets_
        ),
    }


@dataclass
class Outcome:
    ok: bool
    status: int  # 0 when no HTTP answer came
    response: str | None
    error: str | None
    duration_ms: int


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST once. Never raises for network trouble: the outcome says what happened."""
    started = time.monotonic()

    def done(ok: bool, status: int, response: str | None, error: str | None) -> Outcome:
        return Outcome(ok, status, response, error, int((time.monotonic() - started) * 1000))

    try:
        target, addresses = outbound.url_resolve(url)
    except outbound.UnsafeUrl as exc:
        return done(False, 0, None, f"Refused: {exc}")

    request_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": outbound.host_header(target),
        **headers,
    }
    timeout = urllib3.Timeout(connect=settings.WEBHOOK_TIMEOUT, read=settings.WEBHOOK_TIMEOUT)
    try:
        response, pool = outbound.urlopen_pinned(
            target, addresses, "POST", timeout, body=body, headers=request_headers
        )
    except outbound.NoAddressConnected as exc:
        error = f"Connection failed: {outbound.error_reason(exc.last)}" if exc.last else str(exc)
        return done(False, 0, None, error)
    except urllib3.exceptions.HTTPError as exc:
        return done(False, 0, None, f"{type(exc).__name__}: {outbound.error_reason(exc)}")
    try:
        text = _read_some(response)
    except urllib3.exceptions.HTTPError:
        text = None  # the status line is what counts; a cut-short body does not undo it
    finally:
        pool.close()  # drop the connection: an unread rest of the body is not our business
    ok = 200 <= response.status < 300
    error = None if ok else f"HTTP {response.status}"
    return done(ok, response.status, text, error)


def _read_some(response) -> str:
    data = response.read(RESPONSE_KEEP_BYTES, decode_content=True) or b""
    return data.decode("utf-8", errors="replace")
