"""Delivery, attempt by attempt: signing, retries on a schedule, the log and the counters,
claiming (no double sends), the beat task, automatic disabling, secret rotation and
per-request URLs. Against a real HTTP receiver on loopback; the worker is not needed here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks import WebhookVerificationError

from ops.schedules import BEAT_SCHEDULE
from podcasts import services as podcast_services
from tests.factories import SAMPLE_NOTES, PodcastFactory
from webhooks_app import services, tasks, transport
from webhooks_app.models import DeliveryState, Webhook, WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture
def enqueued(monkeypatch):
    """Messages the services publish, kept instead of going to the broker."""
    sent: list[tuple[str, dict]] = []
    for task in (tasks.webhook_deliver_task, tasks.webhook_fanout_task):

        def keep(args=None, kwargs=None, _name=task.name, **options):
            sent.append((_name, list(args), options))

        monkeypatch.setattr(task, "apply_async", keep)
    return sent


def endpoint(user, url, events=("PODCAST_COMPLETED",)) -> Webhook:
    return services.webhook_create(user=user, url=url, events=list(events))


def emit(podcast, event=WebhookEvent.PODCAST_COMPLETED) -> list[WebhookDelivery]:
    podcast_services.podcast_event_emit(podcast=podcast, event=event)
    return list(WebhookDelivery.objects.filter(payload__data__id=podcast.id))


def attempt(delivery: WebhookDelivery) -> WebhookDelivery:
    # Make it due now, as the schedule would after waiting.
    WebhookDelivery.objects.filter(id=delivery.id, state=DeliveryState.PENDING).update(
        next_attempt_at=timezone.now()
    )
    return services.delivery_attempt(delivery_id=delivery.id)


def test_an_event_is_signed_per_standard_webhooks_and_carries_the_podcast(owner, receiver):
    server = receiver()
    hook = endpoint(owner, server.url())
    podcast = PodcastFactory(user=owner, title="Bees", status="COMPLETED")
    (delivery,) = emit(podcast)
    result = attempt(delivery)

    assert result.state == DeliveryState.DELIVERED and result.delivered_at is not None
    (request,) = server.requests
    payload = StandardWebhook(hook.secret).verify(request.body, request.headers)
    assert payload["type"] == "podcast.completed"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"]["id"] == podcast.id and payload["data"]["title"] == "Bees"
    assert payload["data"]["status"] == "completed"
    assert "noteContent" not in payload["data"]
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(services.transport.secret_generate()).verify(request.body, request.headers)


def test_only_active_endpoints_of_the_owner_subscribed_to_the_event_receive_it(
    owner, other_user, receiver
):
    server = receiver()
    wanted = endpoint(owner, server.url("/wanted"))
    endpoint(owner, server.url("/other-event"), events=["PODCAST_FAILED"])
    services.webhook_update(
        user=owner, webhook_id=endpoint(owner, server.url("/off")).id, active=False
    )
    endpoint(other_user, server.url("/someone-else"))
    deliveries = emit(PodcastFactory(user=owner))
    assert [d.webhook_id for d in deliveries] == [wanted.id]


def test_nothing_is_sent_before_the_transaction_commits(
    owner, receiver, enqueued, django_capture_on_commit_callbacks
):
    endpoint(owner, receiver().url(), events=["PODCAST_CREATED"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        podcast_services.podcast_create(
            user=owner, note_content=SAMPLE_NOTES, tts_provider="espeak"
        )
    assert [name for name, *_ in enqueued] == []
    for callback in callbacks:
        callback()
    assert ("webhooks.deliver", "webhooks") in [(n, kw["queue"]) for n, _, kw in enqueued]


def test_one_event_for_many_endpoints_costs_the_caller_one_message(
    owner, receiver, enqueued, django_capture_on_commit_callbacks
):
    server = receiver()
    for n in range(5):
        endpoint(owner, server.url(f"/{n}"))
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = emit(PodcastFactory(user=owner))
    assert len(deliveries) == 5
    (message,) = enqueued
    assert message[0] == "webhooks.fanout" and sorted(message[1][0]) == sorted(
        d.id for d in deliveries
    )


def test_a_failure_is_logged_and_retried_later_with_the_same_message_id(
    owner, receiver, settings, enqueued, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 300]
    server = receiver(statuses=[500, 502, 200], answer=b"x" * 5000)
    hook = endpoint(owner, server.url())
    (delivery,) = emit(PodcastFactory(user=owner))

    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        first = attempt(delivery)
    assert first.state == DeliveryState.PENDING and first.attempts == 1
    assert first.status == 500 and first.last_error == "HTTP 500"
    assert len(first.response) == 2000  # truncated
    assert before + timedelta(seconds=4) <= first.next_attempt_at
    assert first.next_attempt_at <= timezone.now() + timedelta(seconds=6)
    # A short wait goes out as a countdown message; the beat task covers longer ones.
    (retry,) = [kw for name, _, kw in enqueued if name == "webhooks.deliver"]
    assert 4 <= retry["countdown"] <= 6

    second = attempt(delivery)
    assert second.attempts == 2 and second.status == 502
    assert timedelta(seconds=239) <= second.next_attempt_at - timezone.now()

    third = attempt(delivery)
    assert third.state == DeliveryState.DELIVERED and third.attempts == 3
    assert third.last_error is None and third.next_attempt_at is None

    ids = {r.headers["webhook-id"] for r in server.requests}
    assert ids == {delivery.message_id} and len(server.requests) == 3
    hook.refresh_from_db()
    assert (hook.success_count, hook.failure_count) == (1, 2)
    assert hook.failing_since is None and hook.last_triggered_at is not None


def test_it_gives_up_when_the_schedule_is_used_up(owner, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [1]
    server = receiver(statuses=[500])
    endpoint(owner, server.url())
    (delivery,) = emit(PodcastFactory(user=owner))
    attempt(delivery)
    last = attempt(delivery)
    assert last.state == DeliveryState.FAILED and last.attempts == 2
    assert last.next_attempt_at is None
    assert services.delivery_attempt(delivery_id=delivery.id) is None
    assert len(server.requests) == 2


def test_a_delivery_is_sent_once_however_many_messages_ask_for_it(owner, receiver):
    server = receiver()
    endpoint(owner, server.url())
    (delivery,) = emit(PodcastFactory(user=owner))
    assert attempt(delivery).state == DeliveryState.DELIVERED
    # The first message, a countdown retry and the beat task may all arrive: no resend.
    assert services.delivery_attempt(delivery_id=delivery.id) is None
    assert len(server.requests) == 1


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_runs_out(owner, receiver):
    endpoint(owner, receiver().url())
    (delivery,) = emit(PodcastFactory(user=owner))
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(id=delivery.id, next_attempt_at__lte=now).update(
        next_attempt_at=now + timedelta(seconds=60)  # as a worker that died mid-send left it
    )
    assert claimed == 1
    assert services.delivery_attempt(delivery_id=delivery.id) is None
    assert services.deliveries_retry_due() == 0


def test_the_beat_task_enqueues_what_is_due(owner, receiver, enqueued):
    server = receiver()
    endpoint(owner, server.url())
    due, later = emit(PodcastFactory(user=owner)), emit(PodcastFactory(user=owner))
    WebhookDelivery.objects.filter(id=later[0].id).update(
        next_attempt_at=timezone.now() + timedelta(minutes=30)
    )
    assert tasks.webhooks_retry_due_task() == 1
    assert [args for name, args, _ in enqueued] == [[due[0].id]]


def test_the_beat_schedule_runs_the_retry_task_every_five_minutes(settings):
    entry = BEAT_SCHEDULE["webhooks-retry-due"]
    assert entry["task"] == tasks.webhooks_retry_due_task.name
    assert entry["schedule"].minute == set(range(0, 60, 5))


def test_an_endpoint_failing_for_too_long_is_disabled_and_says_why(owner, receiver, settings):
    settings.WEBHOOK_DISABLE_AFTER = 3600
    server = receiver(statuses=[500])
    hook = endpoint(owner, server.url())
    (first,) = emit(PodcastFactory(user=owner))
    attempt(first)
    hook.refresh_from_db()
    assert hook.active and hook.failing_since is not None

    Webhook.objects.filter(id=hook.id).update(failing_since=timezone.now() - timedelta(hours=2))
    (second,) = emit(PodcastFactory(user=owner))
    attempt(second)
    hook.refresh_from_db()
    assert hook.active is False and hook.disabled_at is not None
    assert "Disabled automatically" in hook.disabled_reason and "HTTP 500" in hook.disabled_reason

    # What was still pending is not sent to a disabled endpoint.
    sent = len(server.requests)
    left = attempt(first)
    assert left.state == DeliveryState.FAILED and left.last_error.startswith("Not sent")
    assert len(server.requests) == sent
    assert emit(PodcastFactory(user=owner)) == []


def test_a_success_ends_the_failure_streak(owner, receiver):
    server = receiver(statuses=[500, 200])
    hook = endpoint(owner, server.url())
    (delivery,) = emit(PodcastFactory(user=owner))
    attempt(delivery)
    attempt(delivery)
    hook.refresh_from_db()
    assert hook.failing_since is None and hook.active


def test_a_successful_attempt_returns_what_it_recorded(owner, receiver):
    hook = endpoint(owner, receiver().url())
    (delivery,) = emit(PodcastFactory(user=owner))
    result = attempt(delivery)
    stored = WebhookDelivery.objects.get(id=delivery.id)
    fields = ("state", "status", "attempts", "response", "duration_ms", "delivered_at")
    assert [getattr(result, f) for f in fields] == [getattr(stored, f) for f in fields]
    assert stored.state == DeliveryState.DELIVERED and stored.attempts == 1
    assert stored.next_attempt_at is None and stored.last_error is None
    hook.refresh_from_db()
    assert hook.success_count == 1 and hook.last_triggered_at == stored.delivered_at


def test_an_endpoint_deleted_while_its_delivery_is_sent_stays_deleted(owner, receiver, monkeypatch):
    hook = endpoint(owner, receiver().url())
    (delivery,) = emit(PodcastFactory(user=owner))
    post = transport.post

    def post_then_delete(**kwargs):
        outcome = post(**kwargs)
        Webhook.objects.filter(id=hook.id).delete()
        return outcome

    monkeypatch.setattr(transport, "post", post_then_delete)
    assert attempt(delivery) is None
    assert not Webhook.objects.filter(id=hook.id).exists()
    assert not WebhookDelivery.objects.filter(id=delivery.id).exists()


def test_a_slow_endpoint_times_out(owner, receiver, settings):
    settings.WEBHOOK_TIMEOUT = 0.3
    server = receiver(hang=True)
    endpoint(owner, server.url())
    (delivery,) = emit(PodcastFactory(user=owner))
    result = attempt(delivery)
    assert result.status == 0 and "timed out" in result.last_error.lower()
    assert result.state == DeliveryState.PENDING


def test_a_dead_endpoint_is_a_failed_attempt(owner, receiver):
    server = receiver()
    url = server.url()
    server.close()
    endpoint(owner, url)
    (delivery,) = emit(PodcastFactory(user=owner))
    result = attempt(delivery)
    assert result.status == 0 and result.last_error.startswith("Connection failed")


def test_after_rotation_both_secrets_verify_during_the_grace_period(owner, receiver, settings):
    server = receiver()
    hook = endpoint(owner, server.url())
    old_secret = hook.secret
    new_secret = services.webhook_secret_rotate(user=owner, webhook_id=hook.id).secret
    (delivery,) = emit(PodcastFactory(user=owner))
    attempt(delivery)
    request = server.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    StandardWebhook(old_secret).verify(request.body, request.headers)
    StandardWebhook(new_secret).verify(request.body, request.headers)

    Webhook.objects.filter(id=hook.id).update(previous_secret_expires_at=timezone.now())
    (later,) = emit(PodcastFactory(user=owner))
    attempt(later)
    request = server.requests[-1]
    StandardWebhook(new_secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(old_secret).verify(request.body, request.headers)


def test_a_podcast_webhook_url_gets_its_podcasts_events_signed_with_the_users_key(owner, receiver):
    server = receiver()
    mine = PodcastFactory(user=owner, webhook_url=server.url("/per-request"))
    not_mine = PodcastFactory(user=owner)  # no webhookUrl: nothing for that URL
    for event in (WebhookEvent.PODCAST_CREATED, WebhookEvent.PODCAST_FAILED):
        for delivery in emit(mine, event):
            attempt(delivery)
    assert emit(not_mine) == []

    key = services.signing_key_get(user=owner).secret
    types = [StandardWebhook(key).verify(r.body, r.headers)["type"] for r in server.requests]
    assert types == ["podcast.created", "podcast.failed"]
    (hook,) = Webhook.objects.filter(user=owner, kind="PER_REQUEST")
    assert hook.url == mine.webhook_url and hook.success_count == 2
    # A second podcast naming the same URL reuses the row.
    emit(PodcastFactory(user=owner, webhook_url=mine.webhook_url))
    assert Webhook.objects.filter(user=owner, kind="PER_REQUEST").count() == 1


def test_a_url_both_registered_and_given_per_request_gets_one_copy(owner, receiver):
    server = receiver()
    endpoint(owner, server.url())
    podcast = PodcastFactory(user=owner, webhook_url=server.url())
    assert len(emit(podcast)) == 1


def test_a_webhook_problem_never_fails_the_podcast(owner, monkeypatch, receiver):
    endpoint(owner, receiver().url(), events=["PODCAST_CREATED"])

    def broken(**kwargs):
        raise RuntimeError("bug in webhooks")

    monkeypatch.setattr(services, "_deliveries_create", broken)
    podcast, job = podcast_services.podcast_create(
        user=owner, note_content=SAMPLE_NOTES, tts_provider="espeak"
    )
    assert podcast.pk and job.pk
