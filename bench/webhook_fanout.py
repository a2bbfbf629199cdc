"""Benchmark: one event fanned out to 100 endpoints on a loopback receiver that answers after
200 ms, delivered by a real Celery worker (thread pool) from the webhook queue.

Prints the wall time from the event to the last delivery recorded, next to the ideal
(200 ms x 100 / worker concurrency), measured in the same run. Target: within 1.5x.

The receiver runs in its own process, as a real endpoint would: in this one it would take
the worker's interpreter lock for every request it parses. CPU-bound, so a busy machine
shows in the figure; the bench also prints the CPU seconds the worker's process spent.

    python bench/webhook_fanout.py            # SQLite + filesystem broker in a temp dir
    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/webhook_fanout.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENDPOINTS = 100
ANSWER_AFTER = 0.2  # seconds
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "20"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))

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

RECEIVER = f"""
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class SlowHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep({ANSWER_AFTER})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def fan_out_once(podcast, user) -> tuple[float, float, int]:
    """One event to every endpoint; (wall seconds, CPU seconds of this process, delivered)."""
    WebhookDelivery.objects.filter(webhook__user=user).delete()
    started = time.perf_counter()
    cpu_started = time.process_time()
    with transaction.atomic():
        podcast_services.podcast_event_emit(podcast=podcast, event=WebhookEvent.PODCAST_COMPLETED)
    deliveries = WebhookDelivery.objects.filter(webhook__user=user)
    while deliveries.filter(state=DeliveryState.PENDING).exists():
        time.sleep(0.02)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return wall, cpu, deliveries.filter(state=DeliveryState.DELIVERED).count()


def main() -> None:
    call_command("migrate", verbosity=0)
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{int(receiver.stdout.readline())}"

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
    release = services._db_connection_release
    variants = {
        # What the worker did before: each thread kept its pooled connection through the POST.
        "connection held during the POST": lambda: None,
        "connection given back during the POST": release,
    }
    results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in variants}
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
        for _ in range(ROUNDS):  # interleaved, so that machine noise hits both alike
            for name, variant in variants.items():
                services._db_connection_release = variant
                results[name].append(fan_out_once(podcast, user))
    services._db_connection_release = release
    receiver.terminate()

    ideal = ANSWER_AFTER * ENDPOINTS / CONCURRENCY
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = str(settings.CELERY_BROKER_URL).split(":", 1)[0]
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    pool_note = f", pool max {pool['max_size']}" if pool else ""
    print(
        f"webhook fan-out: {ENDPOINTS} endpoints, receiver answers after "
        f"{ANSWER_AFTER * 1000:.0f} ms, worker --pool threads --concurrency {CONCURRENCY} "
        f"({engine}{pool_note}, {broker} broker); "
        f"ideal {ideal:.2f} s; median of {ROUNDS}"
    )
    for name, runs in results.items():
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        delivered = min(run[2] for run in runs)
        print(
            f"  {name:40s} wall {wall:5.2f} s  ratio {wall / ideal:4.2f}x (target <= 1.5x)  "
            f"CPU {cpu:.2f} s  delivered {delivered}/{ENDPOINTS}"
        )


if __name__ == "__main__":
    main()
