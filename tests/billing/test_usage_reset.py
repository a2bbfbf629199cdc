"""The usage reset run by django-celery-beat: due subscriptions reset once, dates move on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing.models import Subscription
from billing.services import add_months, subscription_for, usage_reset_due
from billing.tasks import usage_reset_task
from ops.schedules import BEAT_SCHEDULE


def due(user, *, reset_at: datetime, **fields) -> Subscription:
    subscription = subscription_for(user=user)
    Subscription.objects.filter(pk=subscription.pk).update(
        usage_reset_date=reset_at, current_podcast_count=4, current_minutes_used=17, **fields
    )
    subscription.refresh_from_db()
    return subscription


def test_add_months_keeps_the_day_or_clamps_to_the_months_end():
    jan31 = datetime(2026, 1, 31, 10, 30, tzinfo=UTC)
    assert add_months(jan31) == datetime(2026, 2, 28, 10, 30, tzinfo=UTC)
    assert add_months(jan31, 2) == datetime(2026, 3, 31, 10, 30, tzinfo=UTC)
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 15, tzinfo=UTC)
    assert add_months(datetime(2026, 3, 15, tzinfo=UTC), -1) == datetime(2026, 2, 15, tzinfo=UTC)


def test_it_resets_due_subscriptions_and_moves_the_date_one_period_on(owner, other_user):
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    reset_at = datetime(2026, 3, 10, 0, tzinfo=UTC)
    due(owner, reset_at=reset_at)
    not_yet = due(other_user, reset_at=now + timedelta(days=3))

    assert usage_reset_due(now=now) == 1
    subscription = subscription_for(user=owner)
    assert subscription.current_podcast_count == 0 and subscription.current_minutes_used == 0
    assert subscription.usage_reset_date == datetime(2026, 4, 10, 0, tzinfo=UTC)
    assert subscription.current_period_start == reset_at
    assert subscription.current_period_end == datetime(2026, 4, 10, 0, tzinfo=UTC)

    untouched = subscription_for(user=other_user)
    assert untouched.current_podcast_count == 4
    assert untouched.usage_reset_date == not_yet.usage_reset_date


def test_running_it_twice_resets_once(owner):
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    due(owner, reset_at=now - timedelta(hours=1))
    assert usage_reset_due(now=now) == 1
    Subscription.objects.filter(user=owner).update(current_podcast_count=2)  # used since
    assert usage_reset_due(now=now) == 0
    subscription = subscription_for(user=owner)
    assert subscription.current_podcast_count == 2
    assert subscription.usage_reset_date == datetime(2026, 4, 10, 11, tzinfo=UTC)


def test_after_a_long_outage_the_next_date_is_in_the_future(owner):
    now = datetime(2026, 6, 20, tzinfo=UTC)
    due(owner, reset_at=datetime(2026, 3, 5, tzinfo=UTC))
    assert usage_reset_due(now=now) == 1
    assert subscription_for(user=owner).usage_reset_date == datetime(2026, 7, 5, tzinfo=UTC)
    assert usage_reset_due(now=now) == 0


def test_a_cancelled_paid_plan_becomes_free_when_its_period_is_over(owner, other_user):
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    paid = dict(
        plan="STARTER",
        monthly_podcast_limit=50,
        monthly_minutes_limit=250,
        dodo_subscription_id="sub_1",
        cancel_at_period_end=True,
    )
    due(
        owner,
        reset_at=now - timedelta(hours=1),
        current_period_end=now - timedelta(hours=1),
        **paid,
    )
    paid["dodo_subscription_id"] = "sub_2"
    due(
        other_user,
        reset_at=now - timedelta(hours=1),
        current_period_end=now + timedelta(days=2),
        **paid,
    )

    assert usage_reset_due(now=now) == 2
    ended = subscription_for(user=owner)
    assert ended.plan == "FREE" and ended.monthly_podcast_limit == 5
    assert ended.dodo_subscription_id is None and ended.cancel_at_period_end is False
    still_paid = subscription_for(user=other_user)
    assert still_paid.plan == "STARTER" and still_paid.monthly_podcast_limit == 50


def test_the_task_is_on_the_beat_schedule_and_runs_the_reset(owner, settings):
    assert BEAT_SCHEDULE["billing-usage-reset"]["task"] == "billing.usage_reset"
    assert BEAT_SCHEDULE["billing-usage-reset"]["task"] == usage_reset_task.name
    due(owner, reset_at=datetime.now(UTC) - timedelta(minutes=1))
    assert usage_reset_task.apply().get() == 1
    assert subscription_for(user=owner).current_podcast_count == 0
