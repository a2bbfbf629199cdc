"""E-mail notifications: each user's switches, and one row per event that may send a mail.

The row is the record (who, what, when, outcome) and the guard against sending twice: its
`event_key` is unique, so a re-delivered job or webhook that reports the same event finds
the row already there and sends nothing more."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from podnex.ids import new_id


class NotificationKind(models.TextChoices):
    EPISODE_COMPLETED = "EPISODE_COMPLETED"
    EPISODE_FAILED = "EPISODE_FAILED"
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    USAGE_80 = "USAGE_80"
    USAGE_100 = "USAGE_100"


class NotificationStatus(models.TextChoices):
    PENDING = "PENDING"  # recorded, its mail not sent yet
    SENDING = "SENDING"  # claimed by a worker
    SENT = "SENT"
    SKIPPED = "SKIPPED"  # switched off, or the address is not verified
    FAILED = "FAILED"  # refused for good, or out of retries


class NotificationPreference(models.Model):
    """One switch per kind of mail; the usage warnings (80% and 100%) share one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    episode_completed = models.BooleanField(default=True)
    episode_failed = models.BooleanField(default=True)
    payment_receipts = models.BooleanField(default=True)
    payment_failed = models.BooleanField(default=True)
    usage_warnings = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notification switches of {self.user_id}"


class Notification(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    # What happened, once: e.g. "EPISODE_COMPLETED:<podcast id>", "PAYMENT_FAILED:<payment id>",
    # "USAGE_80:<user id>:<end of period>".
    event_key = models.CharField(max_length=255, unique=True)
    context = models.JSONField(default=dict)  # plain data the templates show
    status = models.CharField(
        max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    to_email = models.EmailField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When its message last reached the broker; null while it never did (the broker was
    # away). The sweeper (services.notifications_requeue_stale) sends such rows again.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            # The sweeper's rows (services.notifications_requeue_stale), oldest first, found
            # without reading the sent mails, which are nearly all of the table.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status=NotificationStatus.PENDING, attempts=0),
                name="notification_untried",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.user_id}: {self.status}"
