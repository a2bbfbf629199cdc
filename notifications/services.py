"""E-mail notifications: record an event's mail inside the caller's transaction, send it from
a Celery task after the commit, once.

Callers (podcasts, billing) pass plain data and never wait for mail: `episode_completed`,
`episode_failed`, `payment_succeeded`, `payment_failed`, `usage_reached`. Each records one
Notification row keyed by the event (unique), so a job or webhook delivered twice records
it once; the task `notifications.send` claims the row, checks the user's switch and (with
ACCOUNT_EMAIL_VERIFICATION=mandatory) the verified address, renders the plain and HTML parts
from templates/notifications/, and sends it with a one-click unsubscribe link (RFC 8058).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    NotificationStatus,
)
from podnex.api.errors import NotFound
from podnex.celery import task_send

logger = logging.getLogger(__name__)

# The switch (a NotificationPreference field) that governs each kind of mail.
SWITCH_OF_KIND = {
    NotificationKind.EPISODE_COMPLETED: "episode_completed",
    NotificationKind.EPISODE_FAILED: "episode_failed",
    NotificationKind.PAYMENT_SUCCEEDED: "payment_receipts",
    NotificationKind.PAYMENT_FAILED: "payment_failed",
    NotificationKind.USAGE_80: "usage_warnings",
    NotificationKind.USAGE_100: "usage_warnings",
}
SWITCHES = tuple(dict.fromkeys(SWITCH_OF_KIND.values()))
SUBJECTS = {
    NotificationKind.EPISODE_COMPLETED: "Your episode “{title}” is ready",
    NotificationKind.EPISODE_FAILED: "Your episode “{title}” could not be made",
    NotificationKind.PAYMENT_SUCCEEDED: "Receipt: PodNex {plan}, {amount}",
    NotificationKind.PAYMENT_FAILED: "Your PodNex payment did not go through",
    NotificationKind.USAGE_80: "You have used 80% of this month's PodNex plan",
    NotificationKind.USAGE_100: "You have used all of this month's PodNex plan",
}
_UNSUBSCRIBE_SALT = "notifications.unsubscribe"
# A claim older than this belongs to a worker that died mid-send: the mail may go again.
_CLAIM_STALE = timedelta(minutes=10)


class TransientMailError(Exception):
    """The mail server could not take the mail now; the task retries later."""


# --- Recording events (called by other apps, inside their transactions) -------------------


def episode_completed(*, user_id: str, podcast_id: str, title: str, duration_seconds: float):
    _request(
        user_id=user_id,
        kind=NotificationKind.EPISODE_COMPLETED,
        event_key=f"EPISODE_COMPLETED:{podcast_id}",
        context={"podcast_id": podcast_id, "title": title, "duration_seconds": duration_seconds},
    )


def episode_failed(*, user_id: str, podcast_id: str, title: str, reason: str, attempt: int = 1):
    # One mail per failed attempt: a retried podcast that fails again is news again.
    _request(
        user_id=user_id,
        kind=NotificationKind.EPISODE_FAILED,
        event_key=f"EPISODE_FAILED:{podcast_id}:{attempt}",
        context={"podcast_id": podcast_id, "title": title, "reason": reason},
    )


def payment_succeeded(
    *,
    user_id: str,
    payment_id: str,
    amount_minor: int | None,
    currency: str,
    plan: str,
    period_start: str | None,
    period_end: str | None,
):
    _request(
        user_id=user_id,
        kind=NotificationKind.PAYMENT_SUCCEEDED,
        event_key=f"PAYMENT_SUCCEEDED:{payment_id}",
        context={
            "payment_id": payment_id,
            "amount": money(amount_minor, currency),
            "plan": plan,
            "period_start": period_start,
            "period_end": period_end,
        },
    )


def payment_failed(
    *, user_id: str, payment_id: str, amount_minor: int | None, currency: str, plan: str
):
    _request(
        user_id=user_id,
        kind=NotificationKind.PAYMENT_FAILED,
        event_key=f"PAYMENT_FAILED:{payment_id}",
        context={"payment_id": payment_id, "amount": money(amount_minor, currency), "plan": plan},
    )


def usage_reached(
    *,
    user_id: str,
    percent: int,
    period_end: str,
    plan: str,
    podcasts_used: int,
    podcasts_limit: int | None,
    minutes_used: int,
    minutes_limit: int | None,
):
    """`percent` is 80 or 100; one mail per threshold and period (the period's end is in
    the key)."""
    kind = NotificationKind.USAGE_100 if percent >= 100 else NotificationKind.USAGE_80
    _request(
        user_id=user_id,
        kind=kind,
        event_key=f"{kind}:{user_id}:{period_end}",
        context={
            "plan": plan,
            "period_end": period_end,
            "podcasts_used": podcasts_used,
            "podcasts_limit": podcasts_limit,
            "minutes_used": minutes_used,
            "minutes_limit": minutes_limit,
        },
    )


def money(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return "—"
    return f"{amount_minor / 100:,.2f} {currency.upper()}".strip()


def _request(*, user_id: str, kind: str, event_key: str, context: dict[str, Any]) -> None:
    """Record the mail of one event and send it after the caller's commit. Never raises:
    a notification problem must not undo a completed podcast or a payment."""
    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the caller's work
            notification, created = Notification.objects.get_or_create(
                event_key=event_key, defaults={"user_id": user_id, "kind": kind, "context": context}
            )
    except Exception:  # noqa: BLE001
        logger.exception("notification %s for %s not recorded", event_key, user_id)
        return
    if created:
        transaction.on_commit(lambda: notification_enqueue(notification_id=notification.id))


def notification_enqueue(*, notification_id: str) -> bool:
    try:
        task_send("notifications.send", args=[notification_id])
    except Exception:  # noqa: BLE001 - the row stays PENDING; the broker may be away
        logger.exception("notification %s not enqueued: it waits for the sweeper", notification_id)
        return False
    Notification.objects.filter(id=notification_id).update(enqueued_at=timezone.now())
    return True


def notifications_requeue_stale(*, now=None, limit: int = 500) -> int:
    """The beat task: send again every mail no worker has tried yet whose message never
    reached the broker (it was away when the mail was recorded), or reached it longer than
    NOTIFICATION_QUEUE_STALE_SECONDS ago (the message was lost), once that long has passed.
    A mail tried before is left to its own retries. A message that turns up twice sends one
    mail: the task claims its row first (`_claim`). Returns how many were handed over."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.NOTIFICATION_QUEUE_STALE_SECONDS)
    stale = Q(enqueued_at__lt=cutoff) | Q(enqueued_at__isnull=True, created_at__lt=cutoff)
    ids = list(
        Notification.objects.filter(stale, status=NotificationStatus.PENDING, attempts=0)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    sent = sum(notification_enqueue(notification_id=notification_id) for notification_id in ids)
    if ids:
        logger.warning("re-enqueued %d of %d notifications that waited too long", sent, len(ids))
    return sent


# --- Sending (the task) ------------------------------------------------------------------


def notification_deliver(*, notification_id: str) -> str:
    """Send one recorded mail unless it was sent, skipped or refused already. Returns the
    outcome. Raises TransientMailError when the server should be tried again later."""
    notification = _claim(notification_id)
    if notification is None:
        return "not_pending"
    user = notification.user
    reason = _skip_reason(notification, user)
    if reason:
        _finish(notification, NotificationStatus.SKIPPED, error=reason)
        return "skipped"
    message = notification_message(notification, user=user)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:  # refusals, disconnects, timeouts
        if _permanent(exc):
            _finish(notification, NotificationStatus.FAILED, error=str(exc))
            return "failed"
        _release(notification, error=str(exc))
        raise TransientMailError(str(exc)) from exc
    _finish(notification, NotificationStatus.SENT, to_email=user.email)
    return "sent"


def _permanent(exc: Exception) -> bool:
    """A 5xx reply refuses the mail for good; 4xx replies and lost connections may pass
    later (RFC 5321 section 4.2.1)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def notification_give_up(*, notification_id: str, error: str) -> None:
    """Out of retries: the mail is recorded as failed."""
    Notification.objects.filter(id=notification_id, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.FAILED, error=error[:2000]
    )


def _claim(notification_id: str) -> Notification | None:
    # One conditional UPDATE: of two workers handed the same message (re-delivery), one wins.
    # The mail is sent outside any transaction, so no database lock is held while the SMTP
    # server answers.
    now = timezone.now()
    claimable = Q(status=NotificationStatus.PENDING) | Q(
        status=NotificationStatus.SENDING, claimed_at__lt=now - _CLAIM_STALE
    )
    claimed = Notification.objects.filter(claimable, id=notification_id).update(
        status=NotificationStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return Notification.objects.select_related("user").get(id=notification_id)


def _release(notification: Notification, *, error: str) -> None:
    Notification.objects.filter(id=notification.id).update(
        status=NotificationStatus.PENDING, error=error[:2000]
    )


def _finish(notification: Notification, status: str, *, error: str = "", to_email: str = ""):
    Notification.objects.filter(id=notification.id).update(
        status=status,
        error=error[:2000],
        to_email=to_email,
        sent_at=timezone.now() if status == NotificationStatus.SENT else None,
    )


def _skip_reason(notification: Notification, user) -> str:
    if not user.is_active or not user.email:
        return "inactive_user"
    if not getattr(preferences_of(user), SWITCH_OF_KIND[notification.kind]):
        return "switched_off"
    # Only account mails (allauth's) go to an address nobody has confirmed.
    if settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory" and not user.email_verified:
        return "email_not_verified"
    return ""


def notification_message(notification: Notification, *, user) -> EmailMultiAlternatives:
    """The mail: plain text and HTML from templates/notifications/<kind>.{txt,html}."""
    switch = SWITCH_OF_KIND[notification.kind]
    unsubscribe = unsubscribe_url(user_id=user.pk, switch=switch)
    context = {
        **notification.context,
        "user": user,
        "kind": notification.kind,
        "base_url": settings.PUBLIC_BASE_URL,
        "links": _links(notification),
        "unsubscribe_url": unsubscribe,
        "preferences_url": f"{settings.PUBLIC_BASE_URL}/",
    }
    context["duration_text"] = _minutes_text(notification.context.get("duration_seconds"))
    name = notification.kind.lower()
    message = EmailMultiAlternatives(
        subject=SUBJECTS[notification.kind].format(**{"title": "", **notification.context}),
        body=render_to_string(f"notifications/{name}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={
            # RFC 8058: mail clients offer one-click unsubscribe, POSTing to this URL.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-PodNex-Notification": notification.kind,
        },
    )
    message.attach_alternative(render_to_string(f"notifications/{name}.html", context), "text/html")
    return message


def _links(notification: Notification) -> dict[str, str]:
    base = settings.PUBLIC_BASE_URL
    podcast_id = notification.context.get("podcast_id")
    links = {"studio": f"{base}/", "billing_portal": f"{base}/?billing=portal"}
    if podcast_id:
        # The studio page's own links (they never expire, unlike the signed audio URL).
        links["episode"] = f"{base}/?podcast={podcast_id}"
        links["download"] = f"{base}/?podcast={podcast_id}&download=1"
        links["retry"] = f"{base}/?podcast={podcast_id}&retry=1"
    return links


def _minutes_text(seconds: float | None) -> str:
    if not seconds:
        return ""
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


# --- Preferences and unsubscribe ---------------------------------------------------------


def preferences_of(user) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.get_or_create(user=user)
    return preference


def preferences_update(*, user, **switches: bool) -> NotificationPreference:
    preference = preferences_of(user)
    for name, value in switches.items():
        if name not in SWITCHES:
            raise ValueError(f"unknown notification switch {name}")
        setattr(preference, name, value)
    preference.save()
    return preference


def unsubscribe_url(*, user_id: str, switch: str) -> str:
    token = signing.dumps({"u": user_id, "s": switch}, salt=_UNSUBSCRIBE_SALT)
    path = reverse("notifications:unsubscribe", kwargs={"token": token})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def unsubscribe_target(*, token: str) -> tuple[Any, str]:
    """The user and switch a token names; NotFound (404) for a tampered or foreign token."""
    try:
        data = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise NotFound("Unknown unsubscribe link") from None
    user = get_user_model().objects.filter(pk=data.get("u")).first()
    if user is None or data.get("s") not in SWITCHES:
        raise NotFound("Unknown unsubscribe link")
    return user, data["s"]


def unsubscribe(*, token: str) -> tuple[Any, str]:
    user, switch = unsubscribe_target(token=token)
    preferences_update(user=user, **{switch: False})
    return user, switch
