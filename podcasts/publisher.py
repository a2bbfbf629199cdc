"""Live progress of a podcast, publishing side: the worker publishes each progress write, and
the job its final state where it completes or fails (and a cancel where it happens), on a
Redis channel per podcast that podcasts.stream relays to Server-Sent Events clients.

Without Redis nothing is published: the streams read the row instead.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

from podcasts import metrics
from podcasts.models import FINAL_STATUSES, Podcast

logger = logging.getLogger(__name__)

FINAL = {s.lower() for s in FINAL_STATUSES}


def channel_name(podcast_id: str) -> str:
    return f"podnex:podcast:{podcast_id}:events"


@dataclass(frozen=True)
class Snapshot:
    podcast_id: str
    status: str  # lower-case, as the API
    progress: int
    current_step: str | None
    error: str | None = None
    audio_duration: int | None = None

    @property
    def event_id(self) -> str:
        return f"{self.status}.{self.progress}"

    def payload(self) -> dict[str, Any]:
        return {
            "podcastId": self.podcast_id,
            "status": self.status,
            "progress": self.progress,
            "currentStep": self.current_step,
            "error": self.error,
            "audioDuration": self.audio_duration,
        }

    @classmethod
    def of(cls, podcast: Podcast) -> Snapshot:
        return cls(
            podcast_id=podcast.id,
            status=podcast.status.lower(),
            progress=podcast.progress,
            current_step=podcast.current_step,
            error=podcast.error,
            audio_duration=podcast.audio_duration,
        )

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            podcast_id=data["podcastId"],
            status=data["status"],
            progress=int(data["progress"]),
            current_step=data.get("currentStep"),
            error=data.get("error"),
            audio_duration=data.get("audioDuration"),
        )


def snapshot_read(podcast_id: str) -> Snapshot | None:
    podcast = (
        Podcast.objects.filter(id=podcast_id)
        .only("id", "status", "progress", "current_step", "error", "audio_duration", "deleted_at")
        .first()
    )
    return snapshot_of(podcast)


def snapshot_of(podcast: Podcast | None) -> Snapshot | None:
    if podcast is None:
        return None
    snapshot = Snapshot.of(podcast)
    if podcast.deleted_at and snapshot.status not in FINAL:
        # Deleted mid-job: the row says cancelled an instant later; say it now.
        return Snapshot(podcast.id, "cancelled", snapshot.progress, "Cancelled")
    return snapshot


def _publish(snapshot: Snapshot) -> None:
    if not settings.REDIS_URL:
        return  # streams poll the row instead
    try:
        get_redis_connection().publish(
            channel_name(snapshot.podcast_id), json.dumps(snapshot.payload())
        )
    except Exception:  # noqa: BLE001 - a lost event costs a few seconds of lag, not the job
        logger.warning(
            "could not publish progress of podcast %s", snapshot.podcast_id, exc_info=True
        )


def progress_publish(*, podcast_id: str, job_id: str, percent: int, step: str) -> None:
    """Called by the pipeline after each progress write."""
    metrics.pipeline_progress_observe(job_id=job_id, percent=percent)
    _publish(Snapshot(podcast_id, "processing", percent, step))


def status_publish(*, podcast_id: str) -> None:
    """Publish the row's current state (called once a job's final state is committed)."""
    snapshot = snapshot_read(podcast_id)
    if snapshot is not None:
        _publish(snapshot)
