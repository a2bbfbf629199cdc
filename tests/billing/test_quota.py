"""Plan limits: every user has a plan, creating a podcast reserves its share, completion
charges the real minutes once, failure and cancellation charge nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from billing.models import Subscription, SubscriptionPlan, UsageRecord, UsageReservation
from billing.plans import PLAN_LIMITS
from billing.services import subscription_for, usage_charge
from podcasts import services as podcast_services
from podcasts.models import Podcast, PodcastStatus
from tests.billing.conftest import complete, fail, queue_podcast
from tests.factories import SAMPLE_NOTES, UserFactory
from tests.utils import assert_error

URL = "/api/v1/podcasts"


def use(subscription: Subscription, *, podcasts: int = 0, minutes: int = 0) -> None:
    Subscription.objects.filter(pk=subscription.pk).update(
        current_podcast_count=podcasts, current_minutes_used=minutes
    )


def test_the_plan_table_is_the_plans(db):
    assert {plan: (limits.podcasts, limits.minutes) for plan, limits in PLAN_LIMITS.items()} == {
        "FREE": (5, 25),
        "STARTER": (50, 250),
        "PRO": (200, 1000),
        "BUSINESS": (None, None),
    }


def test_a_user_created_without_sign_up_gets_the_free_plan_on_first_use(owner_client, owner):
    assert not Subscription.objects.filter(user=owner).exists()
    body = owner_client.get("/api/v1/user/subscription").json()
    assert body["success"] is True
    subscription = body["subscription"]
    assert subscription["plan"] == "free" and subscription["status"] == "active"
    assert subscription["monthlyPodcastLimit"] == 5 and subscription["monthlyMinutesLimit"] == 25
    assert subscription["currentPodcastCount"] == 0 and subscription["reservedPodcastCount"] == 0
    assert subscription["cancelAtPeriodEnd"] is False
    assert Subscription.objects.filter(user=owner).count() == 1


def test_sign_up_gives_the_new_user_a_free_subscription(db, anon_client):
    response = anon_client.post(
        "/api/auth/app/v1/auth/signup",
        {"email": "new@example.com", "password": "a-long-enough-password-42"},
        format="json",
    )
    assert response.status_code in (200, 401), response.content  # 401: verify e-mail next
    subscription = Subscription.objects.get(user__email="new@example.com")
    assert subscription.plan == SubscriptionPlan.FREE
    assert subscription.monthly_podcast_limit == 5
    assert subscription.usage_reset_date > subscription.current_period_start


def test_the_demo_user_gets_a_free_subscription(db):
    call_command("demo_user", "--email", "demo@example.com", "--password", "x-demo-pass-123")
    assert Subscription.objects.get(user__email="demo@example.com").plan == "FREE"


def test_the_profile_includes_the_subscription(owner_client):
    body = owner_client.get("/api/v1/user/profile").json()
    assert body["user"]["email"] == "owner@example.com"
    assert body["subscription"]["plan"] == "free"
    assert body["subscription"]["monthlyPodcastLimit"] == 5


def test_creating_a_podcast_holds_one_podcast_and_its_estimated_minutes(owner, settings):
    queue_podcast(owner, duration="LONG")
    queue_podcast(owner)
    subscription = subscription_for(user=owner)
    held = UsageReservation.objects.filter(subscription=subscription)
    assert held.count() == 2
    assert sorted(held.values_list("minutes", flat=True)) == sorted(
        [settings.ESTIMATED_MINUTES_LONG, settings.ESTIMATED_MINUTES_SHORT]
    )
    subscription.refresh_from_db()
    assert subscription.current_podcast_count == 0  # held, not yet charged


def test_over_the_podcast_limit_the_api_answers_403_with_the_plans_body(owner, owner_client):
    use(subscription_for(user=owner), podcasts=4)
    queue_podcast(owner)  # the fifth, still running, counts against the limit
    response = owner_client.post(URL, {"noteContent": SAMPLE_NOTES}, format="json")
    body = assert_error(response, 403, "plan_limit_reached")
    assert body["reason"] == "podcast_limit"
    assert body["subscription"]["plan"] == "free"
    assert body["subscription"]["usage"] == 5
    assert body["subscription"]["limit"] == 5
    assert body["subscription"]["resetDate"].endswith("Z")
    assert Podcast.objects.filter(user=owner).count() == 1  # the refused one rolled back


def test_over_the_minutes_limit_the_reason_is_minutes(owner, owner_client, settings):
    use(subscription_for(user=owner), podcasts=1, minutes=25 - settings.ESTIMATED_MINUTES_LONG + 1)
    response = owner_client.post(
        URL, {"noteContent": SAMPLE_NOTES, "duration": "long"}, format="json"
    )
    body = assert_error(response, 403, "plan_limit_reached")
    assert body["reason"] == "minutes_limit"
    assert body["subscription"]["limit"] == 25
    # A short one still fits.
    response = owner_client.post(URL, {"noteContent": SAMPLE_NOTES}, format="json")
    assert response.status_code == 202, response.content


def test_a_business_plan_has_no_limits(owner):
    subscription = subscription_for(user=owner)
    Subscription.objects.filter(pk=subscription.pk).update(
        plan="BUSINESS",
        monthly_podcast_limit=None,
        monthly_minutes_limit=None,
        current_podcast_count=10_000,
        current_minutes_used=99_999,
    )
    queue_podcast(owner, duration="LONG")
    assert UsageReservation.objects.count() == 1


def test_completion_charges_the_real_minutes_once_and_releases_the_hold(owner):
    podcast, job = queue_podcast(owner, duration="LONG")
    complete(podcast, job, seconds=125.4)

    subscription = subscription_for(user=owner)
    assert subscription.current_podcast_count == 1
    assert subscription.current_minutes_used == 3  # 125 s rounds up to 3 whole minutes
    assert not UsageReservation.objects.exists()
    record = UsageRecord.objects.get()
    assert record.podcast_id == podcast.id and record.user_id == owner.id
    assert record.duration == 125 and record.credits == 1
    assert record.billing_month == record.recorded_at.strftime("%Y-%m")

    podcast.refresh_from_db()
    assert usage_charge(podcast=podcast) is None  # a second completion charges nothing
    subscription.refresh_from_db()
    assert subscription.current_podcast_count == 1 and subscription.current_minutes_used == 3
    assert UsageRecord.objects.count() == 1


def test_a_failed_job_charges_nothing_and_releases_its_hold(owner):
    podcast, job = queue_podcast(owner)
    fail(podcast, job)
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.FAILED
    assert not UsageReservation.objects.exists()
    assert not UsageRecord.objects.exists()
    assert subscription_for(user=owner).current_podcast_count == 0


def test_deleting_a_queued_podcast_releases_its_hold(owner, owner_client):
    podcast, _ = queue_podcast(owner)
    assert owner_client.delete(f"{URL}/{podcast.id}").status_code == 200
    assert not UsageReservation.objects.exists()


def test_a_staff_cancel_releases_the_hold(owner):
    podcast, _ = queue_podcast(owner)
    assert podcast_services.podcast_cancel(podcast_id=podcast.id) is True
    assert not UsageReservation.objects.exists()


def test_a_retry_must_fit_the_plan_again(owner, owner_client):
    podcast, job = queue_podcast(owner)
    fail(podcast, job)
    use(subscription_for(user=owner), podcasts=5)
    body = assert_error(owner_client.post(f"{URL}/{podcast.id}/retry"), 403, "plan_limit_reached")
    assert body["reason"] == "podcast_limit"
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.FAILED  # refused: nothing re-queued

    use(subscription_for(user=owner), podcasts=4)
    assert owner_client.post(f"{URL}/{podcast.id}/retry").status_code == 202
    assert UsageReservation.objects.filter(podcast_id=podcast.id).count() == 1


def test_limits_are_per_user(owner, other_user):
    use(subscription_for(user=owner), podcasts=5)
    queue_podcast(other_user)  # not affected by the owner's usage
    with pytest.raises(Exception) as refused:
        queue_podcast(owner)
    assert refused.value.code == "plan_limit_reached"


def test_subscription_routes_need_authentication(db, anon_client):
    for method, path in [
        ("get", "/api/v1/user/subscription"),
        ("delete", "/api/v1/user/subscription"),
        ("post", "/api/v1/user/subscription/upgrade"),
        ("get", "/api/v1/user/usage"),
        ("post", "/api/v1/billing/checkout"),
        ("get", "/api/v1/billing/portal"),
    ]:
        assert_error(getattr(anon_client, method)(path), 401, "not_authenticated")


def test_usage_shows_the_current_period_and_one_months_history(owner, owner_client, other_user):
    done, job = queue_podcast(owner)
    complete(done, job, seconds=200)
    queue_podcast(owner)  # running: held, not history
    other, other_job = queue_podcast(other_user)
    complete(other, other_job, seconds=60)
    month = UsageRecord.objects.get(podcast_id=done.id).billing_month

    body = owner_client.get(f"/api/v1/user/usage?month={month}").json()
    assert body["currentPeriod"]["podcastsUsed"] == 1
    assert body["currentPeriod"]["podcastsLimit"] == 5
    assert body["currentPeriod"]["minutesUsed"] == 4
    assert body["currentPeriod"]["minutesLimit"] == 25
    assert body["currentPeriod"]["podcastsReserved"] == 1
    assert "resetDate" in body["currentPeriod"]
    assert [r["podcastId"] for r in body["history"]] == [done.id]  # only the owner's
    assert body["history"][0]["duration"] == 200
    assert body["history"][0]["billingMonth"] == month
    assert body["month"] == {
        "month": month,
        "podcasts": 1,
        "seconds": 200,
        "minutes": 4,
        "credits": 1,
    }

    assert owner_client.get("/api/v1/user/usage").json()["history"][0]["podcastId"] == done.id
    assert owner_client.get("/api/v1/user/usage?month=1999-01").json()["history"] == []


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-01", "january", "2026-00"])
def test_usage_rejects_a_malformed_month(owner_client, month):
    body = assert_error(
        owner_client.get(f"/api/v1/user/usage?month={month}"), 400, "validation_error"
    )
    assert "month" in body["details"]


def test_a_new_users_first_create_makes_the_subscription(db):
    user = UserFactory()
    podcast_services.podcast_create(user=user, note_content=SAMPLE_NOTES, tts_provider="espeak")
    assert Subscription.objects.get(user=user).plan == "FREE"
