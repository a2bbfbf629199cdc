"""/api/v1/admin: staff sessions only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from podcasts.models import PodcastStatus
from tests.conftest import client_for
from tests.factories import PodcastFactory, UserFactory
from tests.utils import assert_error

ROUTES = ["/api/v1/admin/stats", "/api/v1/admin/users", "/api/v1/admin/jobs"]


@pytest.fixture
def staff_client(staff):
    return client_for(staff)


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_requests_are_refused(anon_client, route, db):
    assert_error(anon_client.get(route), 401, "not_authenticated")


@pytest.mark.parametrize("route", ROUTES)
def test_a_signed_in_user_who_is_not_staff_is_refused(owner_client, route):
    assert_error(owner_client.get(route), 403, "forbidden")


@pytest.mark.parametrize("route", ROUTES)
def test_a_staff_members_api_key_is_refused(staff, route):
    from apikeys.scopes import SCOPES
    from apikeys.services import api_key_create

    _, raw_key = api_key_create(user=staff, name="ci", scopes=list(SCOPES))
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    assert_error(client.get(route), 403, "api_key_not_allowed")


def test_a_staff_browser_session_is_accepted(staff):
    browser = Client()
    browser.force_login(staff)
    response = browser.get("/api/v1/admin/stats")
    assert response.status_code == 200
    assert response.json()["success"] is True


def test_stats_count_users_podcasts_and_jobs(staff_client, owner, other_user):
    PodcastFactory.create_batch(2, user=owner, status=PodcastStatus.COMPLETED, audio_duration=90)
    PodcastFactory(user=other_user, status=PodcastStatus.FAILED)
    stats = staff_client.get("/api/v1/admin/stats").json()["stats"]
    assert stats["users"]["total"] == 3  # owner, other user, staff
    assert stats["podcasts"]["byStatus"]["completed"] == 2
    assert stats["podcasts"]["byStatus"]["failed"] == 1
    assert stats["podcasts"]["audioMinutes"] == 3.0
    assert set(stats["subscriptions"]) == {"free", "starter", "pro", "business"}


def test_users_are_paginated_and_searchable(staff_client, db):
    for n in range(5):
        UserFactory(email=f"listener{n}@example.com", name=f"Listener {n}")
    UserFactory(email="host@radio.example", name="Radio Host")

    page = staff_client.get("/api/v1/admin/users", {"page": 2, "limit": 2}).json()
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 7, "totalPages": 4}
    assert len(page["users"]) == 2

    found = staff_client.get("/api/v1/admin/users", {"search": "radio"}).json()
    assert [u["email"] for u in found["users"]] == ["host@radio.example"]
    assert found["users"][0]["podcastCount"] == 0 and found["users"][0]["isStaff"] is False

    bad = staff_client.get("/api/v1/admin/users", {"limit": 1000})
    assert_error(bad, 400, "validation_error")


def test_jobs_show_the_queue_and_failures_with_their_errors(staff_client, owner):
    from podcasts.models import PodcastJob

    failed = PodcastFactory(user=owner, status=PodcastStatus.FAILED)
    PodcastJob.objects.create(
        podcast=failed, job_id="job-failed", status="FAILED", error="TTS quota exhausted"
    )
    queued = PodcastFactory(user=owner)
    PodcastJob.objects.create(podcast=queued, job_id="job-queued")

    body = staff_client.get("/api/v1/admin/jobs", {"status": "failed"}).json()
    assert [j["jobId"] for j in body["jobs"]] == ["job-failed"]
    assert body["jobs"][0]["error"] == "TTS quota exhausted"
    assert body["jobs"][0]["status"] == "failed"
    assert body["counts"]["queued"] == 1 and body["counts"]["failed"] == 1
    assert "queueDepth" in body

    assert_error(
        staff_client.get("/api/v1/admin/jobs", {"status": "weird"}), 400, "validation_error"
    )


# --- The Django admin as the staff dashboard -------------------------------------------------


@pytest.fixture
def admin_browser(db):
    superuser = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(superuser)
    return browser


def test_the_admin_filters_podcasts_by_status_and_plan(admin_browser, owner):
    from billing.models import Subscription

    # The billing app may already give every new user a (free) subscription.
    Subscription.objects.update_or_create(
        user=owner,
        defaults={
            "plan": "PRO",
            "usage_reset_date": timezone.now(),
            "current_period_end": timezone.now(),
        },
    )
    pro = PodcastFactory(user=owner, title="Pro episode", status=PodcastStatus.FAILED)
    PodcastFactory(title="Free episode", status=PodcastStatus.FAILED)

    page = admin_browser.get(
        "/admin/podcasts/podcast/",
        {"status__exact": "FAILED", "user__subscription__plan__exact": "PRO"},
    )
    assert page.status_code == 200
    assert "Pro episode" in page.content.decode()
    assert "Free episode" not in page.content.decode()
    detail = admin_browser.get(f"/admin/podcasts/podcast/{pro.id}/change/")
    assert detail.status_code == 200


def test_the_admin_cancels_a_queued_podcast(admin_browser, owner):
    podcast = PodcastFactory(user=owner)
    response = admin_browser.post(
        "/admin/podcasts/podcast/",
        {"action": "cancel_running", "_selected_action": [podcast.id]},
    )
    assert response.status_code == 302
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.CANCELLED


def test_webhook_deliveries_are_read_only_and_schedules_editable(admin_browser):
    from django_celery_beat.models import PeriodicTask

    assert admin_browser.get("/admin/webhooks_app/webhookdelivery/add/").status_code == 403
    row = PeriodicTask.objects.get(name="podnex-cleanup-daily")
    assert (
        admin_browser.get(f"/admin/django_celery_beat/periodictask/{row.id}/change/").status_code
        == 200
    )
