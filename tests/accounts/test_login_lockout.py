"""Login brute force: every way to log in (the auth API for apps and browsers, /admin/login/,
password-reset keys) shares one failure counter per account and one per IP address; five
failures on either lock it, whichever door the next try comes through."""

from __future__ import annotations

import pytest
from allauth.account.utils import user_pk_to_url_str
from django.test import Client

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"
APP = "/api/auth/app/v1/auth/login"
BROWSER = "/api/auth/browser/v1/auth/login"
RESET = "/api/auth/app/v1/auth/password/reset"


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def client(ip: str = "203.0.113.10") -> Client:
    return Client(REMOTE_ADDR=ip)


def api_login(email: str, password: str, *, ip: str = "203.0.113.10", url: str = APP):
    return client(ip).post(
        url, {"email": email, "password": password}, content_type="application/json"
    )


def admin_login(email: str, password: str, *, ip: str = "203.0.113.10"):
    return client(ip).post("/admin/login/?next=/admin/", {"username": email, "password": password})


def assert_locked(response) -> None:
    assert response.status_code == 429, response.content[:300]
    assert int(response["Retry-After"]) > 0


def test_the_api_login_locks_after_five_failures_even_for_the_right_password(db, owner):
    for _ in range(4):
        assert api_login(owner.email, "wrong-password").status_code == 400
    assert_locked(api_login(owner.email, "wrong-password"))  # the fifth failure locks
    response = api_login(owner.email, PASSWORD)
    assert_locked(response)
    assert response.json()["code"] == "too_many_login_failures"


def test_the_admin_login_locks_too(staff):
    for _ in range(12):
        assert admin_login(staff.email, "wrong-password").status_code in (200, 429)
    assert_locked(admin_login(staff.email, PASSWORD))


def test_failures_through_every_door_add_up_per_account(staff):
    for _ in range(2):
        api_login(staff.email, "wrong", ip="198.51.100.1")
    api_login(staff.email, "wrong", ip="198.51.100.2", url=BROWSER)
    admin_login(staff.email, "wrong", ip="198.51.100.3")
    admin_login(staff.email, "wrong", ip="198.51.100.4")
    # Five failures from four addresses: the account is locked wherever the next try is from.
    assert_locked(api_login(staff.email, PASSWORD, ip="198.51.100.9"))
    assert_locked(admin_login(staff.email, PASSWORD, ip="198.51.100.9"))


def test_an_address_guessing_at_many_accounts_is_locked_out(db, owner):
    for n in range(5):
        api_login(f"nobody{n}@example.com", "guess", ip="192.0.2.66")
    assert_locked(api_login(owner.email, PASSWORD, ip="192.0.2.66"))
    assert api_login(owner.email, PASSWORD, ip="192.0.2.67").status_code == 200


def test_guessed_password_reset_keys_count_against_the_account(db, owner):
    uid = user_pk_to_url_str(owner)
    for n in range(5):
        response = client(f"198.51.100.{n}").post(
            RESET,
            {"key": f"{uid}-not-the-token-{n}", "password": "Brand-New-Pw9!"},
            content_type="application/json",
        )
        assert response.status_code == (429 if n == 4 else 400)
    assert_locked(api_login(owner.email, PASSWORD, ip="198.51.100.77"))
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_locked_address_cannot_try_reset_keys_either(db, owner):
    for n in range(5):
        api_login(f"nobody{n}@example.com", "guess", ip="192.0.2.99")
    response = client("192.0.2.99").get(RESET, HTTP_X_PASSWORD_RESET_KEY="1-abc")
    assert_locked(response)
    assert response.json()["code"] == "too_many_login_failures"


def test_a_forwarded_for_header_does_not_move_the_address(db, owner):
    for n in range(5):
        Client(REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}").post(
            APP,
            {"email": f"nobody{n}@example.com", "password": "x"},
            content_type="application/json",
        )
    assert_locked(api_login(owner.email, PASSWORD, ip="192.0.2.50"))


def test_four_failures_do_not_lock(db, owner):
    for _ in range(4):
        api_login(owner.email, "wrong-password")
    assert api_login(owner.email, PASSWORD).status_code == 200
