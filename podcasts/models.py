"""Podcast and PodcastJob, field by field as the plan's Prisma schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from podnex.models import IdField


class PodcastDuration(models.TextChoices):
    SHORT = "SHORT", "Short (3-5 minutes)"
    LONG = "LONG", "Long (8-10 minutes)"


class PodcastStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    PROCESSING = "PROCESSING", "Processing"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


# A job in one of these states may still be worked on; the others are final.
ACTIVE_STATUSES = (PodcastStatus.QUEUED, PodcastStatus.PROCESSING)
FINAL_STATUSES = (PodcastStatus.COMPLETED, PodcastStatus.FAILED, PodcastStatus.CANCELLED)

JobStatus = PodcastStatus  # the plan's JobStatus enum has the same members


class VisiblePodcastManager(models.Manager):
    """Podcasts not soft-deleted: what every user-facing query starts from."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Podcast(models.Model):
    id = IdField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="podcasts"
    )

    title = models.CharField(max_length=200, null=True, blank=True)
    note_id = models.CharField(max_length=200, null=True, blank=True)
    note_content = models.TextField()
    duration = models.CharField(
        max_length=8, choices=PodcastDuration.choices, default=PodcastDuration.SHORT
    )

    status = models.CharField(
        max_length=12, choices=PodcastStatus.choices, default=PodcastStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    current_step = models.CharField(max_length=100, null=True, blank=True)

    # Storage key of the MP3 (the API shows a download URL, never the key).
    audio_url = models.CharField(max_length=500, null=True, blank=True)
    # Seconds, to the millisecond (the plan's Int would be up to half a second off the file).
    audio_duration = models.FloatField(null=True, blank=True)
    audio_size = models.IntegerField(null=True, blank=True)  # bytes
    transcript = models.JSONField(null=True, blank=True)  # [{speaker, text, start, end}]
    # What the user should know about the episode: [{"code", "message"}], e.g. notes too
    # short for the duration asked. Written by the script step.
    warnings = models.JSONField(default=list, blank=True)

    host_voice = models.CharField(max_length=100, default="host")
    guest_voice = models.CharField(max_length=100, default="guest")
    tts_provider = models.CharField(max_length=30, default="unreal")
    language = models.CharField(max_length=8, default="en")  # ISO 639-1 of the script
    instructions = models.TextField(blank=True, default="")  # tone and focus, for the writer
    webhook_url = models.URLField(max_length=2000, null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    error = models.TextField(null=True, blank=True)
    retry_count = models.IntegerField(default=0)

    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = models.Manager()
    visible = VisiblePodcastManager()

    class Meta:
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self) -> str:
        return self.title or f"Podcast {self.id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class PodcastJob(models.Model):
    id = IdField()
    job_id = models.CharField(max_length=255, unique=True)  # the Celery task id
    podcast = models.ForeignKey(Podcast, on_delete=models.CASCADE, related_name="jobs")

    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    current_step = models.CharField(max_length=100, null=True, blank=True)

    attempts = models.IntegerField(default=0)
    priority = models.IntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    error = models.TextField(null=True, blank=True)
    stack_trace = models.TextField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status"]), models.Index(fields=["created_at"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Job {self.job_id}"
