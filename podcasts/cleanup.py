"""The podcasts' part of the daily cleanup: what the plan's retention rules say may go, and
only that. (ops.tasks runs it beside the other apps' purges.)"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from podcasts import media, storage
from podcasts.models import FINAL_STATUSES, Podcast, PodcastJob

_BATCH = 200


@dataclass
class CleanupReport:
    jobs: int = 0
    podcasts: int = 0
    audio_files: int = 0


def podcasts_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete finished jobs older than CLEANUP_JOB_DAYS and podcasts soft-deleted more than
    CLEANUP_DELETED_PODCAST_DAYS ago together with their stored audio.

    Idempotent, and two runs at once do not trip over each other: each batch of podcasts is
    locked with SKIP LOCKED, so a second run takes other rows or none."""
    now = now or timezone.now()
    report = CleanupReport()

    job_cutoff = now - timedelta(days=settings.CLEANUP_JOB_DAYS)
    _, deleted = PodcastJob.objects.filter(
        status__in=FINAL_STATUSES, created_at__lt=job_cutoff
    ).delete()
    report.jobs = deleted.get(PodcastJob._meta.label, 0)

    podcast_cutoff = now - timedelta(days=settings.CLEANUP_DELETED_PODCAST_DAYS)
    while True:
        with transaction.atomic():
            batch = list(
                Podcast.objects.select_for_update(skip_locked=True)
                .filter(deleted_at__lt=podcast_cutoff)
                .only("id", "user_id", "audio_url")[:_BATCH]
            )
            if not batch:
                break
            for podcast in batch:
                # Audio first: a crash after this leaves a row the next run finishes, never an
                # orphan file nobody points at.
                for key in {
                    podcast.audio_url,
                    storage.audio_key(user_id=podcast.user_id, podcast_id=podcast.id),
                }:
                    if key and storage.audio_exists(key=key):
                        storage.audio_delete(key=key)
                        report.audio_files += 1
                for kind in ("image/jpeg", "image/png"):  # the cover beside the audio
                    storage.audio_delete(
                        key=media.episode_cover_key(
                            user_id=podcast.user_id, podcast_id=podcast.id, content_type=kind
                        )
                    )
            Podcast.objects.filter(id__in=[p.id for p in batch]).delete()
            report.podcasts += len(batch)

    return asdict(report)
