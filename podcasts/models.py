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
    # A job asked for review stops here: the script is written, nothing is voiced yet.
    SCRIPT_READY = "SCRIPT_READY", "Script ready"


# A job in one of these states may still be worked on; the others are final.
ACTIVE_STATUSES = (PodcastStatus.QUEUED, PodcastStatus.PROCESSING)
# Final for the job; SCRIPT_READY waits for its owner, who may render it (a new job).
FINAL_STATUSES = (
    PodcastStatus.COMPLETED,
    PodcastStatus.FAILED,
    PodcastStatus.CANCELLED,
    PodcastStatus.SCRIPT_READY,
)

JobStatus = PodcastStatus  # the plan's JobStatus enum has the same members
# A podcast waiting for its owner (script to review, or done): its script may be edited
# and rendered. A job in one of these states has ended.
EDITABLE_STATUSES = (PodcastStatus.SCRIPT_READY, PodcastStatus.COMPLETED, PodcastStatus.FAILED)


class JobKind(models.TextChoices):
    GENERATE = "GENERATE", "Generate"  # notes -> script (-> audio unless reviewed)
    RENDER = "RENDER", "Render"  # the stored script -> audio, reusing unchanged lines


class SpeakerRole(models.TextChoices):
    HOST = "host"
    COHOST = "cohost"
    GUEST = "guest"
    EXPERT = "expert"
    NARRATOR = "narrator"


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
    # [{name, role, voice}] as asked on create; empty = the default host and guest.
    speakers = models.JSONField(default=list, blank=True)
    review = models.BooleanField(default=False)  # stop at SCRIPT_READY for the owner to edit
    webhook_url = models.URLField(max_length=2000, null=True, blank=True)
    # The sources the notes were built from, as they were then: [{id, type, title,
    # characters}] (a copy, so deleting a source later does not rewrite the episode).
    sources = models.JSONField(default=list, blank=True)

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

    kind = models.CharField(max_length=10, choices=JobKind.choices, default=JobKind.GENERATE)
    # Lines this job sent to the speech provider, and lines it took from the line cache.
    lines_voiced = models.IntegerField(null=True, blank=True)
    lines_reused = models.IntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status"]), models.Index(fields=["created_at"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Job {self.job_id}"


class PodcastScript(models.Model):
    """The podcast's script as its owner sees and edits it: speakers, and sections of
    lines, each with an id that stays the same across edits (GET/PUT/PATCH .../script).

    `speakers`: [{id, name, role, voice}] (voice: a concrete voice id of the podcast's
    provider). `sections`: [{id, title, lines: [{id, speaker, text}]}], `speaker` being a
    speaker id. `version` counts writes, so a client can tell it is looking at an old copy.
    """

    podcast = models.OneToOneField(Podcast, on_delete=models.CASCADE, related_name="script")
    title = models.CharField(max_length=200)
    speakers = models.JSONField(default=list)
    sections = models.JSONField(default=list)
    version = models.IntegerField(default=1)
    # The last render: {provider, chain, lines: [{sound, speaker, start, end}]}, so that a
    # re-render can keep the audio of unchanged lines (pipeline/splice.py).
    rendered = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Script of {self.podcast_id}"

    def lines(self) -> list[dict]:
        return [line for section in self.sections for line in section["lines"]]


class Feed(models.Model):
    """A user's private podcast feed: its channel settings, secret and uploaded media.

    The secret URL's token is never stored: it is an HMAC of `token_nonce` under
    SECRET_KEY (so the owner can be shown it again), and only its SHA-256 is stored to
    look the feed up. Rotating draws a new nonce, and the old token matches nothing.
    """

    id = IdField()
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    title = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    author = models.CharField(max_length=200, blank=True, default="")
    language = models.CharField(max_length=8, default="en")
    category = models.CharField(max_length=60, default="Education")
    explicit = models.BooleanField(default=False)

    token_nonce = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)

    # Storage keys of the user's uploads (blank: none); durations in seconds.
    image_key = models.CharField(max_length=500, blank=True, default="")
    intro_key = models.CharField(max_length=500, blank=True, default="")
    intro_duration = models.FloatField(null=True, blank=True)
    outro_key = models.CharField(max_length=500, blank=True, default="")
    outro_duration = models.FloatField(null=True, blank=True)
    bed_key = models.CharField(max_length=500, blank=True, default="")
    bed_duration = models.FloatField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Feed of {self.user_id}"
