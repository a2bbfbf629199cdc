"""Benchmark: one event fanned out to 100 endpoints on a loopback receiver that answers after
200 ms, delivered by a real Celery worker (thread pool) from the webhook queue.

Prints the wall time from the event to the last delivery recorded, next to the ideal
(200 ms x 100 / worker concurrency), measured in the same run. Target: within 1.5x.

    python bench/webhook_fanout.py            # SQLite + filesystem broker in a temp dir
    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/webhook_fanout.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ENDPOINTS = 100
ANSWER_AFTER = 0.2  # seconds
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "20"))

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PODNEX_VAR_DIR", tempfile.mkdtemp(prefix="podnex-bench-"))
os.environ["WEBHOOK_ALLOW_PRIVATE_URLS"] = "true"  # the receiver is on loopback
os.environ["DJANGO_SETTINGS_MODULE"] = "podnex.settings"

import django  # noqa: E402

django.setup()

from celery.contrib.testing.worker import start_worker  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from podcasts import services as podcast_services  # noqa: E402
from podcasts.models import Podcast  # noqa: E402
from podnex.celery import app  # noqa: E402
from webhooks_app import services  # noqa: E402
from webhooks_app.models import DeliveryState, Webhook, WebhookDelivery, WebhookEvent  # noqa: E402


class SlowHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(ANSWER_AFTER)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    call_command("migrate", verbosity=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    user, _ = User.objects.get_or_create(email="bench@example.com")
    Webhook.objects.filter(user=user).delete()
    for n in range(ENDPOINTS):
        services.webhook_create(user=user, url=f"{url}/hook/{n}", events=["PODCAST_COMPLETED"])
    podcast = Podcast.objects.create(user=user, note_content="bench", status="COMPLETED")

    if str(settings.CELERY_BROKER_URL).startswith("filesystem"):
        # The filesystem transport polls; poll often so the broker is not what we measure.
        app.conf.broker_transport_options = {
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "polling_interval": 0.01,
        }
    app.control.purge()
    with start_worker(
        app,
        pool="threads",
        concurrency=CONCURRENCY,
        queues=[settings.WEBHOOK_QUEUE],
        perform_ping_check=False,
        shutdown_timeout=60,
        loglevel="WARNING",
    ):
        started = time.perf_counter()
        with transaction.atomic():
            podcast_services.podcast_event_emit(
                podcast=podcast, event=WebhookEvent.PODCAST_COMPLETED
            )
        deliveries = WebhookDelivery.objects.filter(webhook__user=user)
        while deliveries.filter(state=DeliveryState.PENDING).exists():
            time.sleep(0.01)
        wall = time.perf_counter() - started
    delivered = deliveries.filter(state=DeliveryState.DELIVERED).count()
    server.shutdown()

    ideal = ANSWER_AFTER * ENDPOINTS / CONCURRENCY
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = str(settings.CELERY_BROKER_URL).split(":", 1)[0]
    print(
        f"webhook fan-out: {ENDPOINTS} endpoints, receiver answers after "
        f"{ANSWER_AFTER * 1000:.0f} ms, worker --pool threads --concurrency {CONCURRENCY} "
        f"({engine}, {broker} broker)"
    )
    print(f"  delivered {delivered}/{ENDPOINTS}")
    print(
        f"  wall time {wall:.2f} s; ideal {ideal:.2f} s; ratio {wall / ideal:.2f}x (target <= 1.5x)"
    )


if __name__ == "__main__":
    main()
