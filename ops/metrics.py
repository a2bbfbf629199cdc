"""PodNex's Prometheus metrics, exposed at /metrics.

One scrape must see every process's figures:
- counters and histograms recorded by any process (HTTP requests in podnex.metrics, the
  pipeline in podcasts.metrics) are prometheus_client instruments, shared between processes
  through PROMETHEUS_MULTIPROC_DIR (podnex.metrics.process_registry);
- gauges of state (podcasts and jobs by status, queue depth, webhook outcomes summed from the
  Webhook rows) are read at scrape time from the database and the broker by a collector;
- figures too costly to compute per scrape (audio minutes, users, subscriptions by plan) are
  gauges set by the hourly `podnex.metrics_collect` task (the most recent value wins).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

# 0.0.4: the text format every Prometheus version (and most agents) reads.
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from billing.models import Subscription, SubscriptionPlan
from podcasts.models import Podcast, PodcastJob, PodcastStatus
from podnex import metrics as process_metrics
from podnex.celery import app as celery_app
from webhooks_app.models import Webhook

logger = logging.getLogger(__name__)

audio_minutes = Gauge(
    "podnex_audio_minutes_generated",
    "Minutes of audio of completed podcasts (hourly)",
    multiprocess_mode="mostrecent",
)
users = Gauge("podnex_users", "Registered users (hourly)", multiprocess_mode="mostrecent")
subscriptions = Gauge(
    "podnex_subscriptions",
    "Subscriptions by plan (hourly)",
    ["plan"],
    multiprocess_mode="mostrecent",
)
collected_at = Gauge(
    "podnex_metrics_collected_timestamp_seconds",
    "When the hourly collection last ran",
    multiprocess_mode="mostrecent",
)


# --- Read at scrape time -------------------------------------------------------------------


def status_counts(queryset) -> dict[str, int]:
    """Rows by status, every status present (lower-case, as the API says them)."""
    counts = dict(queryset.values_list("status").annotate(n=Count("id")).order_by())
    return {status.lower(): counts.get(status, 0) for status in PodcastStatus.values}


def webhook_outcomes() -> dict[str, int]:
    totals = Webhook.objects.aggregate(ok=Sum("success_count"), failed=Sum("failure_count"))
    return {"success": totals["ok"] or 0, "failure": totals["failed"] or 0}


def queue_depth(queue: str = "celery") -> int | None:
    """Messages waiting in a Celery queue, as the broker's transport counts them (None if
    the broker cannot be read)."""
    try:
        with celery_app.connection_for_read() as connection:
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)
            return int(declared.message_count)
    except Exception:  # noqa: BLE001 - an unreadable broker shows as a missing sample
        logger.warning("queue depth of %s unreadable", queue, exc_info=True)
        return None


class DatabaseStateCollector:
    """Gauges of what the database and the broker hold right now, computed when scraped."""

    def collect(self) -> Iterable[Metric]:
        podcasts = GaugeMetricFamily(
            "podnex_podcasts", "Podcasts (not deleted) by status", labels=["status"]
        )
        for status, count in status_counts(Podcast.visible.all()).items():
            podcasts.add_metric([status], count)
        yield podcasts

        jobs = GaugeMetricFamily("podnex_jobs", "Generation jobs by status", labels=["status"])
        for status, count in status_counts(PodcastJob.objects.all()).items():
            jobs.add_metric([status], count)
        yield jobs

        webhooks = CounterMetricFamily(
            "podnex_webhook_deliveries", "Webhook deliveries by outcome", labels=["outcome"]
        )
        for outcome, count in webhook_outcomes().items():
            webhooks.add_metric([outcome], count)
        yield webhooks

        depth = GaugeMetricFamily(
            "podnex_queue_depth", "Messages waiting in the Celery queue", labels=["queue"]
        )
        waiting = queue_depth()
        if waiting is not None:
            depth.add_metric(["celery"], waiting)
        yield depth


# --- Hourly collection ---------------------------------------------------------------------


def metrics_collect() -> dict[str, float]:
    """Compute the costly figures once an hour (idempotent: it overwrites the last run's)."""
    completed = Podcast.objects.filter(status=PodcastStatus.COMPLETED)
    seconds = completed.aggregate(s=Sum("audio_duration"))["s"] or 0
    values = {
        "audio_minutes": round(seconds / 60, 2),
        "users": float(get_user_model().objects.count()),
        "collected_at": time.time(),
    }
    audio_minutes.set(values["audio_minutes"])
    users.set(values["users"])
    collected_at.set(values["collected_at"])
    plans = dict(Subscription.objects.values_list("plan").annotate(n=Count("id")).order_by())
    for plan in SubscriptionPlan.values:
        subscriptions.labels(plan=plan.lower()).set(plans.get(plan, 0))
        values[f"subscriptions_{plan.lower()}"] = float(plans.get(plan, 0))
    return values


# --- The /metrics view ---------------------------------------------------------------------


def scrape_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
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
    return HttpResponse(
        generate_latest(process_metrics.process_registry())
        + generate_latest(_scrape_time_registry()),
        content_type=CONTENT_TYPE_PLAIN_0_0_4,
    )


def _scrape_time_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseStateCollector())
    return registry
