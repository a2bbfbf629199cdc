"""The /api/v1/webhooks routes: CRUD, secrets, deliveries, tests, and privacy."""

from __future__ import annotations

import pytest
from django.utils import timezone
from standardwebhooks import Webhook as StandardWebhook

from tests.utils import assert_error
from webhooks_app.models import DeliveryState, Webhook, WebhookDelivery, WebhookEvent

URL = "/api/v1/webhooks"
PUBLIC = "https://hooks.example.com/podnex"


def register(client, **extra) -> dict:
    response = client.post(URL, {"url": PUBLIC, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["webhook"]


def test_creating_an_endpoint_shows_its_secret_once(owner_client, owner):
    created = register(owner_client, events=["podcast.completed", "podcast.failed"])
    assert created["secret"].startswith("whsec_")
    StandardWebhook(created["secret"])  # a secret any Standard Webhooks library accepts
    assert created["events"] == ["podcast.completed", "podcast.failed"]
    assert created["active"] is True and created["kind"] == "endpoint"
    assert created["successCount"] == 0 and created["failureCount"] == 0
    row = Webhook.objects.get(id=created["id"])
    assert row.user == owner and row.events == ["PODCAST_COMPLETED", "PODCAST_FAILED"]

    shown = owner_client.get(f"{URL}/{created['id']}").json()["webhook"]
    assert "secret" not in shown
    listed = owner_client.get(URL).json()
    assert [w["id"] for w in listed["webhooks"]] == [created["id"]]
    assert "secret" not in listed["webhooks"][0]
    assert listed["pagination"]["total"] == 1


def test_events_default_to_every_podcast_event(owner_client):
    created = register(owner_client)
    assert created["events"] == [
        "podcast.created",
        "podcast.processing",
        "podcast.completed",
        "podcast.failed",
        "podcast.script_ready",
    ]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://hooks.example.com/x"}, "url"),
        ({"url": PUBLIC, "events": []}, "events"),
        ({"url": PUBLIC, "events": ["podcast.exploded"]}, "events"),
        ({"url": PUBLIC, "events": ["webhook.test"]}, "events"),
        ({"url": PUBLIC, "events": "podcast.completed"}, "events"),
        ({"url": PUBLIC, "active": "maybe"}, "active"),
    ],
)
def test_it_rejects_bad_input(owner_client, payload, field):
    body = assert_error(owner_client.post(URL, payload, format="json"), 400, "validation_error")
    assert field in body["details"]
    assert not Webhook.objects.exists()


def test_it_updates_url_events_and_active(owner_client):
    created = register(owner_client)
    response = owner_client.patch(
        f"{URL}/{created['id']}",
        {"url": "https://other.example.com/h", "events": ["podcast.failed"], "active": False},
        format="json",
    )
    assert response.status_code == 200, response.content
    updated = response.json()["webhook"]
    assert updated["url"] == "https://other.example.com/h"
    assert updated["events"] == ["podcast.failed"] and updated["active"] is False


def test_switching_a_disabled_endpoint_back_on_clears_why_it_was_disabled(owner_client, owner):
    created = register(owner_client)
    Webhook.objects.filter(id=created["id"]).update(
        active=False,
        disabled_reason="Disabled automatically: ...",
        disabled_at=timezone.now(),
        failing_since=timezone.now(),
    )
    shown = owner_client.get(f"{URL}/{created['id']}").json()["webhook"]
    assert shown["disabledReason"].startswith("Disabled automatically")
    updated = owner_client.patch(f"{URL}/{created['id']}", {"active": True}, format="json")
    webhook = updated.json()["webhook"]
    assert webhook["active"] is True
    assert webhook["disabledReason"] is None and webhook["failingSince"] is None


def test_rotating_the_secret_gives_a_new_one(owner_client):
    created = register(owner_client)
    rotated = owner_client.post(f"{URL}/{created['id']}/rotate-secret").json()["webhook"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    row = Webhook.objects.get(id=created["id"])
    assert row.secret == rotated["secret"] and row.previous_secret == created["secret"]


def test_delete_removes_the_endpoint_and_its_log(owner_client):
    created = register(owner_client)
    WebhookDelivery.objects.create(
        webhook_id=created["id"], event=WebhookEvent.PODCAST_CREATED, payload={}
    )
    assert owner_client.delete(f"{URL}/{created['id']}").status_code == 200
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()
    assert_error(owner_client.get(f"{URL}/{created['id']}"), 404, "not_found")


def test_deliveries_are_listed_newest_first_and_paginated(owner_client):
    created = register(owner_client)
    for n in range(3):
        WebhookDelivery.objects.create(
            webhook_id=created["id"],
            event=WebhookEvent.PODCAST_CREATED,
            payload={"n": n},
            state=DeliveryState.DELIVERED if n else DeliveryState.FAILED,
            status=200 if n else 500,
            attempts=1,
        )
    body = owner_client.get(f"{URL}/{created['id']}/deliveries?limit=2").json()
    assert body["pagination"] == {"page": 1, "limit": 2, "total": 3, "totalPages": 2}
    first = body["deliveries"][0]
    assert first["payload"] == {"n": 2} and first["state"] == "delivered"
    assert first["event"] == "podcast.created" and first["messageId"].startswith("msg_")
    failed = owner_client.get(f"{URL}/{created['id']}/deliveries?state=failed").json()
    assert [d["status"] for d in failed["deliveries"]] == [500]
    assert_error(
        owner_client.get(f"{URL}/{created['id']}/deliveries?limit=101"), 400, "validation_error"
    )


def test_the_endpoint_limit_is_enforced(owner_client, settings):
    settings.WEBHOOK_MAX_ENDPOINTS = 2
    register(owner_client)
    register(owner_client)
    response = owner_client.post(URL, {"url": PUBLIC}, format="json")
    assert_error(response, 403, "webhook_limit_reached")


def test_the_test_route_sends_a_signed_event_now_and_returns_the_result(
    owner_client, receiver, allow_loopback
):
    server = receiver()
    created = register(owner_client, url=server.url())
    response = owner_client.post(f"{URL}/{created['id']}/test")
    assert response.status_code == 200, response.content
    delivery = response.json()["delivery"]
    assert delivery["state"] == "delivered" and delivery["status"] == 200
    assert delivery["event"] == "webhook.test" and delivery["attempts"] == 1
    assert delivery["response"] == '{"ok": true}'

    (request,) = server.requests
    payload = StandardWebhook(created["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["webhookId"] == created["id"]
    assert request.headers["webhook-id"] == delivery["messageId"]
    webhook = owner_client.get(f"{URL}/{created['id']}").json()["webhook"]
    assert webhook["successCount"] == 1 and webhook["lastTriggeredAt"]


def test_a_failing_test_is_reported_and_not_retried(owner_client, receiver, allow_loopback):
    server = receiver(statuses=[503], answer=b"down for maintenance")
    created = register(owner_client, url=server.url())
    delivery = owner_client.post(f"{URL}/{created['id']}/test").json()["delivery"]
    assert delivery["state"] == "failed" and delivery["status"] == 503
    assert delivery["response"] == "down for maintenance"
    assert delivery["lastError"] == "HTTP 503" and delivery["nextAttemptAt"] is None
    assert len(server.requests) == 1


def test_the_signing_secret_for_per_request_urls_is_stable_until_rotated(owner_client):
    first = owner_client.get(f"{URL}/signing-secret").json()
    assert first["signingSecret"].startswith("whsec_")
    assert (
        owner_client.get(f"{URL}/signing-secret").json()["signingSecret"]
        == (first["signingSecret"])
    )
    rotated = owner_client.post(f"{URL}/signing-secret/rotate").json()
    assert rotated["signingSecret"] != first["signingSecret"]


def test_per_request_webhooks_are_listed_apart_and_cannot_be_retargeted(owner_client, owner):
    hook = Webhook.objects.create(user=owner, url=PUBLIC, kind="PER_REQUEST", events=[])
    register(owner_client)
    assert owner_client.get(URL).json()["pagination"]["total"] == 1
    listed = owner_client.get(f"{URL}?kind=per_request").json()["webhooks"]
    assert [w["id"] for w in listed] == [hook.id] and listed[0]["kind"] == "per_request"
    response = owner_client.patch(f"{URL}/{hook.id}", {"url": PUBLIC + "2"}, format="json")
    assert_error(response, 409, "per_request_webhook")
    assert_error(owner_client.post(f"{URL}/{hook.id}/rotate-secret"), 409, "per_request_webhook")


def test_another_user_can_neither_see_nor_touch_an_endpoint(
    owner_client, other_client, receiver, allow_loopback
):
    server = receiver()
    created = register(owner_client, url=server.url())
    base = f"{URL}/{created['id']}"
    assert other_client.get(URL).json()["webhooks"] == []
    assert_error(other_client.get(base), 404, "not_found")
    assert_error(other_client.patch(base, {"active": False}, format="json"), 404, "not_found")
    assert_error(other_client.get(f"{base}/deliveries"), 404, "not_found")
    assert_error(other_client.post(f"{base}/test"), 404, "not_found")
    assert_error(other_client.post(f"{base}/rotate-secret"), 404, "not_found")
    assert_error(other_client.delete(base), 404, "not_found")
    assert server.requests == []
    assert Webhook.objects.get(id=created["id"]).active is True
    assert (
        owner_client.get(f"{URL}/signing-secret").json()["signingSecret"]
        != (other_client.get(f"{URL}/signing-secret").json()["signingSecret"])
    )


def test_it_needs_authentication(anon_client):
    assert_error(anon_client.get(URL), 401, "not_authenticated")
    assert_error(anon_client.post(URL, {"url": PUBLIC}, format="json"), 401, "not_authenticated")
