"""The HTTP metrics every web process records, and how /metrics reads every process's.

Counters and histograms are plain `prometheus_client` instruments. Web workers and Celery
workers are separate processes, so when PROMETHEUS_MULTIPROC_DIR is set (the Makefile and
the deploy notes set it) each process writes its samples to files in that folder and a
scrape adds them up (prometheus_client's multiprocess mode). Without it, as in the test
suite, the instruments live in the one process there is. Each app declares its own
instruments beside the code that records them (podcasts.metrics: the pipeline); the /metrics
view and the database-state collector are in ops.metrics.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess

HTTP_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

http_requests = Counter("podnex_http_requests", "HTTP requests answered", ["method", "status"])
http_request_duration = Histogram(
    "podnex_http_request_duration_seconds", "HTTP request latency", ["method"], buckets=HTTP_SECONDS
)


def http_request_observe(*, method: str, status: int, seconds: float) -> None:
    http_requests.labels(method=method, status=str(status)).inc()
    http_request_duration.labels(method=method).observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_registry() -> CollectorRegistry:
    """A registry holding every process's counters and histograms: the files of the
    multiprocess folder when there is one, else this process's default registry."""
    folder = multiprocess_dir()
    if folder is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)
    return registry
