"""Notification e-mails through the real pipeline: a Celery worker finishes a job and one
mail (plain + HTML, one-click unsubscribe) reaches the file backend; nothing more on a
re-run; switches, unverified addresses, Dodo payment events, plan usage and a busy SMTP
server."""

from __future__ import annotations

import re
import time

import pytest
import requests
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone

from billing import services as billing_services
from billing.models import Subscription
from notifications import services
from notifications.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    NotificationStatus,
)
from ops.schedules import BEAT_SCHEDULE
from podcasts.models import Podcast, PodcastJob
from podcasts.pipeline import generate
from podnex.celery import app
from tests.billing.conftest import complete, fail, post_webhook, queue_podcast
from tests.factories import SAMPLE_NOTES
from tests.notifications.conftest import parts
from tests.utils import broker_unreachable

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(predicate, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    pytest.fail("timed out")


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"<>]+", text)


def test_a_finished_job_mails_its_owner_once(
    live_server, celery_worker, mailbox, owner, owner_client, settings
):
    settings.PUBLIC_BASE_URL = live_server.url
    created = owner_client.post(
        "/api/v1/podcasts",
        {"noteContent": SAMPLE_NOTES, "duration": "short", "title": "All about bees"},
        format="json",
    )
    assert created.status_code == 202, created.content
    podcast_id = created.json()["podcast"]["id"]
    wait_until(
        lambda: Notification.objects.filter(
            event_key=f"EPISODE_COMPLETED:{podcast_id}", status=NotificationStatus.SENT
        ).exists()
    )
    [message] = mailbox.wait_for(1)

    assert message["To"] == owner.email
    assert message["Subject"] == "Your episode “All about bees” is ready"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    unsubscribe = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(message)
    podcast = Podcast.objects.get(id=podcast_id)
    minutes = f"{round(podcast.audio_duration) // 60}:{round(podcast.audio_duration) % 60:02d}"
    assert "All about bees" in text and minutes in text
    assert "All about bees" in html and f'href="{unsubscribe}"' in html
    text_links = links_in(text)
    assert f"{live_server.url}/?podcast={podcast_id}" in text_links
    assert f"{live_server.url}/?podcast={podcast_id}&download=1" in text_links
    assert unsubscribe in text_links
    assert "/media/" not in text + html  # never the signed audio URL, which expires in an hour
    for link in text_links:
        assert requests.get(link, timeout=10).status_code == 200, link

    # The job's final step again (a re-delivered task), the hook again, the send task again:
    # no second mail.
    job = PodcastJob.objects.get(podcast_id=podcast_id)
    generate.podcast_generate(podcast_id=podcast_id, job_id=job.job_id)
    with pytest.raises(generate.JobCancelled):
        generate._job_complete(
            podcast_id=podcast_id, job_id=job.job_id, episode=None, key="podcasts/x.mp3"
        )
    services.episode_completed(
        user_id=owner.id, podcast_id=podcast_id, title="All about bees", duration_seconds=60
    )
    sent = Notification.objects.get(event_key=f"EPISODE_COMPLETED:{podcast_id}")
    celery_worker.send_task("notifications.send", args=[sent.id])
    time.sleep(3)  # the worker had time to pick the message up
    assert len(mailbox.messages()) == 1
    assert Notification.objects.count() == 1
    sent.refresh_from_db()
    assert sent.status == "SENT" and sent.attempts == 1 and sent.to_email == owner.email


def test_the_unsubscribe_link_switches_its_kind_off_without_login(client, owner, mailbox):
    url = services.unsubscribe_url(user_id=owner.id, switch="episode_completed")
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get(f"/{path}")
    assert page.status_code == 200 and b"Unsubscribe" in page.content
    assert services.preferences_of(owner).episode_completed  # GET alone changes nothing

    # RFC 8058 one-click: a POST with this body, no session, no CSRF token.
    done = client.post(f"/{path}", {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and b"no more" in done.content
    preference = NotificationPreference.objects.get(user=owner)
    assert not preference.episode_completed
    assert preference.episode_failed and preference.payment_receipts  # only that kind

    tampered = f"/{path[:-3]}{'A' if path[-3] != 'A' else 'B'}{path[-2:]}"
    assert client.get(tampered).status_code == 404
    assert client.post(tampered, {"List-Unsubscribe": "One-Click"}).status_code == 404
    other = f"/{path.rsplit('/', 1)[0]}/not-a-token"
    assert client.post(other).status_code == 404


def test_a_kind_switched_off_is_recorded_but_not_sent(
    owner, mailbox, django_capture_on_commit_callbacks
):
    services.preferences_update(user=owner, episode_failed=False)
    podcast, job = queue_podcast(owner)
    fail(podcast, job, message="The speech service refused the text.")
    notification = Notification.objects.get(user=owner)
    assert services.notification_deliver(notification_id=notification.id) == "skipped"
    notification.refresh_from_db()
    assert notification.status == "SKIPPED" and notification.error == "switched_off"
    assert mailbox.messages() == []


def test_a_failed_episode_says_why_and_links_a_retry(owner, mailbox):
    podcast, job = queue_podcast(owner)
    fail(podcast, job, message="The speech service refused the text.")
    notification = Notification.objects.get(user=owner, kind="EPISODE_FAILED")
    assert services.notification_deliver(notification_id=notification.id) == "sent"
    [message] = mailbox.messages()
    text, html = parts(message)
    assert "The speech service refused the text." in text and "Nothing was charged" in text
    assert f"/?podcast={podcast.id}&retry=1" in text
    assert "&amp;retry=1" in html


def test_unverified_addresses_get_no_notifications_when_verification_is_mandatory(
    owner, mailbox, settings
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    podcast, job = queue_podcast(owner)
    complete(podcast, job, seconds=70)
    notification = Notification.objects.get(kind="EPISODE_COMPLETED")
    assert services.notification_deliver(notification_id=notification.id) == "skipped"
    assert Notification.objects.get(id=notification.id).error == "email_not_verified"

    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    other, other_job = queue_podcast(owner)
    complete(other, other_job, seconds=70)
    second = Notification.objects.get(event_key=f"EPISODE_COMPLETED:{other.id}")
    assert services.notification_deliver(notification_id=second.id) == "sent"
    assert len(mailbox.messages()) == 1


def test_a_signed_dodo_payment_failed_event_sends_one_mail(
    celery_worker, mailbox, owner, client, webhook_key
):
    payload = {
        "business_id": "bus_1",
        "type": "payment.failed",
        "timestamp": "2026-12-01T10:00:00Z",
        "data": {
            "payment_id": "pay_failed_1",
            "total_amount": 1900,
            "currency": "USD",
            "customer": {"customer_id": "cus_1", "email": owner.email},
            "metadata": {"userId": owner.id, "plan": "STARTER"},
        },
    }
    assert post_webhook(client, payload, webhook_id="msg_pay_1").status_code == 200
    assert post_webhook(client, payload, webhook_id="msg_pay_1").json()["duplicate"] is True
    assert post_webhook(client, payload, webhook_id="msg_pay_2").status_code == 200  # resent
    [message] = mailbox.wait_for(1)
    assert message["Subject"] == "Your PodNex payment did not go through"
    text, _html = parts(message)
    assert "19.00 USD" in text and "STARTER" in text and "/?billing=portal" in text
    time.sleep(2)
    assert len(mailbox.messages()) == 1
    assert Notification.objects.get().event_key == "PAYMENT_FAILED:pay_failed_1"


def test_a_payment_receipt_names_plan_amount_and_period(owner, mailbox, client, webhook_key):
    payload = {
        "business_id": "bus_1",
        "type": "payment.succeeded",
        "timestamp": "2026-12-01T10:00:00Z",
        "data": {
            "payment_id": "pay_ok_1",
            "total_amount": 4900,
            "currency": "usd",
            "metadata": {"userId": owner.id, "plan": "PRO"},
        },
    }
    assert post_webhook(client, payload).status_code == 200
    notification = Notification.objects.get(kind="PAYMENT_SUCCEEDED")
    services.notification_deliver(notification_id=notification.id)
    [message] = mailbox.messages()
    assert message["Subject"] == "Receipt: PodNex PRO, 49.00 USD"
    subscription = Subscription.objects.get(user=owner)
    text, _ = parts(message)
    assert subscription.current_period_end.date().isoformat() in text


def test_plan_usage_warns_at_80_and_100_percent_once_per_period(owner):
    for _ in range(5):  # the FREE plan: 5 podcasts, 25 minutes
        podcast, job = queue_podcast(owner)
        complete(podcast, job, seconds=30)
    usage = Notification.objects.filter(kind__startswith="USAGE").order_by("created_at")
    assert list(usage.values_list("kind", flat=True)) == ["USAGE_80", "USAGE_100"]
    usage_80 = Notification.objects.get(kind="USAGE_80")
    assert usage_80.context["podcasts_used"] == 4 and usage_80.context["podcasts_limit"] == 5
    subscription = Subscription.objects.get(user=owner)
    billing_services._usage_notify(subscription_pk=subscription.pk)  # the same period again
    assert usage.count() == 2

    # A new period warns again.
    Subscription.objects.filter(pk=subscription.pk).update(
        current_podcast_count=3, usage_reset_date=subscription.usage_reset_date.replace(year=2099)
    )
    podcast, job = queue_podcast(owner)
    complete(podcast, job, seconds=30)
    assert Notification.objects.filter(kind="USAGE_80").count() == 2


def test_a_busy_mail_server_is_retried_and_a_refusal_recorded(owner, smtp_server):
    podcast, job = queue_podcast(owner)
    complete(podcast, job, seconds=70)
    notification = Notification.objects.get(kind="EPISODE_COMPLETED")
    smtp_server.refusals = ["421 4.3.2 try again later"]
    with pytest.raises(services.TransientMailError):
        services.notification_deliver(notification_id=notification.id)
    notification.refresh_from_db()
    assert notification.status == "PENDING" and "421" in notification.error
    assert services.notification_deliver(notification_id=notification.id) == "sent"
    assert len(smtp_server.received) == 1
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in smtp_server.received[0]

    other, other_job = queue_podcast(owner)
    complete(other, other_job, seconds=70)
    refused = Notification.objects.get(event_key=f"EPISODE_COMPLETED:{other.id}")
    smtp_server.refusals = ["550 5.1.1 no such mailbox"]
    assert services.notification_deliver(notification_id=refused.id) == "failed"
    assert Notification.objects.get(id=refused.id).status == "FAILED"
    assert not mail.outbox


def test_preferences_are_read_and_switched_through_the_api(owner_client, anon_client):
    got = owner_client.get("/api/v1/user/notifications")
    assert got.status_code == 200
    assert got.json() == {
        "success": True,
        "notifications": {
            "episodeCompleted": True,
            "episodeFailed": True,
            "paymentReceipts": True,
            "paymentFailed": True,
            "usageWarnings": True,
        },
    }
    patched = owner_client.patch(
        "/api/v1/user/notifications", {"usageWarnings": False}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["notifications"]["usageWarnings"] is False
    assert (
        owner_client.get("/api/v1/user/notifications").json()["notifications"]["usageWarnings"]
        is False
    )

    unchanged = owner_client.patch("/api/v1/user/notifications", {}, format="json")
    assert unchanged.status_code == 200 and unchanged.json()["notifications"]["episodeFailed"]
    for bad in ({"usageWarnings": "maybe"}, {"episodeFailed": None}, {"episodeFailed": [1]}):
        response = owner_client.patch("/api/v1/user/notifications", bad, format="json")
        assert response.status_code == 400, bad
        assert response.json()["success"] is False and response.json()["code"]
    assert anon_client.get("/api/v1/user/notifications").status_code == 401


def test_the_worker_retries_a_busy_mail_server_until_it_takes_the_mail(
    celery_worker, smtp_server, owner, settings
):
    settings.NOTIFICATION_RETRY_BACKOFF = 0
    smtp_server.refusals = ["421 4.3.2 busy", "451 4.3.0 try later"]
    podcast, job = queue_podcast(owner)
    complete(podcast, job, seconds=70)  # committed: the task is sent after the commit
    wait_until(lambda: Notification.objects.filter(status="SENT").exists(), timeout=90)
    notification = Notification.objects.get()
    assert notification.attempts == 3
    assert len(smtp_server.received) == 1


def past_the_stale_mark(settings, seconds: int = 1):
    return timezone.now() + timezone.timedelta(
        seconds=settings.NOTIFICATION_QUEUE_STALE_SECONDS + seconds
    )


def test_a_mail_recorded_while_the_broker_was_down_is_sent_by_the_sweeper_once(
    request, mailbox, owner, settings
):
    with broker_unreachable():
        services.episode_completed(
            user_id=owner.id, podcast_id="p1", title="Tides", duration_seconds=200
        )
    notification = Notification.objects.get()
    assert notification.status == NotificationStatus.PENDING
    assert notification.attempts == 0 and notification.enqueued_at is None
    assert services.notifications_requeue_stale() == 0  # not stale yet

    request.getfixturevalue("celery_worker")  # the broker is back, with a real worker
    assert services.notifications_requeue_stale(now=past_the_stale_mark(settings)) == 1
    wait_until(lambda: Notification.objects.filter(status=NotificationStatus.SENT).exists())
    [message] = mailbox.wait_for(1)
    assert message["Subject"] == "Your episode “Tides” is ready"
    notification.refresh_from_db()
    assert notification.attempts == 1 and notification.enqueued_at is not None
    # Sent: later sweeps leave it alone.
    assert services.notifications_requeue_stale(now=past_the_stale_mark(settings, 3600)) == 0
    assert len(mailbox.messages()) == 1


def test_the_sweeper_resends_only_untried_mails_whose_message_is_missing(owner, settings):
    long_ago = timezone.now() - timezone.timedelta(days=1)

    def row(key: str, **fields) -> Notification:
        notification = Notification.objects.create(
            user=owner, kind=NotificationKind.USAGE_80, event_key=key, **fields
        )
        Notification.objects.filter(id=notification.id).update(created_at=long_ago)
        return notification

    for status in (NotificationStatus.SENT, NotificationStatus.SKIPPED, NotificationStatus.FAILED):
        row(f"done-{status}", status=status, attempts=1, enqueued_at=long_ago)
    row("in-its-retries", attempts=2, enqueued_at=long_ago)  # its retry is on its way
    row("just-enqueued", enqueued_at=timezone.now())
    lost = row("message-lost", enqueued_at=long_ago)
    never = row("never-enqueued")

    assert services.notifications_requeue_stale() == 2
    resent = Notification.objects.filter(enqueued_at__gt=long_ago + timezone.timedelta(hours=1))
    assert {lost.id, never.id} <= set(resent.values_list("id", flat=True))
    # Handed to the broker just now: not again until the stale mark passes once more.
    assert services.notifications_requeue_stale() == 0


def test_the_notification_sweeper_is_scheduled():
    entry = BEAT_SCHEDULE["notifications-requeue-stale"]
    assert entry["task"] == "notifications.requeue_stale"
    assert app.tasks[entry["task"]]
