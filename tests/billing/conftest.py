"""Billing fixtures: a loopback server that speaks Dodo Payments' API, webhook signing with
the `standardwebhooks` package, and helpers that drive a podcast through its job."""

from __future__ import annotations

import base64
import json
import os
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from standardwebhooks import Webhook

from podcasts import services as podcast_services
from tests.factories import SAMPLE_NOTES

PRODUCTS = {"STARTER": "pdt_starter", "PRO": "pdt_pro", "BUSINESS": "pdt_business"}
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"podnex-test-webhook-secret-32by").decode()


class DodoApi:
    """What the fake Dodo received, and what it should answer next."""

    def __init__(self):
        self.requests: list[SimpleNamespace] = []
        self.fail_with: tuple[int, dict] | None = None
        self.payment_link: str | None = None
        self.base_url = ""

    def last(self, method: str, path_prefix: str) -> SimpleNamespace:
        matches = [
            r for r in self.requests if r.method == method and r.path.startswith(path_prefix)
        ]
        assert matches, f"no {method} {path_prefix} among {[r.path for r in self.requests]}"
        return matches[-1]


def _handler(api: DodoApi):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            api.requests.append(
                SimpleNamespace(
                    method=method,
                    path=path,
                    query=query,
                    headers=dict(self.headers),
                    json=json.loads(raw) if raw else None,
                )
            )
            if api.fail_with:
                status, body = api.fail_with
                return self._answer(status, body)
            parts = path.strip("/").split("/")
            if method == "POST" and parts == ["checkouts"]:
                return self._answer(
                    200,
                    {"session_id": "cks_1", "checkout_url": f"{api.base_url}/pay/cks_1"},
                )
            if (
                method == "POST"
                and parts[0] == "customers"
                and parts[2:]
                == [
                    "customer-portal",
                    "session",
                ]
            ):
                return self._answer(200, {"link": f"{api.base_url}/portal/{parts[1]}"})
            if method == "PATCH" and parts[0] == "subscriptions" and len(parts) == 2:
                return self._answer(
                    200, {"subscription_id": parts[1], "cancel_at_next_billing_date": True}
                )
            if method == "POST" and parts[0] == "subscriptions" and parts[2:] == ["change-plan"]:
                return self._answer(200, {"payment_link": api.payment_link})
            return self._answer(404, {"code": "NOT_FOUND", "message": f"no route {path}"})

        def do_POST(self):
            self._handle("POST")

        def do_PATCH(self):
            self._handle("PATCH")

        def do_GET(self):
            self._handle("GET")

    return Handler


@pytest.fixture
def dodo_api(settings):
    """A real HTTP server on 127.0.0.1 that the dodopayments SDK is pointed at."""
    api = DodoApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.DODO_PAYMENTS_API_KEY = "sk_test_podnex"
    settings.DODO_PAYMENTS_BASE_URL = api.base_url
    settings.DODO_PAYMENTS_WEBHOOK_KEY = WEBHOOK_SECRET
    settings.DODO_PRODUCT_ID_STARTER = PRODUCTS["STARTER"]
    settings.DODO_PRODUCT_ID_PRO = PRODUCTS["PRO"]
    settings.DODO_PRODUCT_ID_BUSINESS = PRODUCTS["BUSINESS"]
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_key(settings):
    settings.DODO_PAYMENTS_WEBHOOK_KEY = WEBHOOK_SECRET
    settings.DODO_PRODUCT_ID_STARTER = PRODUCTS["STARTER"]
    settings.DODO_PRODUCT_ID_PRO = PRODUCTS["PRO"]
    settings.DODO_PRODUCT_ID_BUSINESS = PRODUCTS["BUSINESS"]
    return WEBHOOK_SECRET


def signed_headers(
    body: bytes,
    *,
    webhook_id: str | None = None,
    at: datetime | None = None,
    secret: str = WEBHOOK_SECRET,
) -> dict[str, str]:
    """Headers as Dodo sends them, signed by the standardwebhooks package."""
    webhook_id = webhook_id or f"msg_{os.urandom(6).hex()}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=body.decode())
    return {
        "HTTP_WEBHOOK_ID": webhook_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(at.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": signature,
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def subscription_event(
    event_type: str,
    *,
    user,
    at: datetime,
    plan: str = "STARTER",
    status: str = "active",
    subscription_id: str = "sub_1",
    customer_id: str = "cus_1",
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    **data,
) -> dict:
    period_start = period_start or at
    period_end = period_end or period_start + timedelta(days=30)
    return {
        "business_id": "bus_1",
        "type": event_type,
        "timestamp": iso(at),
        "data": {
            "payload_type": "Subscription",
            "subscription_id": subscription_id,
            "product_id": PRODUCTS.get(plan, plan),
            "status": status,
            "customer": {"customer_id": customer_id, "email": user.email, "name": user.name},
            "metadata": {"userId": user.id, "plan": plan},
            "previous_billing_date": iso(period_start),
            "next_billing_date": iso(period_end),
            "cancel_at_next_billing_date": False,
            "quantity": 1,
            **data,
        },
    }


def post_webhook(client, payload: dict, **header_options):
    body = json.dumps(payload).encode()
    headers = header_options.pop("headers", None) or signed_headers(body, **header_options)
    return client.post(
        "/api/v1/billing/webhooks", data=body, content_type="application/json", **headers
    )


# --- Podcasts through their job ------------------------------------------------------------


def queue_podcast(user, *, duration: str = "SHORT"):
    return podcast_services.podcast_create(
        user=user, note_content=SAMPLE_NOTES, duration=duration, tts_provider="espeak"
    )


def complete(podcast, job, *, seconds: float):
    """Run the job's bookkeeping around a finished episode of `seconds` of audio."""
    from podcasts.pipeline import generate

    generate._job_start(podcast_id=podcast.id, job_id=job.job_id)
    episode = generate.Episode(
        title="Bees",
        script=None,
        audio=SimpleNamespace(duration=seconds, mp3=b"ID3fake", segments=[]),
    )
    generate._job_complete(
        podcast_id=podcast.id, job_id=job.job_id, episode=episode, key="podcasts/fake.mp3"
    )


def fail(podcast, job, *, message: str = "speech provider down"):
    from podcasts.pipeline import generate

    generate._job_start(podcast_id=podcast.id, job_id=job.job_id)
    podcast_services.podcast_job_fail(podcast_id=podcast.id, job_id=job.job_id, message=message)
