"""PodNex's Prometheus metrics, exposed at /metrics.

Web (several uvicorn workers) and Celery workers (other processes, other machines) all
record metrics, and one scrape must see them all. So nothing is kept in a process:
- gauges of state (podcasts by status, jobs, queue depth) are read at scrape time from the
  database and the broker by a custom collector;
- counters and histograms recorded by any process (HTTP requests, pipeline step durations,
  provider errors) go to a shared store: a Redis hash when REDIS_URL is set, otherwise a
  dict in this process (development: a worker process's figures then stay in the worker);
- figures too costly to compute per scrape (audio minutes, users) are written to the store
  by the hourly `podnex.metrics_collect` task;
- webhook outcomes are the Webhook rows' success/failure counters, summed at scrape time.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

# 0.0.4: the text format every Prometheus version (and most agents) reads.
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

# --- Definitions --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Def:
    kind: str  # "counter" | "histogram" | "gauge"
    doc: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
_HTTP_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

DEFINITIONS: dict[str, _Def] = {
    "podnex_http_requests_total": _Def("counter", "HTTP requests answered", ("method", "status")),
    "podnex_http_request_duration_seconds": _Def(
        "histogram", "HTTP request latency", ("method",), _HTTP_SECONDS
    ),
    "podnex_pipeline_step_duration_seconds": _Def(
        "histogram", "Duration of each generation step", ("step",), _SECONDS
    ),
    "podnex_job_duration_seconds": _Def(
        "histogram", "Duration of a generation attempt, by how it ended", ("outcome",), _SECONDS
    ),
    "podnex_provider_errors_total": _Def(
        "counter", "Provider errors met by the pipeline", ("step", "kind")
    ),
    "podnex_audio_minutes_generated": _Def(
        "gauge", "Minutes of audio of completed podcasts (hourly)", ()
    ),
    "podnex_users": _Def("gauge", "Registered users (hourly)", ()),
    "podnex_subscriptions": _Def("gauge", "Subscriptions by plan (hourly)", ("plan",)),
    "podnex_metrics_collected_timestamp_seconds": _Def(
        "gauge", "When the hourly collection last ran", ()
    ),
}

STEPS = ("script", "speech", "combine", "store", "save")


def _field(name: str, labels: dict[str, str], suffix: str = "", le: float | None = None) -> str:
    spec = DEFINITIONS[name]
    parts = [str(labels.get(label, "")) for label in spec.labels]
    if le is not None:
        parts.append(repr(float(le)))
    return "\x1f".join([name + suffix, *parts])


def _parse(field: str) -> tuple[str, tuple[str, ...]]:
    name, *values = field.split("\x1f")
    return name, tuple(values)


# --- The shared store ---------------------------------------------------------------------

_REDIS_COUNTERS = "podnex:metrics:counters"
_REDIS_GAUGES = "podnex:metrics:gauges"


class _LocalStore:
    def flush(self) -> None:
        pass

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[str, float] = {}
        self.gauges: dict[str, float] = {}

    def incr(self, items: Iterable[tuple[str, float]]) -> None:
        with self._lock:
            for field, amount in items:
                self.counters[field] = self.counters.get(field, 0.0) + amount

    def set(self, items: dict[str, float]) -> None:
        with self._lock:
            self.gauges.update(items)

    def snapshot(self) -> tuple[dict[str, float], dict[str, float]]:
        with self._lock:
            return dict(self.counters), dict(self.gauges)


class _RedisStore:
    """Counters in a Redis hash, added up in the process first and sent at most once per
    FLUSH_SECONDS by a background thread: a request pays a dict update, not a round trip
    (bench/bench_request_overhead.py). A crash loses at most that last second of counts."""

    FLUSH_SECONDS = 1.0

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._lock = threading.Lock()
        self._pending: dict[str, float] = {}
        self._flusher: threading.Thread | None = None

    def incr(self, items: Iterable[tuple[str, float]]) -> None:
        with self._lock:
            for field, amount in items:
                self._pending[field] = self._pending.get(field, 0.0) + amount
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(
                    target=self._flush_forever, name="metrics-flush", daemon=True
                )
                self._flusher.start()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for field, amount in pending.items():
                pipe.hincrbyfloat(_REDIS_COUNTERS, field, amount)
            pipe.execute()
        except Exception:
            with self._lock:  # keep the counts for the next attempt
                for field, amount in pending.items():
                    self._pending[field] = self._pending.get(field, 0.0) + amount
            raise

    def _flush_forever(self) -> None:
        # Runs while there is something to send; incr() starts it again when needed.
        failures = 0
        while True:
            time.sleep(self.FLUSH_SECONDS)
            if settings.REDIS_URL != self.url:  # no longer the store (settings overridden)
                return
            try:
                self.flush()
                failures = 0
            except Exception:  # noqa: BLE001 - Redis away: keep counting, warn now and then
                failures += 1
                if failures % 60 == 1:
                    import logging

                    logging.getLogger(__name__).warning("metrics store unavailable", exc_info=True)
                if failures >= 300:  # five minutes: drop the counts rather than grow
                    with self._lock:
                        self._pending.clear()
            with self._lock:
                if not self._pending:
                    self._flusher = None
                    return

    def set(self, items: dict[str, float]) -> None:
        if items:
            self.client.hset(_REDIS_GAUGES, mapping=items)

    def snapshot(self) -> tuple[dict[str, float], dict[str, float]]:
        self.flush()  # this process's latest counts too
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(_REDIS_COUNTERS)
        pipe.hgetall(_REDIS_GAUGES)
        counters, gauges = pipe.execute()
        return (
            {k.decode(): float(v) for k, v in counters.items()},
            {k.decode(): float(v) for k, v in gauges.items()},
        )


_local = _LocalStore()


@cache
def _redis_store(url: str) -> _RedisStore:
    return _RedisStore(url)


def store():
    return _redis_store(settings.REDIS_URL) if settings.REDIS_URL else _local


def _safely(fn, *args) -> None:
    # Metrics never break the work they measure.
    try:
        fn(*args)
    except Exception:  # noqa: BLE001
        import logging

        logging.getLogger(__name__).warning("metrics store unavailable", exc_info=True)


# --- Recording ----------------------------------------------------------------------------


def counter_inc(name: str, amount: float = 1.0, **labels: str) -> None:
    _safely(store().incr, [(_field(name, labels), amount)])


def histogram_observe(name: str, value: float, **labels: str) -> None:
    spec = DEFINITIONS[name]
    items = [(_field(name, labels, "_bucket", le), 1.0) for le in spec.buckets if value <= le]
    items += [
        (_field(name, labels, "_bucket_inf"), 1.0),
        (_field(name, labels, "_sum"), float(value)),
    ]
    _safely(store().incr, items)


def gauges_set(values: dict[str, float]) -> None:
    _safely(store().set, values)


def http_request_observe(*, method: str, status: int, seconds: float) -> None:
    items = [(_field("podnex_http_requests_total", {"method": method, "status": str(status)}), 1.0)]
    name = "podnex_http_request_duration_seconds"
    labels = {"method": method}
    items += [
        (_field(name, labels, "_bucket", le), 1.0)
        for le in DEFINITIONS[name].buckets
        if seconds <= le
    ]
    items += [(_field(name, labels, "_bucket_inf"), 1.0), (_field(name, labels, "_sum"), seconds)]
    _safely(store().incr, items)


# Pipeline phases, derived from the progress figures the pipeline reports (DESIGN.md):
# script 0-25, speech 25-60, combine 60-80, store 80-95, save 95-100.
_phase_lock = threading.Lock()
_phases: dict[str, tuple[str, float]] = {}  # job id -> (step, started at)


def step_of(percent: int) -> str:
    if percent < 25:
        return "script"
    if percent < 60:
        return "speech"
    if percent < 80:
        return "combine"
    if percent < 95:
        return "store"
    return "save"


def pipeline_progress_observe(*, job_id: str, percent: int) -> None:
    """Called on every progress write: closes the previous step when a new one begins."""
    step, now = step_of(percent), time.monotonic()
    with _phase_lock:
        previous = _phases.get(job_id)
        if previous and previous[0] == step:
            return
        _phases[job_id] = (step, now)
    if previous:
        histogram_observe(
            "podnex_pipeline_step_duration_seconds", now - previous[1], step=previous[0]
        )


def pipeline_job_finished(*, job_id: str, outcome: str, seconds: float | None) -> None:
    """Called once an attempt ends (Celery task_postrun): closes its last open step."""
    with _phase_lock:
        previous = _phases.pop(job_id, None)
    if previous and outcome == "completed":
        histogram_observe(
            "podnex_pipeline_step_duration_seconds",
            time.monotonic() - previous[1],
            step=previous[0],
        )
    if seconds is not None:
        histogram_observe("podnex_job_duration_seconds", seconds, outcome=outcome)


def provider_error_observe(*, job_id: str, permanent: bool) -> None:
    with _phase_lock:
        current = _phases.get(job_id)
    counter_inc(
        "podnex_provider_errors_total",
        step=current[0] if current else "unknown",
        kind="permanent" if permanent else "transient",
    )


# --- Reading: the collector ---------------------------------------------------------------


class PodnexCollector:
    """Everything PodNex exports, computed when scraped."""

    def collect(self) -> Iterable[Metric]:
        yield from self._database_state()
        yield _queue_depth()
        counters, gauges = store().snapshot()
        yield from _from_store(counters, gauges)

    def _database_state(self) -> Iterable[Metric]:
        from django.db.models import Count, Sum

        from podcasts.models import Podcast, PodcastJob, PodcastStatus
        from webhooks_app.models import Webhook

        podcasts = GaugeMetricFamily(
            "podnex_podcasts", "Podcasts (not deleted) by status", labels=["status"]
        )
        counts = dict(Podcast.visible.values_list("status").annotate(n=Count("id")).order_by())
        for status in PodcastStatus.values:
            podcasts.add_metric([status.lower()], counts.get(status, 0))
        yield podcasts

        jobs = GaugeMetricFamily("podnex_jobs", "Generation jobs by status", labels=["status"])
        counts = dict(PodcastJob.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in PodcastStatus.values:
            jobs.add_metric([status.lower()], counts.get(status, 0))
        yield jobs

        totals = Webhook.objects.aggregate(ok=Sum("success_count"), failed=Sum("failure_count"))
        webhooks = CounterMetricFamily(
            "podnex_webhook_deliveries", "Webhook deliveries by outcome", labels=["outcome"]
        )
        webhooks.add_metric(["success"], totals["ok"] or 0)
        webhooks.add_metric(["failure"], totals["failed"] or 0)
        yield webhooks


def queue_depth() -> int | None:
    """Messages waiting in the Celery broker's default queue (None if it cannot be read)."""
    url = str(settings.CELERY_BROKER_URL)
    try:
        if url.startswith("filesystem"):
            import os

            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
            return len([n for n in os.listdir(folder) if n.endswith(".msg")])
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            try:
                return int(client.llen("celery"))
            finally:
                client.close()
    except Exception:  # noqa: BLE001 - an unreadable broker shows as a missing sample
        return None
    return None


def _queue_depth() -> Metric:
    gauge = GaugeMetricFamily(
        "podnex_queue_depth", "Messages waiting in the Celery queue", labels=["queue"]
    )
    depth = queue_depth()
    if depth is not None:
        gauge.add_metric(["celery"], depth)
    return gauge


def _from_store(counters: dict[str, float], gauges: dict[str, float]) -> Iterable[Metric]:
    by_name: dict[str, dict[tuple[str, ...], dict]] = {}
    for field, value in counters.items():
        full, values = _parse(field)
        for suffix in ("_bucket_inf", "_bucket", "_sum", ""):
            if full.endswith(suffix) and full[: len(full) - len(suffix)] in DEFINITIONS:
                name = full[: len(full) - len(suffix)]
                break
        else:
            continue
        spec = DEFINITIONS[name]
        key = values[: len(spec.labels)]
        series = by_name.setdefault(name, {}).setdefault(
            key, {"buckets": {}, "sum": 0.0, "count": 0.0, "value": 0.0}
        )
        if suffix == "_bucket":
            series["buckets"][float(values[len(spec.labels)])] = value
        elif suffix == "_bucket_inf":
            series["count"] = value
        elif suffix == "_sum":
            series["sum"] = value
        else:
            series["value"] = value

    for name, spec in DEFINITIONS.items():
        if spec.kind == "counter":
            family = CounterMetricFamily(
                name.removesuffix("_total"), spec.doc, labels=list(spec.labels)
            )
            for key, series in sorted(by_name.get(name, {}).items()):
                family.add_metric(list(key), series["value"])
        elif spec.kind == "histogram":
            family = HistogramMetricFamily(name, spec.doc, labels=list(spec.labels))
            for key, series in sorted(by_name.get(name, {}).items()):
                buckets = [(_le(le), series["buckets"].get(float(le), 0.0)) for le in spec.buckets]
                buckets.append(("+Inf", series["count"]))
                family.add_metric(list(key), buckets, series["sum"])
        else:
            family = GaugeMetricFamily(name, spec.doc, labels=list(spec.labels))
            for field, value in sorted(gauges.items()):
                gauge_name, values = _parse(field)
                if gauge_name == name:
                    family.add_metric(list(values), value)
        yield family


def _le(value: float) -> str:
    return str(int(value)) + ".0" if value == math.floor(value) else str(value)


# --- Hourly collection --------------------------------------------------------------------


def metrics_collect() -> dict[str, float]:
    """Compute the costly figures once an hour (idempotent: it overwrites the last run's)."""
    from django.db.models import Count, Sum

    from accounts.models import User
    from billing.models import Subscription, SubscriptionPlan
    from podcasts.models import Podcast, PodcastStatus

    seconds = (
        Podcast.objects.filter(status=PodcastStatus.COMPLETED).aggregate(s=Sum("audio_duration"))[
            "s"
        ]
        or 0
    )
    values = {
        _field("podnex_audio_minutes_generated", {}): round(seconds / 60, 2),
        _field("podnex_users", {}): float(User.objects.count()),
        _field("podnex_metrics_collected_timestamp_seconds", {}): time.time(),
    }
    plans = dict(Subscription.objects.values_list("plan").annotate(n=Count("id")).order_by())
    for plan in SubscriptionPlan.values:
        values[_field("podnex_subscriptions", {"plan": plan.lower()})] = float(plans.get(plan, 0))
    gauges_set(values)
    return values


# --- The /metrics view --------------------------------------------------------------------


def scrape_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        import hmac

        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    address = request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_IPS:
        try:
            if ip in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return settings.DEBUG and not token and not settings.METRICS_ALLOWED_IPS and ip.is_loopback


def metrics_view(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return JsonResponse(
            {"success": False, "error": "Method not allowed", "code": "method_not_allowed"},
            status=405,
        )
    if not scrape_allowed(request):
        return JsonResponse(
            {
                "success": False,
                "error": "Metrics are not available to this client",
                "code": "forbidden",
            },
            status=403,
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PodnexCollector())
    from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)
