"""What the operations middleware costs a request: X-Request-ID + structured request logs +
the Prometheus instruments, measured side by side on GET /api/health in one run.

Prints the time per request of each variant and its ratio to the bare request. Run with
PROMETHEUS_MULTIPROC_DIR set (to an empty folder) for the multiprocess mode production uses:
prometheus_client reads it when first imported, so one run measures one mode."""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")
os.environ.setdefault("PODNEX_VAR_DIR", "/tmp/podnex-bench-var")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

ROUNDS, REQUESTS = 9, 200
OPS = ["podnex.observability.RequestIdMiddleware", "django_structlog.middlewares.RequestMiddleware"]


def one_round(overrides: dict) -> float:
    with override_settings(**overrides):
        client = Client()
        client.get("/api/health")  # warm up
        started = time.perf_counter()
        for _ in range(REQUESTS):
            client.get("/api/health")
        return (time.perf_counter() - started) / REQUESTS


def main() -> None:
    logging.disable(logging.CRITICAL)  # measure the work, not the terminal
    bare = [m for m in settings.MIDDLEWARE if m not in OPS]
    variants = {
        "bare (no request id, logs or metrics)": {"MIDDLEWARE": bare, "REDIS_URL": ""},
        "ops middleware": {"REDIS_URL": ""},
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(ROUNDS):  # interleaved, so that machine noise hits every variant alike
        for name, overrides in variants.items():
            samples[name].append(one_round(overrides))
    results = {name: statistics.median(values) for name, values in samples.items()}
    base = results["bare (no request id, logs or metrics)"]
    for name, seconds in results.items():
        print(f"{name:42s} {seconds * 1e6:8.1f} us/request  x{seconds / base:.2f}")


if __name__ == "__main__":
    main()
