"""With real Celery workers: the events of a real generation job reach a loopback receiver,
a retry reuses the webhook-id, and an endpoint that never answers does not hold the job."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from standardwebhooks import Webhook as StandardWebhook

from podcasts import services as podcast_services
from podcasts.models import Podcast, PodcastStatus
from tests.factories import SAMPLE_NOTES, PodcastFactory
from webhooks_app import services
from webhooks_app.models import DeliveryState, WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.usefixtures("allow_loopback")
FINAL = ("COMPLETED", "FAILED", "CANCELLED")


def wait_until(predicate, timeout: float = 120, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def create_podcast(client, **extra) -> str:
    response = client.post(
        "/api/v1/podcasts", {"noteContent": SAMPLE_NOTES, **extra}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()["podcast"]["id"]


def final_podcast(podcast_id: str) -> Podcast:
    return wait_until(
        lambda: Podcast.objects.filter(id=podcast_id, status__in=FINAL).first(),
        what="the podcast to finish",
    )


def test_a_generation_job_tells_a_registered_endpoint_and_its_own_url(
    workers, owner, owner_client, receiver
):
    endpoint_server, per_request_server = receiver(), receiver()
    secret = owner_client.post(
        "/api/v1/webhooks", {"url": endpoint_server.url()}, format="json"
    ).json()["webhook"]["secret"]
    podcast_id = create_podcast(owner_client, webhookUrl=per_request_server.url())

    podcast = final_podcast(podcast_id)
    assert podcast.status == PodcastStatus.COMPLETED, podcast.error
    signing_key = services.signing_key_get(user=owner).secret
    for server, key in ((endpoint_server, secret), (per_request_server, signing_key)):
        requests = server.wait_for(3)
        payloads = [StandardWebhook(key).verify(r.body, r.headers) for r in requests]
        assert sorted(p["type"] for p in payloads) == [
            "podcast.completed",
            "podcast.created",
            "podcast.processing",
        ]
        (completed,) = [p for p in payloads if p["type"] == "podcast.completed"]
        assert completed["data"]["id"] == podcast_id
        assert completed["data"]["status"] == "completed"
        assert completed["data"]["audioDuration"] == podcast.audio_duration > 0
        assert len({r.headers["webhook-id"] for r in requests}) == 3
    wait_until(
        lambda: not WebhookDelivery.objects.exclude(state=DeliveryState.DELIVERED).exists(),
        what="every delivery to be recorded as delivered",
    )


def test_a_receiver_answering_500_then_200_sees_the_same_webhook_id_twice(
    workers, owner, receiver, settings
):
    settings.WEBHOOK_RETRY_SCHEDULE = [0.2]
    server = receiver(statuses=[500, 200])
    hook = services.webhook_create(user=owner, url=server.url(), events=["PODCAST_FAILED"])
    podcast = PodcastFactory(user=owner, status="FAILED")
    with transaction.atomic():
        podcast_services.podcast_event_emit(podcast=podcast, event=WebhookEvent.PODCAST_FAILED)

    first, second = server.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    StandardWebhook(hook.secret).verify(second.body, second.headers)
    delivery = wait_until(
        lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).first(),
        what="the delivery to end delivered",
    )
    assert delivery.message_id == first.headers["webhook-id"]
    assert delivery.attempts == 2 and delivery.status == 200
    assert len(server.requests) == 2


def test_a_receiver_that_never_answers_does_not_delay_the_job(
    workers, owner, owner_client, receiver, settings
):
    settings.WEBHOOK_TIMEOUT = 60  # longer than the whole job: any waiting on it would show
    server = receiver(hang=True)
    owner_client.post("/api/v1/webhooks", {"url": server.url()}, format="json")
    podcast_id = create_podcast(owner_client)

    podcast = final_podcast(podcast_id)
    assert podcast.status == PodcastStatus.COMPLETED, podcast.error
    server.wait_for(1)  # the receiver holds at least one request open...
    deliveries = WebhookDelivery.objects.filter(payload__data__id=podcast_id)
    # ...and none of them has an answer yet, while the job is already done.
    assert deliveries.count() == 3
    assert not deliveries.exclude(state=DeliveryState.PENDING).exists()
    assert not deliveries.filter(attempts__gt=0).exists()
    server.close()  # let the hanging attempts fail now rather than at the timeout
