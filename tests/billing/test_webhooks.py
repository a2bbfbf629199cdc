"""POST /api/v1/billing/webhooks: Standard Webhooks signatures, once per webhook-id,
out-of-order deliveries, and what each Dodo event does to the subscription."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from billing import dodo_webhooks, services
from billing.models import DodoWebhookEvent, Subscription
from billing.services import subscription_for
from tests.billing.conftest import post_webhook, signed_headers, subscription_event
from tests.utils import assert_error

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def dodo(db, webhook_key) -> APIClient:
    return APIClient()


def send(client, event_type, user, *, at=None, **kwargs):
    payload = subscription_event(event_type, user=user, at=at or NOW, **kwargs)
    return post_webhook(client, payload)


def state(user) -> Subscription:
    return Subscription.objects.get(user=user)


def test_subscription_active_puts_the_user_on_the_paid_plan(dodo, owner):
    response = send(dodo, "subscription.active", owner, plan="PRO")
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True, "received": True, "duplicate": False}
    subscription = state(owner)
    assert subscription.plan == "PRO" and subscription.status == "ACTIVE"
    assert subscription.monthly_podcast_limit == 200 and subscription.monthly_minutes_limit == 1000
    assert subscription.dodo_subscription_id == "sub_1"
    assert subscription.dodo_customer_id == "cus_1"
    assert subscription.current_period_end == NOW + timedelta(days=30)
    assert subscription.usage_reset_date == subscription.current_period_end
    event = DodoWebhookEvent.objects.get()
    assert event.outcome == "applied" and event.subscription == subscription


def test_a_bad_signature_is_401_and_changes_nothing(dodo, owner):
    subscription_for(user=owner)
    payload = subscription_event("subscription.active", user=owner, at=NOW, plan="PRO")
    body = json.dumps(payload).encode()
    headers = signed_headers(body, secret="whsec_" + "A" * 32)
    response = post_webhook(dodo, payload, headers=headers)
    assert_error(response, 401, "invalid_signature")
    assert state(owner).plan == "FREE"
    assert not DodoWebhookEvent.objects.exists()


def test_a_body_changed_after_signing_is_401(dodo, owner):
    payload = subscription_event("subscription.active", user=owner, at=NOW, plan="PRO")
    headers = signed_headers(json.dumps(payload).encode())
    payload["data"]["product_id"] = "pdt_business"
    assert_error(post_webhook(dodo, payload, headers=headers), 401, "invalid_signature")
    assert not Subscription.objects.filter(user=owner, plan="BUSINESS").exists()


def test_a_stale_timestamp_is_401(dodo, owner):
    payload = subscription_event("subscription.active", user=owner, at=NOW, plan="PRO")
    response = post_webhook(dodo, payload, at=datetime.now(UTC) - timedelta(minutes=10))
    assert_error(response, 401, "invalid_signature")
    assert not DodoWebhookEvent.objects.exists()


def test_missing_signature_headers_are_401(dodo, owner):
    payload = subscription_event("subscription.active", user=owner, at=NOW)
    response = post_webhook(dodo, payload, headers={"HTTP_WEBHOOK_ID": "msg_1"})
    assert_error(response, 401, "invalid_signature")


def test_without_a_webhook_key_deliveries_are_refused_with_503(db, owner, settings):
    settings.DODO_PAYMENTS_WEBHOOK_KEY = ""
    payload = subscription_event("subscription.active", user=owner, at=NOW)
    assert_error(post_webhook(APIClient(), payload), 503, "webhooks_unavailable")


def test_each_webhook_id_is_applied_once(dodo, owner):
    send(
        dodo,
        "subscription.active",
        owner,
        at=NOW - timedelta(days=30),
        period_start=NOW - timedelta(days=30),
        period_end=NOW,
    )
    renewal = subscription_event(
        "subscription.renewed",
        user=owner,
        at=NOW,
        period_start=NOW,
        period_end=NOW + timedelta(days=30),
    )
    body = json.dumps(renewal).encode()
    headers = signed_headers(body, webhook_id="msg_renewal")

    Subscription.objects.filter(user=owner).update(current_podcast_count=7)
    assert post_webhook(dodo, renewal, headers=headers).json()["duplicate"] is False
    assert state(owner).current_podcast_count == 0  # the renewal reset usage

    Subscription.objects.filter(user=owner).update(current_podcast_count=3)
    retry = post_webhook(dodo, renewal, headers=signed_headers(body, webhook_id="msg_renewal"))
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    assert state(owner).current_podcast_count == 3  # not reset a second time
    assert DodoWebhookEvent.objects.filter(webhook_id="msg_renewal").count() == 1


def test_cancelled_arriving_before_active_leaves_the_subscription_cancelled(dodo, owner):
    period_end = NOW + timedelta(days=30)
    send(
        dodo,
        "subscription.cancelled",
        owner,
        at=NOW + timedelta(minutes=5),
        status="cancelled",
        period_end=period_end,
        cancelled_at=(NOW + timedelta(minutes=5)).isoformat(),
    )
    late = send(dodo, "subscription.active", owner, at=NOW, period_end=period_end)
    assert late.status_code == 200

    subscription = state(owner)
    assert subscription.status == "CANCELLED"
    assert subscription.cancel_at_period_end is True and subscription.cancelled_at is not None
    # Paid until the period ends: the plan's limits hold until then.
    assert subscription.plan == "STARTER" and subscription.monthly_podcast_limit == 50
    assert DodoWebhookEvent.objects.get(event_type="subscription.active").outcome == (
        "ignored_stale"
    )


def test_renewed_starts_a_new_period_and_resets_usage(dodo, owner):
    first_end = NOW - timedelta(hours=1)
    send(
        dodo,
        "subscription.active",
        owner,
        at=NOW - timedelta(days=30),
        period_start=first_end - timedelta(days=30),
        period_end=first_end,
    )
    Subscription.objects.filter(user=owner).update(current_podcast_count=9, current_minutes_used=40)
    send(
        dodo,
        "subscription.renewed",
        owner,
        at=NOW,
        period_start=first_end,
        period_end=first_end + timedelta(days=30),
    )
    subscription = state(owner)
    assert subscription.current_podcast_count == 0 and subscription.current_minutes_used == 0
    assert subscription.current_period_start == first_end
    assert subscription.usage_reset_date == first_end + timedelta(days=30)


def test_a_renewal_after_the_hourly_reset_does_not_reset_again(dodo, owner):
    first_end = NOW - timedelta(hours=2)
    send(
        dodo,
        "subscription.active",
        owner,
        at=NOW - timedelta(days=30),
        period_start=first_end - timedelta(days=30),
        period_end=first_end,
    )
    assert services.usage_reset_due() == 1  # the beat got there before Dodo's renewal
    Subscription.objects.filter(user=owner).update(current_podcast_count=2)
    send(
        dodo,
        "subscription.renewed",
        owner,
        at=NOW,
        period_start=first_end,
        period_end=first_end + timedelta(days=30),
    )
    assert state(owner).current_podcast_count == 2


@pytest.mark.parametrize("event_type", ["subscription.on_hold", "subscription.failed"])
def test_on_hold_and_failed_make_it_past_due_on_free_limits(dodo, owner, event_type):
    send(dodo, "subscription.active", owner, at=NOW - timedelta(minutes=1), plan="PRO")
    send(dodo, event_type, owner, plan="PRO", status="on_hold")
    subscription = state(owner)
    assert subscription.status == "PAST_DUE" and subscription.plan == "PRO"
    assert subscription.monthly_podcast_limit == 5
    # Payment recovered: the plan's limits come back.
    send(dodo, "subscription.active", owner, at=NOW + timedelta(minutes=1), plan="PRO")
    assert state(owner).monthly_podcast_limit == 200


def test_expired_goes_back_to_free(dodo, owner):
    send(dodo, "subscription.active", owner, at=NOW - timedelta(minutes=1), plan="PRO")
    send(dodo, "subscription.expired", owner, plan="PRO", status="expired")
    subscription = state(owner)
    assert subscription.plan == "FREE" and subscription.status == "ACTIVE"
    assert subscription.monthly_podcast_limit == 5 and subscription.monthly_minutes_limit == 25
    assert subscription.dodo_subscription_id is None
    assert subscription.dodo_customer_id == "cus_1"  # the portal still works


def test_plan_changed_moves_to_the_new_plans_limits(dodo, owner):
    send(dodo, "subscription.active", owner, at=NOW - timedelta(minutes=1), plan="STARTER")
    send(dodo, "subscription.plan_changed", owner, plan="BUSINESS")
    subscription = state(owner)
    assert subscription.plan == "BUSINESS"
    assert subscription.monthly_podcast_limit is None  # unlimited
    assert subscription.dodo_product_id == "pdt_business"


def test_updated_syncs_the_cancel_flag(dodo, owner):
    send(dodo, "subscription.active", owner, at=NOW - timedelta(minutes=1))
    send(dodo, "subscription.updated", owner, cancel_at_next_billing_date=True)
    assert state(owner).cancel_at_period_end is True
    assert state(owner).status == "ACTIVE"


def test_payments_are_recorded(dodo, owner):
    payload = {
        "business_id": "bus_1",
        "type": "payment.succeeded",
        "timestamp": NOW.isoformat(),
        "data": {
            "payment_id": "pay_1",
            "total_amount": 1900,
            "currency": "USD",
            "customer": {"customer_id": "cus_1", "email": owner.email},
            "metadata": {"userId": owner.id, "plan": "STARTER"},
        },
    }
    assert post_webhook(dodo, payload).status_code == 200
    event = DodoWebhookEvent.objects.get()
    assert event.outcome == "recorded" and event.payload["data"]["payment_id"] == "pay_1"
    assert event.subscription == state(owner)
    assert state(owner).plan == "FREE"


def test_other_event_types_are_acknowledged_and_ignored(dodo, owner):
    payload = {
        "business_id": "bus_1",
        "type": "dispute.opened",
        "timestamp": NOW.isoformat(),
        "data": {"dispute_id": "dsp_1"},
    }
    response = post_webhook(dodo, payload)
    assert response.status_code == 200
    assert DodoWebhookEvent.objects.get().outcome == "ignored_type"


def test_an_event_for_an_unknown_subscription_is_acknowledged(dodo, owner):
    payload = subscription_event("subscription.active", user=owner, at=NOW)
    payload["data"]["metadata"] = {}
    payload["data"]["customer"]["customer_id"] = "cus_nobody"
    assert post_webhook(dodo, payload).status_code == 200
    assert DodoWebhookEvent.objects.get().outcome == "ignored_unknown_subscription"


def test_a_handler_error_is_a_5xx_so_dodo_retries(dodo, owner, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(dodo_webhooks, "_sync_from_dodo", broken)
    client = APIClient(raise_request_exception=False)
    payload = subscription_event("subscription.active", user=owner, at=NOW)
    body = json.dumps(payload).encode()
    response = post_webhook(client, payload, headers=signed_headers(body, webhook_id="msg_x"))
    assert response.status_code == 500
    assert not DodoWebhookEvent.objects.exists()  # not marked as applied

    monkeypatch.undo()
    settings_key_restored = post_webhook(
        client, payload, headers=signed_headers(body, webhook_id="msg_x")
    )
    assert settings_key_restored.status_code == 200
    assert state(owner).plan == "STARTER"


def test_a_signed_body_that_is_not_a_json_object_is_400(dodo):
    body = b"[1, 2]"
    response = APIClient().post(
        "/api/v1/billing/webhooks",
        data=body,
        content_type="application/json",
        **signed_headers(body),
    )
    assert_error(response, 400, "invalid_payload")
