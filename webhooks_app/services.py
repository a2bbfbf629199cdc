"""Webhook writes and rules: endpoints, secrets, events fanned out to deliveries, and the
attempt-by-attempt delivery with retries and automatic disabling.

How an event travels: the podcast code calls `podcast_event_emit` inside its own transaction,
with the podcast already rendered as the API shows it (this app knows no podcast model);
that only inserts WebhookDelivery rows (state PENDING, due now) and, once the transaction
commits, enqueues one Celery message on the webhook queue. Workers of that queue call
`delivery_attempt`, which claims the row, POSTs it (see transport.py) and records the outcome:
delivered, due again later (retry schedule with jitter), or failed for good. The beat task
`deliveries_retry_due` enqueues whatever is due, so a lost message or a dead worker only
delays a delivery.

Per-request URLs (`webhookUrl` of POST /api/v1/podcasts) become an internal Webhook row of
kind PER_REQUEST, one per user and URL, which receives the events of the podcasts that named
it. It is signed with the user's signing key (GET /api/v1/webhooks/signing-secret), because
no secret could be shown when the URL was given.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from podnex import outbound
from podnex.api.errors import Conflict, Forbidden, InvalidInput, NotFound
from podnex.celery import app as celery_app
from podnex.celery import task_send
from podnex.observability import request_id_headers
from webhooks_app import transport
from webhooks_app.models import (
    SUBSCRIBABLE_EVENTS,
    DeliveryState,
    SigningKey,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookKind,
)

logger = logging.getLogger(__name__)

# Retries due sooner than this go out as Celery countdown messages; later ones are left to
# the beat task, which runs every 5 minutes (long ETAs would sit in worker memory).
COUNTDOWN_LIMIT = 300  # seconds
RESPONSE_KEEP_CHARS = 2000
DELIVER_TASK = "webhooks.deliver"
FANOUT_TASK = "webhooks.fanout"


def event_label(event: str) -> str:
    """The API's name of an event: PODCAST_COMPLETED -> "podcast.completed"."""
    return WebhookEvent(event).label


# --- Endpoints ---------------------------------------------------------------------------


def url_validate(url: str) -> str:
    """A URL a user may register: http(s), not pointing into our own network."""
    try:
        outbound.url_check(url)
    except outbound.UnsafeUrl as exc:
        raise InvalidInput(str(exc), details={"url": [str(exc)]}) from None
    return url


def webhook_get(*, user, webhook_id: str) -> Webhook:
    webhook = Webhook.objects.filter(id=webhook_id, user=user).first()
    if webhook is None:
        raise NotFound("Webhook not found")
    return webhook


def webhook_create(*, user, url: str, events: list[str], active: bool = True) -> Webhook:
    url_validate(url)
    with transaction.atomic():
        # Lock the user's endpoints: two creations at once must not both pass the limit.
        count = len(
            Webhook.objects.select_for_update()
            .filter(user=user, kind=WebhookKind.ENDPOINT)
            .values_list("id", flat=True)
        )
        if count >= settings.WEBHOOK_MAX_ENDPOINTS:
            raise Forbidden(
                f"At most {settings.WEBHOOK_MAX_ENDPOINTS} webhook endpoints per account",
                code="webhook_limit_reached",
            )
        return Webhook.objects.create(
            user=user,
            url=url,
            events=_events_sorted(events),
            active=active,
            secret=transport.secret_generate(),
        )


def webhook_update(
    *,
    user,
    webhook_id: str,
    url: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
) -> Webhook:
    if url is not None:
        url_validate(url)
    with transaction.atomic():
        # Lock: a delivery recording its outcome may be disabling this endpoint right now.
        webhook = Webhook.objects.select_for_update().filter(id=webhook_id, user=user).first()
        if webhook is None:
            raise NotFound("Webhook not found")
        if webhook.kind == WebhookKind.PER_REQUEST and (url is not None or events is not None):
            raise Conflict(
                "A per-request webhook receives every event of the podcasts that named it; "
                "only `active` can be changed",
                code="per_request_webhook",
            )
        if url is not None:
            webhook.url = url
        if events is not None:
            webhook.events = _events_sorted(events)
        if active is not None:
            if active and not webhook.active:
                # Switching back on starts a fresh failure streak.
                webhook.failing_since = None
                webhook.disabled_at = None
                webhook.disabled_reason = None
            webhook.active = active
        webhook.save()
    return webhook


def webhook_delete(*, user, webhook_id: str) -> None:
    deleted, _ = Webhook.objects.filter(id=webhook_id, user=user).delete()
    if not deleted:
        raise NotFound("Webhook not found")


def webhook_secret_rotate(*, user, webhook_id: str) -> Webhook:
    with transaction.atomic():
        # Lock: two rotations at once must leave one previous secret, not lose one.
        webhook = Webhook.objects.select_for_update().filter(id=webhook_id, user=user).first()
        if webhook is None:
            raise NotFound("Webhook not found")
        if webhook.kind == WebhookKind.PER_REQUEST:
            raise Conflict(
                "A per-request webhook is signed with your account's signing secret; "
                "rotate that one instead (POST /api/v1/webhooks/signing-secret/rotate)",
                code="per_request_webhook",
            )
        _rotate(webhook)
        webhook.save()
    return webhook


def signing_key_get(*, user) -> SigningKey:
    """The user's signing key for per-request webhook URLs, created on first use."""
    return _signing_key_of(user_id=user.pk)


def _signing_key_of(*, user_id: str) -> SigningKey:
    key, _ = SigningKey.objects.get_or_create(
        user_id=user_id, defaults={"secret": transport.secret_generate()}
    )
    return key


def signing_key_rotate(*, user) -> SigningKey:
    signing_key_get(user=user)
    with transaction.atomic():
        # Lock: two rotations at once must leave one previous secret, not lose one.
        key = SigningKey.objects.select_for_update().get(user=user)
        _rotate(key)
        key.save()
    return key


def _rotate(holder: Webhook | SigningKey) -> None:
    holder.previous_secret = holder.secret
    holder.previous_secret_expires_at = timezone.now() + timedelta(
        seconds=settings.WEBHOOK_SECRET_GRACE
    )
    holder.secret = transport.secret_generate()


def _events_sorted(events: list[str]) -> list[str]:
    return [e.value for e in SUBSCRIBABLE_EVENTS if e in set(events)]


def _secrets_of(holder: Webhook | SigningKey, now: datetime) -> list[str]:
    active = [holder.secret]
    expires = holder.previous_secret_expires_at
    if holder.previous_secret and expires and expires > now:
        active.append(holder.previous_secret)
    return active


# --- Events ------------------------------------------------------------------------------


def podcast_event_emit(
    *, user_id: str, event: str, data: dict[str, Any], webhook_url: str | None = None
) -> None:
    """Record one event of a podcast for every endpoint of its owner that wants it, and for
    the podcast's own `webhook_url`. `data` is the podcast as the API shows it (the caller
    renders it). Called by the podcast code inside its transaction: it only inserts rows;
    sending happens after the commit, in the webhook workers. It never raises: a webhook
    problem must not fail a podcast."""
    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the caller's work
            delivery_ids = _deliveries_create(
                user_id=user_id, event=event, data=data, webhook_url=webhook_url
            )
    except Exception:  # noqa: BLE001
        logger.exception("webhook event %s of podcast %s not recorded", event, data.get("id"))
        return
    if delivery_ids:
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids))


def _deliveries_create(
    *, user_id: str, event: str, data: dict[str, Any], webhook_url: str | None
) -> list[str]:
    targets = [
        hook
        for hook in Webhook.objects.filter(user_id=user_id, kind=WebhookKind.ENDPOINT, active=True)
        if event in hook.events
    ]
    if webhook_url and webhook_url not in {hook.url for hook in targets}:
        per_request = _per_request_webhook(
            user_id=user_id, url=webhook_url, reactivate=(event == WebhookEvent.PODCAST_CREATED)
        )
        if per_request.active:
            targets.append(per_request)
    if not targets:
        return []
    now = timezone.now()
    payload = {"type": event_label(event), "timestamp": _iso(now), "data": data}
    payload = json.loads(json.dumps(payload, default=str))  # plain JSON, as it will be sent
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook=hook, event=event, payload=payload, created_at=now, next_attempt_at=now
            )
            for hook in targets
        ]
    )
    return [d.id for d in deliveries]


def _per_request_webhook(*, user_id: str, url: str, reactivate: bool) -> Webhook:
    hook = Webhook.objects.filter(user_id=user_id, kind=WebhookKind.PER_REQUEST, url=url).first()
    if hook is None:
        _signing_key_of(user_id=user_id)
        return Webhook.objects.create(
            user_id=user_id,
            kind=WebhookKind.PER_REQUEST,
            url=url,
            events=[e.value for e in SUBSCRIBABLE_EVENTS],
            secret="",  # signed with the user's SigningKey
        )
    if reactivate and not hook.active:
        # A new podcast naming this URL asks for it again: give it a fresh chance.
        hook.active = True
        hook.failing_since = hook.disabled_at = hook.disabled_reason = None
        hook.save()
    return hook


def deliveries_enqueue(delivery_ids: list[str]) -> None:
    """One broker message for the lot (a fan-out task splits it), so the caller — possibly
    the generation task — pays for one publish whatever the number of endpoints. If the
    broker is down, the beat task sends them later: they are due in the database."""
    try:
        if len(delivery_ids) == 1:
            _send(DELIVER_TASK, delivery_ids[0])
        else:
            _send(FANOUT_TASK, list(delivery_ids))
    except Exception:  # noqa: BLE001
        logger.exception("could not enqueue %d webhook deliveries; beat will", len(delivery_ids))


def deliveries_fanout(delivery_ids: list[str]) -> None:
    # One producer (one broker connection and channel) for the whole batch instead of a
    # pool checkout per message: the first deliveries start while the rest are published.
    with celery_app.producer_or_acquire() as producer:
        for delivery_id in delivery_ids:
            _send(DELIVER_TASK, delivery_id, producer=producer)


def _send(task_name: str, argument, **options) -> None:
    task_send(task_name, args=[argument], queue=settings.WEBHOOK_QUEUE, **options)


def deliveries_retry_due(*, limit: int = 5000) -> int:
    """The beat task: enqueue every pending delivery whose time has come."""
    due = list(
        WebhookDelivery.objects.filter(
            state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    if due:
        deliveries_fanout(due)
    return len(due)


def webhook_test(*, user, webhook_id: str) -> WebhookDelivery:
    """Send a signed `webhook.test` event now, in the request, and return the result. Not
    retried: the caller sees the outcome and can simply test again."""
    webhook = webhook_get(user=user, webhook_id=webhook_id)
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        event=WebhookEvent.WEBHOOK_TEST,
        payload={
            "type": event_label(WebhookEvent.WEBHOOK_TEST),
            "timestamp": _iso(now),
            "data": {"webhookId": webhook.id, "message": "A test event from PodNex."},
        },
        created_at=now,
        next_attempt_at=now,
    )
    return delivery_attempt(delivery_id=delivery.id) or delivery


# --- Delivery ----------------------------------------------------------------------------


def delivery_attempt(*, delivery_id: str) -> WebhookDelivery | None:
    """Make one attempt at a pending, due delivery. Returns None when there was nothing to
    do (already delivered, not due, claimed by someone else, deleted)."""
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT * 3 + 30)
    # Claim the row: the first message, a countdown retry and the beat task can all reach for
    # the same delivery; only the one whose UPDATE matches sends it. The lease (due again
    # after it) lets the beat task recover a delivery whose worker died mid-send, without
    # holding a transaction open across the HTTP call.
    claimed = WebhookDelivery.objects.filter(
        id=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease_until)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(id=delivery_id)
    webhook = delivery.webhook
    if not webhook.active and delivery.event != WebhookEvent.WEBHOOK_TEST:
        WebhookDelivery.objects.filter(id=delivery_id).update(
            state=DeliveryState.FAILED,
            next_attempt_at=None,
            last_error=f"Not sent: endpoint disabled ({webhook.disabled_reason or 'by you'})",
        )
        return WebhookDelivery.objects.get(id=delivery_id)

    if webhook.kind == WebhookKind.PER_REQUEST:
        secrets_ = _secrets_of(_signing_key_of(user_id=webhook.user_id), now)
    else:
        secrets_ = _secrets_of(webhook, now)
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = transport.headers_sign(secrets_=secrets_, message_id=delivery.message_id, body=body)
    headers.update(request_id_headers())  # the request that led here, for the receiver's logs
    _db_connection_release()
    outcome = transport.post(url=webhook.url, body=body, headers=headers)
    if outcome.ok:
        return _success_record(delivery=delivery, outcome=outcome)
    return _failure_record(delivery_id=delivery_id, webhook_id=webhook.id, outcome=outcome)


def _db_connection_release() -> None:
    """Give this thread's pooled database connection back while it waits on the endpoint.

    The webhook worker runs WEBHOOK_CONCURRENCY threads; holding a connection through each
    POST meant that only DATABASE_POOL_MAX_SIZE deliveries (10 of 20) were in flight at once
    (bench/webhook_fanout.py). Taking one again from the pool afterwards costs nothing; with
    no pool (a fresh connection per use) or inside a transaction, keep the connection."""
    if connection.in_atomic_block or getattr(connection, "pool", None) is None:
        return
    connection.close()


def _success_record(
    *, delivery: WebhookDelivery, outcome: transport.Outcome
) -> WebhookDelivery | None:
    """The common case in two UPDATEs, no locks: the claim makes this worker the only writer
    of the delivery row, and the endpoint's side (one more success, end of any failure
    streak) is a single UPDATE, which waits for a failure being recorded under the row lock
    below and then applies on top of it, as if the two had run one after the other."""
    now = timezone.now()
    delivery.attempts += 1
    delivery.status = outcome.status
    delivery.response = (outcome.response or "")[:RESPONSE_KEEP_CHARS] or None
    delivery.duration_ms = outcome.duration_ms
    delivery.state = DeliveryState.DELIVERED
    delivery.delivered_at = now
    delivery.next_attempt_at = None
    delivery.last_error = None
    updated = WebhookDelivery.objects.filter(id=delivery.id).update(
        attempts=delivery.attempts,
        status=delivery.status,
        response=delivery.response,
        duration_ms=delivery.duration_ms,
        state=delivery.state,
        delivered_at=now,
        next_attempt_at=None,
        last_error=None,
    )
    if not updated:
        return None  # deleted while we were sending
    Webhook.objects.filter(id=delivery.webhook_id).update(
        success_count=F("success_count") + 1,
        failing_since=None,
        last_triggered_at=now,
        updated_at=now,
    )
    return delivery


def _failure_record(
    *, delivery_id: str, webhook_id: str, outcome: transport.Outcome
) -> WebhookDelivery | None:
    """A failed attempt: count it, schedule the retry or give up, and disable an endpoint
    that has failed for too long."""
    now = timezone.now()
    countdown = None
    with transaction.atomic():
        # Lock the endpoint: deliveries to it failing at once update its counters and its
        # failure streak; unlocked, two failures could both start the streak, or a failure
        # could overwrite the streak a success just ended. (A success's single UPDATE waits
        # for this lock.)
        webhook = Webhook.objects.select_for_update().filter(id=webhook_id).first()
        delivery = WebhookDelivery.objects.select_for_update().filter(id=delivery_id).first()
        if webhook is None or delivery is None:
            return None  # deleted while we were sending
        delivery.attempts += 1
        delivery.status = outcome.status
        delivery.response = (outcome.response or "")[:RESPONSE_KEEP_CHARS] or None
        delivery.duration_ms = outcome.duration_ms
        webhook.last_triggered_at = now
        delivery.last_error = outcome.error
        webhook.failure_count += 1
        webhook.failing_since = webhook.failing_since or now
        delay = _retry_delay(delivery)
        if delay is None:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            if delay <= COUNTDOWN_LIMIT:
                countdown = delay
        _disable_if_failing_too_long(webhook, now=now, error=outcome.error)
        delivery.save()
        webhook.save()
        if countdown is not None:
            transaction.on_commit(lambda: _enqueue_retry(delivery_id, countdown))
    return delivery


def _retry_delay(delivery: WebhookDelivery) -> float | None:
    """Seconds until the next attempt (schedule with +-20% jitter so that endpoints failing
    together are not retried in lockstep), or None when the schedule is used up."""
    if delivery.event == WebhookEvent.WEBHOOK_TEST:
        return None
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    index = delivery.attempts - 1
    if index >= len(schedule):
        return None
    return schedule[index] * random.uniform(0.8, 1.2)


def _disable_if_failing_too_long(webhook: Webhook, *, now: datetime, error: str | None) -> None:
    if not webhook.active or webhook.failing_since is None:
        return
    span = now - webhook.failing_since
    if span < timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER):
        return
    webhook.active = False
    webhook.disabled_at = now
    webhook.disabled_reason = (
        f"Disabled automatically: every delivery failed since {_iso(webhook.failing_since)} "
        f"({_span(span)}). Last error: {error or 'unknown'}. "
        "Fix the endpoint, then set active to true."
    )
    logger.warning("webhook %s disabled after failing for %s", webhook.id, span)


def _enqueue_retry(delivery_id: str, countdown: float) -> None:
    try:
        _send(DELIVER_TASK, delivery_id, countdown=countdown)
    except Exception:  # noqa: BLE001
        logger.exception("could not enqueue retry of %s; beat will", delivery_id)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _span(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
