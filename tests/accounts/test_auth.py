"""Accounts through allauth's headless API: e-mail verification, password reset, profile."""

import re
from urllib.parse import unquote

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from billing.models import Subscription
from tests.utils import assert_error

APP = "/api/auth/app/v1"


def test_sign_up_creates_a_user_logged_in_by_email(db):
    client = APIClient()
    response = client.post(
        f"{APP}/auth/signup",
        {"email": "New@Example.com", "password": "Sturdy-Passw0rd!"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["meta"]["session_token"]
    user = User.objects.get(email__iexact="new@example.com")
    assert user.check_password("Sturdy-Passw0rd!")
    assert Subscription.objects.filter(user=user, plan="FREE").exists()


def test_a_weak_password_is_refused(db):
    response = APIClient().post(
        f"{APP}/auth/signup", {"email": "a@example.com", "password": "123"}, format="json"
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="a@example.com").exists()


@pytest.mark.parametrize(
    "password",
    [
        "margaret.hamilton@example.com",
        "MARGARET.HAMILTON@EXAMPLE.COM",
        "margaret.hamilton",
        "hamilton1969",
    ],
)
def test_a_password_like_the_submitted_email_is_refused(db, password):
    response = APIClient().post(
        f"{APP}/auth/signup",
        {"email": "margaret.hamilton@example.com", "password": password},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert [e["param"] for e in response.json()["errors"]] == ["password"]
    assert not User.objects.filter(email="margaret.hamilton@example.com").exists()


def test_mandatory_verification_holds_the_login_until_the_emailed_key_is_used(db, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    client = APIClient()
    response = client.post(
        f"{APP}/auth/signup",
        {"email": "v@example.com", "password": "Sturdy-Passw0rd!"},
        format="json",
    )
    assert response.status_code == 401  # a pending flow, not a session
    flows = {flow["id"] for flow in response.json()["data"]["flows"] if flow.get("is_pending")}
    assert "verify_email" in flows
    pending_token = response.json()["meta"]["session_token"]  # the flow lives in this session
    assert len(mail.outbox) == 1
    key = unquote(re.search(r"/account/verify-email/(\S+)", mail.outbox[0].body).group(1))

    verified = client.post(
        f"{APP}/auth/email/verify", {"key": key}, format="json", HTTP_X_SESSION_TOKEN=pending_token
    )
    assert verified.status_code == 200
    token = verified.json()["meta"]["session_token"]
    profile = client.get("/api/v1/user/profile", HTTP_X_SESSION_TOKEN=token).json()
    assert profile["user"]["emailVerified"] is True


def test_password_reset_sends_a_link_that_sets_a_new_password(db, owner):
    client = APIClient()
    response = client.post(f"{APP}/auth/password/request", {"email": owner.email}, format="json")
    assert response.status_code == 200
    assert len(mail.outbox) == 1
    key = unquote(re.search(r"/account/password/reset/key/(\S+)", mail.outbox[0].body).group(1))

    reset = client.post(
        f"{APP}/auth/password/reset", {"key": key, "password": "Brand-New-Pw9!"}, format="json"
    )
    assert reset.status_code in (200, 401)  # 401 = reset done, log in again
    owner.refresh_from_db()
    assert owner.check_password("Brand-New-Pw9!")


def test_profile_can_be_read_and_updated(owner_client, owner):
    body = owner_client.get("/api/v1/user/profile").json()
    assert body["user"]["email"] == owner.email and body["user"]["id"] == owner.id
    updated = owner_client.patch(
        "/api/v1/user/profile",
        {"name": "Ada", "image": "https://img.example.com/a.png"},
        format="json",
    ).json()
    assert updated["user"]["name"] == "Ada"
    owner.refresh_from_db()
    assert owner.name == "Ada"


def test_profile_update_rejects_bad_input_and_ignores_read_only_fields(owner_client, owner):
    bad = owner_client.patch("/api/v1/user/profile", {"image": "not a url"}, format="json")
    assert_error(bad, 400, "validation_error")
    owner_client.patch("/api/v1/user/profile", {"email": "evil@example.com"}, format="json")
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"
