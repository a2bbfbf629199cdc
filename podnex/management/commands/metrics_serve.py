"""Serve this host's Prometheus counters and histograms (PROMETHEUS_MULTIPROC_DIR) over HTTP,
for a host that runs workers but no web process: the web's /metrics shows its own host only.

    python manage.py metrics_serve --port 9101   # then scrape http://<host>:9101/metrics

It binds to 127.0.0.1 unless told otherwise (--addr): there is no token here, so expose it
only on a network the scraper alone reaches."""

from __future__ import annotations

import threading

from django.core.management.base import BaseCommand, CommandError
from prometheus_client import start_http_server

from podnex import metrics


class Command(BaseCommand):
    help = "Serve this host's worker metrics (PROMETHEUS_MULTIPROC_DIR) for Prometheus."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=9101, help="0 picks a free port")
        parser.add_argument("--addr", default="127.0.0.1")

    def handle(self, *args, port: int, addr: str, **options) -> None:
        if metrics.multiprocess_dir() is None:
            raise CommandError("Set PROMETHEUS_MULTIPROC_DIR: the folder the workers write to")
        server, _ = start_http_server(port, addr=addr, registry=metrics.process_registry())
        self.stdout.write(f"serving metrics on http://{addr}:{server.server_port}/metrics")
        self.stdout.flush()
        threading.Event().wait()  # until the process is stopped
