"""Checkout, plan change, customer portal and cancellation, through the dodopayments SDK
against a loopback server that speaks Dodo's API."""

from __future__ import annotations

import pytest

from billing import dodo
from billing.models import Subscription
from billing.services import subscription_for
from tests.billing.conftest import PRODUCTS
from tests.utils import assert_error


def make_paying(user, *, plan: str = "STARTER", **fields) -> Subscription:
    subscription = subscription_for(user=user)
    Subscription.objects.filter(pk=subscription.pk).update(
        plan=plan,
        dodo_subscription_id="sub_live_1",
        dodo_customer_id="cus_42",
        dodo_product_id=PRODUCTS[plan],
        monthly_podcast_limit=50,
        monthly_minutes_limit=250,
        **fields,
    )
    subscription.refresh_from_db()
    return subscription


@pytest.mark.parametrize("path", ["/api/v1/billing/checkout", "/api/v1/user/subscription/upgrade"])
def test_a_free_user_gets_a_checkout_session_for_the_plans_product(
    dodo_api, owner, owner_client, settings, path
):
    response = owner_client.post(path, {"plan": "pro"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["checkoutUrl"] == f"{dodo_api.base_url}/pay/cks_1"
    assert body["mode"] == "checkout" and body["plan"] == "pro"

    sent = dodo_api.last("POST", "/checkouts")
    assert sent.headers["Authorization"] == "Bearer sk_test_podnex"
    assert sent.json["product_cart"] == [{"product_id": PRODUCTS["PRO"], "quantity": 1}]
    assert sent.json["customer"] == {"email": owner.email, "name": owner.name}
    assert sent.json["return_url"] == settings.DODO_PAYMENTS_RETURN_URL
    assert sent.json["metadata"] == {"userId": owner.id, "plan": "PRO"}
    # Nothing changes locally until Dodo's webhook confirms the payment.
    assert subscription_for(user=owner).plan == "FREE"


def test_a_returning_customer_checks_out_as_the_same_dodo_customer(dodo_api, owner, owner_client):
    subscription = subscription_for(user=owner)
    Subscription.objects.filter(pk=subscription.pk).update(dodo_customer_id="cus_old")
    owner_client.post("/api/v1/billing/checkout", {"plan": "starter"}, format="json")
    assert dodo_api.last("POST", "/checkouts").json["customer"] == {"customer_id": "cus_old"}


def test_a_paying_user_changes_plan_instead_of_buying_a_second_subscription(
    dodo_api, owner, owner_client, settings
):
    make_paying(owner)
    settings.DODO_PRORATION_BILLING_MODE = "difference_immediately"
    dodo_api.payment_link = "https://pay.example/link"
    body = owner_client.post(
        "/api/v1/user/subscription/upgrade", {"plan": "business"}, format="json"
    ).json()
    assert body["mode"] == "plan_change" and body["checkoutUrl"] == "https://pay.example/link"
    sent = dodo_api.last("POST", "/subscriptions/sub_live_1/change-plan")
    assert sent.json["product_id"] == PRODUCTS["BUSINESS"]
    assert sent.json["quantity"] == 1
    assert sent.json["proration_billing_mode"] == "difference_immediately"
    assert not [r for r in dodo_api.requests if r.path == "/checkouts"]


def test_upgrading_to_the_current_plan_is_a_conflict(dodo_api, owner, owner_client):
    make_paying(owner, plan="STARTER")
    response = owner_client.post("/api/v1/billing/checkout", {"plan": "starter"}, format="json")
    assert_error(response, 409, "already_on_plan")
    assert dodo_api.requests == []


@pytest.mark.parametrize("payload", [{}, {"plan": "free"}, {"plan": "gold"}, {"plan": 3}])
def test_checkout_rejects_a_plan_that_cannot_be_bought(dodo_api, owner_client, payload):
    body = assert_error(
        owner_client.post("/api/v1/billing/checkout", payload, format="json"),
        400,
        "validation_error",
    )
    assert "plan" in body["details"]
    assert dodo_api.requests == []


def test_checkout_without_payments_configured_is_503(db, owner_client, settings):
    settings.DODO_PAYMENTS_API_KEY = ""
    settings.DODO_PRODUCT_ID_PRO = "pdt_pro"
    assert_error(
        owner_client.post("/api/v1/billing/checkout", {"plan": "pro"}, format="json"),
        503,
        "payments_unavailable",
    )


def test_a_dodo_error_is_a_502_not_a_crash(dodo_api, owner_client):
    dodo_api.fail_with = (422, {"code": "INVALID", "message": "product is archived"})
    body = assert_error(
        owner_client.post("/api/v1/billing/checkout", {"plan": "pro"}, format="json"),
        502,
        "payment_provider_error",
    )
    assert "product is archived" in body["error"]


def test_the_portal_link_comes_from_dodo(dodo_api, owner, owner_client):
    make_paying(owner)
    body = owner_client.get("/api/v1/billing/portal").json()
    assert body["portalUrl"] == f"{dodo_api.base_url}/portal/cus_42"
    assert dodo_api.last("POST", "/customers/cus_42/customer-portal/session")


def test_the_portal_is_404_for_a_user_who_never_paid(dodo_api, owner_client):
    body = assert_error(owner_client.get("/api/v1/billing/portal"), 404, "no_billing_customer")
    assert "portal" in body["error"]
    assert dodo_api.requests == []


def test_cancel_asks_dodo_to_stop_at_the_period_end_and_keeps_the_limits(
    dodo_api, owner, owner_client
):
    make_paying(owner)
    response = owner_client.delete("/api/v1/user/subscription")
    assert response.status_code == 200, response.content
    subscription = response.json()["subscription"]
    assert subscription["cancelAtPeriodEnd"] is True
    assert subscription["plan"] == "starter" and subscription["monthlyPodcastLimit"] == 50
    sent = dodo_api.last("PATCH", "/subscriptions/sub_live_1")
    assert sent.json == {"cancel_at_next_billing_date": True}

    # Again: nothing more is asked of Dodo.
    assert owner_client.delete("/api/v1/user/subscription").status_code == 200
    assert len([r for r in dodo_api.requests if r.method == "PATCH"]) == 1


def test_cancel_without_a_paid_subscription_is_a_conflict(dodo_api, owner_client):
    assert_error(owner_client.delete("/api/v1/user/subscription"), 409, "no_paid_subscription")


def test_the_client_follows_the_mode_unless_a_base_url_overrides_it(settings):
    settings.DODO_PAYMENTS_API_KEY = "sk"
    settings.DODO_PAYMENTS_BASE_URL = ""
    settings.DODO_PAYMENTS_ENVIRONMENT = "test_mode"
    assert str(dodo.client().base_url).startswith("https://test.dodopayments.com")
    settings.DODO_PAYMENTS_ENVIRONMENT = "live_mode"
    assert str(dodo.client().base_url).startswith("https://live.dodopayments.com")
    settings.DODO_PAYMENTS_BASE_URL = "http://127.0.0.1:9"
    assert str(dodo.client().base_url).startswith("http://127.0.0.1:9")


def test_the_client_ignores_the_process_environment(settings, monkeypatch):
    # Settings are the only source: a stray DODO_PAYMENTS_BASE_URL in the environment
    # neither redirects the client nor trips the SDK's "ambiguous URL" error.
    monkeypatch.setenv("DODO_PAYMENTS_BASE_URL", "http://elsewhere.invalid")
    settings.DODO_PAYMENTS_API_KEY = "sk"
    settings.DODO_PAYMENTS_BASE_URL = ""
    settings.DODO_PAYMENTS_ENVIRONMENT = "test_mode"
    assert str(dodo.client().base_url).startswith("https://test.dodopayments.com")
