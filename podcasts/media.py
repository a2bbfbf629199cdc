"""A user's uploaded media in storage (cover art, intro, outro, music bed) and the episode
covers stored beside the audio: what the generation job reads and writes.

Kept apart from `podcasts.feed` (which manages the uploads and serves them) so that the
pipeline can read them without importing the feed, which itself uses the pipeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from podcasts import artwork, storage
from podcasts.models import Feed, Podcast
from podcasts.providers.base import SpeechClip

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserMedia:
    intro: SpeechClip | None = None
    outro: SpeechClip | None = None
    bed: SpeechClip | None = None
    cover: bytes | None = None  # the uploaded cover art (JPEG)


def read(key: str) -> bytes:
    """The stored object's bytes; FileNotFoundError when there is none."""
    service = storage.storage_service()
    if not key or not service.exists(key):
        raise FileNotFoundError(key)
    with service.storage.open(key, "rb") as handle:
        return handle.read()


def user_folder(user_id: str) -> str:
    return f"podcasts/{user_id}/feed/"


def user_media(*, user_id: str) -> UserMedia:
    """The user's intro, outro, bed and cover, for an episode being made. A file that has
    gone missing is skipped (logged): the episode is still made, without it."""
    feed = Feed.objects.filter(user_id=user_id).first()
    if feed is None:
        return UserMedia()

    def load(key: str) -> bytes | None:
        if not key:
            return None
        try:
            return read(key)
        except FileNotFoundError:
            logger.warning("feed %s: %s is missing", feed.id, key)
            return None

    def clip(key: str) -> SpeechClip | None:
        data = load(key)
        return SpeechClip(data=data, audio_format=key.rsplit(".", 1)[-1]) if data else None

    return UserMedia(
        intro=clip(feed.intro_key),
        outro=clip(feed.outro_key),
        bed=clip(feed.bed_key),
        cover=load(feed.image_key),
    )


def episode_cover_key(*, user_id: str, podcast_id: str, content_type: str) -> str:
    extension = "png" if content_type == "image/png" else "jpg"
    return f"podcasts/{user_id}/{podcast_id}/cover.{extension}"


def episode_cover_store(podcast: Podcast, cover: bytes) -> None:
    """Store an episode's cover as `cover.jpg` or `cover.png`, removing the other one."""
    content_type = artwork.content_type_of(cover)
    key = episode_cover_key(
        user_id=podcast.user_id, podcast_id=podcast.id, content_type=content_type
    )
    other = episode_cover_key(
        user_id=podcast.user_id,
        podcast_id=podcast.id,
        content_type="image/jpeg" if content_type == "image/png" else "image/png",
    )
    service = storage.storage_service()
    service.upload(cover, key, content_type=content_type)
    service.delete(other)
