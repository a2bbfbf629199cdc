"""Structured logs and the request id that follows a request into the worker."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest

from podcasts.models import Podcast, PodcastJob, PodcastStatus
from podnex.observability import json_formatter
from tests.factories import PodcastFactory


@pytest.fixture
def json_log_lines():
    """Every log record of this process, rendered as PodNex renders them in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(previous_level)


def test_a_well_formed_request_id_is_kept_and_returned(anon_client):
    response = anon_client.get("/api/health", HTTP_X_REQUEST_ID="req-2026.11:abc")
    assert response["X-Request-ID"] == "req-2026.11:abc"


def test_a_missing_or_malformed_request_id_is_replaced_by_a_new_one(anon_client):
    made = anon_client.get("/api/health")["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    replaced = anon_client.get("/api/health", HTTP_X_REQUEST_ID='evil"\n{"forged": 1}')
    assert replaced["X-Request-ID"] != made and len(replaced["X-Request-ID"]) == 32


def test_request_log_lines_are_json_with_the_request_id(anon_client, json_log_lines, db):
    anon_client.get("/api/v1/podcasts/nope", HTTP_X_REQUEST_ID="trace-me-1")
    mine = [line for line in json_log_lines() if line.get("request_id") == "trace-me-1"]
    events = {line["event"] for line in mine}
    assert {"request_started", "request_finished"} <= events
    finished = next(line for line in mine if line["event"] == "request_finished")
    assert finished["code"] == 401
    assert finished["level"] == "warning" and "timestamp" in finished


def test_the_request_id_appears_in_the_worker_log_lines_of_the_job_it_started(
    owner, owner_client, celery_worker, episode, json_log_lines
):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.FAILED, error="boom")
    response = owner_client.post(
        f"/api/v1/podcasts/{podcast.id}/retry", HTTP_X_REQUEST_ID="retry-7f3a"
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["podcast"]["jobId"]

    deadline = time.monotonic() + 30
    while Podcast.objects.get(id=podcast.id).status != PodcastStatus.COMPLETED:
        assert time.monotonic() < deadline, "the worker did not finish the job"
        time.sleep(0.05)
    deadline = time.monotonic() + 10
    while not any(line.get("event") == "task_succeeded" for line in json_log_lines()):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    worker_lines = [line for line in json_log_lines() if line.get("task_id") == job_id]
    assert {"task_started", "task_succeeded"} <= {line["event"] for line in worker_lines}
    assert all(line.get("request_id") == "retry-7f3a" for line in worker_lines), worker_lines
    assert PodcastJob.objects.get(job_id=job_id).status == PodcastStatus.COMPLETED


def test_the_request_id_follows_the_job_into_its_webhook_delivery(
    owner, owner_client, receiver, allow_loopback, workers, episode, json_log_lines
):
    from webhooks_app.models import WebhookDelivery

    hook = receiver()
    podcast = PodcastFactory(
        user=owner, status=PodcastStatus.FAILED, error="boom", webhook_url=hook.url()
    )
    response = owner_client.post(
        f"/api/v1/podcasts/{podcast.id}/retry", HTTP_X_REQUEST_ID="hook-trace-42"
    )
    assert response.status_code == 202, response.content

    received = hook.wait_for(1, timeout=60)
    assert received[0].headers["x-request-id"] == "hook-trace-42"
    assert received[0].headers["webhook-signature"]  # still signed as before

    job_id = response.json()["podcast"]["jobId"]

    def delivery_started() -> list[dict]:
        # (Messages other tests left in the webhook queue may run here too: pick ours.)
        return [
            line
            for line in json_log_lines()
            if line.get("event") == "task_started"
            and line.get("task") == "webhooks.deliver"
            and line.get("parent_task_id") == job_id  # queued by the generation task
        ]

    deadline = time.monotonic() + 10
    while not delivery_started():
        assert time.monotonic() < deadline, "no webhooks.deliver task started by the job"
        time.sleep(0.05)
    assert all(line["request_id"] == "hook-trace-42" for line in delivery_started())
    assert WebhookDelivery.objects.filter(webhook__user=owner).exists()
