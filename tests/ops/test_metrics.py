"""/metrics: PodNex's own metrics, in Prometheus' text format, for authorised scrapers only."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ops.tasks import metrics_collect_task
from podcasts.models import PodcastStatus
from podcasts.providers.base import ProviderError
from podcasts.tasks import podcast_generate_task
from tests.factories import PodcastFactory
from tests.ops.conftest import queued_podcast
from tests.utils import assert_error

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def scraper(settings, client):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []

    def scrape() -> dict[tuple[str, tuple], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        samples = {}
        for family in text_string_to_metric_families(response.content.decode()):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    return scrape


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_scrapers_without_the_token_are_refused(client, settings, db):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    refused = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    assert_error(refused, 403, "forbidden")


def test_with_nothing_configured_metrics_are_closed_outside_debug(client, settings, db):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    settings.DEBUG = False
    assert client.get("/metrics").status_code == 403


def test_a_scraper_from_an_allowed_network_needs_no_token(client, settings, db):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.1"]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.2.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.9").status_code == 403


def test_podcasts_by_status_and_queue_depth_are_read_at_scrape_time(
    scraper, owner, django_capture_on_commit_callbacks
):
    before = scraper()
    PodcastFactory.create_batch(2, user=owner, status=PodcastStatus.COMPLETED)
    PodcastFactory(user=owner, status=PodcastStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        queued_podcast(owner)  # queued, and its task waits in the broker (no worker here)
    after = scraper()

    assert value(after, "podnex_podcasts", status="completed") == 2
    assert value(after, "podnex_podcasts", status="failed") == 1
    assert value(after, "podnex_podcasts", status="queued") == 1
    assert value(after, "podnex_jobs", status="queued") == 1
    depth = value(after, "podnex_queue_depth", queue="celery")
    assert depth == value(before, "podnex_queue_depth", queue="celery") + 1


def test_the_pipeline_records_step_durations_job_outcomes_and_provider_errors(
    scraper, owner, episode, transactional_db
):
    before = scraper()
    podcast, job = queued_podcast(owner)
    podcast_generate_task.apply(args=[podcast.id, job.job_id], task_id=job.job_id)

    broken, broken_job = queued_podcast(owner)

    def fail_in_speech(request, *, progress):
        progress(0, "Writing script")
        progress(25, "Script generated")
        raise ProviderError("voice quota exhausted", permanent=True)

    import podcasts.pipeline.generate as generate

    generate.episode_produce = fail_in_speech  # restored by the `episode` fixture
    podcast_generate_task.apply(args=[broken.id, broken_job.job_id], task_id=broken_job.job_id)
    after = scraper()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    # Both jobs finished their script; only the first finished the other steps.
    assert delta("podnex_pipeline_step_duration_seconds_count", step="script") == 2
    for step in ("speech", "combine", "store", "save"):
        assert delta("podnex_pipeline_step_duration_seconds_count", step=step) == 1, step
    assert delta("podnex_pipeline_step_duration_seconds_bucket", step="save", le="+Inf") == 1
    assert delta("podnex_job_duration_seconds_count", outcome="completed") == 1
    assert delta("podnex_job_duration_seconds_count", outcome="failed") == 1
    assert delta("podnex_provider_errors_total", step="speech", kind="permanent") == 1
    assert value(after, "podnex_podcasts", status="failed") == 1


def test_http_requests_are_counted(scraper, client, db):
    before = scraper()
    client.get("/api/health")
    client.get("/api/health")
    after = scraper()
    key = ("podnex_http_requests_total", (("method", "GET"), ("status", "200")))
    assert after[key] - before.get(key, 0) >= 2  # the first scrape itself counts too


def test_the_hourly_collection_exports_its_aggregates(scraper, owner, other_user):
    PodcastFactory(user=owner, status=PodcastStatus.COMPLETED, audio_duration=90)
    PodcastFactory(user=owner, status=PodcastStatus.COMPLETED, audio_duration=30)
    metrics_collect_task.apply()
    metrics_collect_task.apply()  # idempotent: a second run overwrites, never adds
    samples = scraper()
    assert value(samples, "podnex_audio_minutes_generated") == 2.0
    assert value(samples, "podnex_users") == 2
    assert value(samples, "podnex_metrics_collected_timestamp_seconds") > 0


def test_webhook_outcomes_are_exported(scraper, owner):
    from webhooks_app.models import Webhook

    Webhook.objects.create(
        user=owner, url="https://hooks.example/a", secret="s", success_count=5, failure_count=2
    )
    Webhook.objects.create(
        user=owner, url="https://hooks.example/b", secret="s", success_count=1, failure_count=0
    )
    samples = scraper()
    assert value(samples, "podnex_webhook_deliveries_total", outcome="success") == 6
    assert value(samples, "podnex_webhook_deliveries_total", outcome="failure") == 2
