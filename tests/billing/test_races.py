"""Races on PostgreSQL: real threads, each with its own database connection, hitting the API
and the services at the same moment. Skipped on SQLite (which serialises every writer)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from billing.models import Subscription, UsageRecord, UsageReservation
from billing.services import subscription_for, usage_charge, usage_reset_due
from podcasts.models import Podcast
from tests.billing.conftest import fail, queue_podcast
from tests.conftest import client_for
from tests.factories import SAMPLE_NOTES, UserFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(transactional_db, postgres, monkeypatch):
    """PostgreSQL with commits for real; queued jobs are kept out of the broker."""
    from podcasts import tasks

    sent: list = []
    monkeypatch.setattr(
        tasks.podcast_generate_task, "apply_async", lambda args, task_id: sent.append(args)
    )
    return sent


def all_at_once(count: int, work: Callable[[int], object]) -> list:
    """Run `work(i)` in `count` threads released together; return results (or exceptions)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc
        finally:
            connections.close_all()  # this thread's connection, not the test's

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_concurrent_creates_with_four_of_five_used_accept_exactly_one(pg):
    assert connection.vendor == "postgresql"
    user = UserFactory()
    subscription = subscription_for(user=user)
    Subscription.objects.filter(pk=subscription.pk).update(current_podcast_count=4)

    def create(i: int):
        response = client_for(user).post(
            "/api/v1/podcasts", {"noteContent": SAMPLE_NOTES}, format="json"
        )
        return response.status_code, response.json()

    results = all_at_once(20, create)
    statuses = sorted(status for status, _ in results)
    assert statuses == [202] + [403] * 19, results
    refusals = [body for status, body in results if status == 403]
    assert {body["code"] for body in refusals} == {"plan_limit_reached"}
    assert {body["reason"] for body in refusals} == {"podcast_limit"}
    assert Podcast.objects.filter(user=user).count() == 1
    assert UsageReservation.objects.filter(subscription=subscription).count() == 1
    assert len(pg) == 1  # one job enqueued, after its commit


def test_a_new_users_first_burst_creates_one_subscription_and_five_podcasts(pg):
    user = UserFactory()  # no subscription yet: every request races to create it

    def create(i: int):
        return (
            client_for(user)
            .post("/api/v1/podcasts", {"noteContent": SAMPLE_NOTES}, format="json")
            .status_code
        )

    results = all_at_once(12, create)
    assert sorted(results) == [202] * 5 + [403] * 7, results
    assert Subscription.objects.filter(user=user).count() == 1
    assert UsageReservation.objects.count() == 5


def test_a_failing_job_releases_its_reservation(pg):
    user = UserFactory()
    subscription = subscription_for(user=user)
    Subscription.objects.filter(pk=subscription.pk).update(current_podcast_count=4)
    podcast, job = queue_podcast(user)
    with pytest.raises(Exception) as refused:
        queue_podcast(user)
    assert refused.value.code == "plan_limit_reached"

    fail(podcast, job)
    assert not UsageReservation.objects.exists()
    queue_podcast(user)  # the freed slot can be used again


def test_a_completion_run_twice_at_once_charges_once(pg):
    user = UserFactory()
    podcast, _ = queue_podcast(user)
    Podcast.objects.filter(pk=podcast.pk).update(status="COMPLETED", audio_duration=301)
    podcast.refresh_from_db()

    results = all_at_once(2, lambda i: usage_charge(podcast=podcast))
    assert sum(1 for r in results if isinstance(r, UsageRecord)) == 1, results
    assert sum(1 for r in results if r is None) == 1, results
    subscription = subscription_for(user=user)
    assert subscription.current_podcast_count == 1
    assert subscription.current_minutes_used == 6
    assert UsageRecord.objects.filter(podcast_id=podcast.id).count() == 1
    assert not UsageReservation.objects.exists()


def test_the_reset_task_run_twice_at_once_resets_once(pg):
    from datetime import timedelta

    from django.utils import timezone

    user = UserFactory()
    subscription = subscription_for(user=user)
    reset_at = timezone.now() - timedelta(minutes=5)
    Subscription.objects.filter(pk=subscription.pk).update(
        usage_reset_date=reset_at, current_podcast_count=3
    )
    results = all_at_once(2, lambda i: usage_reset_due())
    assert sorted(results) == [0, 1], results
    subscription.refresh_from_db()
    assert subscription.current_podcast_count == 0
    assert subscription.usage_reset_date > timezone.now()
