"""The private feed: settings, its secret token, and the user's uploaded cover and clips.

The token is the only credential of `/feeds/<token>.xml`, so:
- it is derived, never stored: HMAC-SHA256 of a random nonce under FEED_TOKEN_SECRET, so
  the owner can be shown the URL again while a copy of the database alone reveals none;
- the feed is found by the token's SHA-256 (an index lookup on a value the caller cannot
  steer towards a partial match), then the token is compared in constant time;
- rotating draws a new nonce: the old token's hash matches no row from that moment.

Uploads are checked completely before anything is written; each is stored under a fresh
key in the user's folder (`podcasts/<user id>/feed/`), and the one it replaces is removed
after the database points at the new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction

from podcasts import artwork, media, storage
from podcasts.chapters import chapters_of
from podcasts.models import Feed, Podcast, PodcastStatus
from podcasts.pipeline.clips import ClipRejected, clip_inspect
from podcasts.pipeline.tags import mp3_tag
from podnex.api.errors import Conflict, DomainError, InvalidInput, NotFound
from podnex.ids import new_id

logger = logging.getLogger(__name__)

CLIP_KINDS = ("intro", "outro", "bed")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"
    message = "The file is too large"


# --- Token ----------------------------------------------------------------------------------


def _token_of(nonce: str) -> str:
    secret = (settings.FEED_TOKEN_SECRET or settings.SECRET_KEY).encode()
    digest = hmac.new(secret, f"podnex-feed:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _hash_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token(feed: Feed) -> str:
    return _token_of(feed.token_nonce)


def feed_url(feed: Feed) -> str:
    return f"{settings.PUBLIC_BASE_URL}/feeds/{feed_token(feed)}.xml"


def feed_get_or_create(*, user) -> Feed:
    feed = Feed.objects.filter(user=user).first()
    if feed is None:
        nonce = secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                feed = Feed.objects.create(
                    user=user, token_nonce=nonce, token_hash=_hash_of(_token_of(nonce))
                )
        except IntegrityError:
            # Two first requests at once: the other one created it.
            feed = Feed.objects.get(user=user)
    expected = _hash_of(feed_token(feed))
    if feed.token_hash != expected:
        # FEED_TOKEN_SECRET changed: the URL shown is the one that works from now on.
        Feed.objects.filter(id=feed.id).update(token_hash=expected)
        feed.token_hash = expected
    return feed


def feed_by_token(token: str) -> Feed | None:
    """The feed whose secret `token` is, or None (unknown, rotated or malformed)."""
    if not _TOKEN.match(token or ""):
        return None
    feed = Feed.objects.select_related("user").filter(token_hash=_hash_of(token)).first()
    if feed is None or not hmac.compare_digest(feed_token(feed), token):
        return None
    if not feed.user.is_active:
        return None
    return feed


def feed_rotate(*, user) -> Feed:
    feed = feed_get_or_create(user=user)
    feed.token_nonce = secrets.token_urlsafe(32)
    feed.token_hash = _hash_of(feed_token(feed))
    feed.save(update_fields=["token_nonce", "token_hash", "updated_at"])
    return feed


def feed_update(*, user, **fields) -> Feed:
    feed = feed_get_or_create(user=user)
    for name, value in fields.items():
        setattr(feed, name, value)
    feed.save()
    return feed


# --- What the feed shows -----------------------------------------------------------------------


def feed_title(feed: Feed) -> str:
    return feed.title or f"{_display_name(feed.user)} on PodNex"


def feed_author(feed: Feed) -> str:
    return feed.author or _display_name(feed.user)


def _display_name(user) -> str:
    return (getattr(user, "name", "") or "").strip() or user.email.split("@")[0]


def feed_episodes(feed: Feed):
    """Completed, not deleted episodes, newest first."""
    return Podcast.visible.filter(
        user_id=feed.user_id, status=PodcastStatus.COMPLETED, audio_url__isnull=False
    ).order_by("-completed_at", "-id")


def feed_episode(feed: Feed, podcast_id: str) -> Podcast | None:
    return feed_episodes(feed).filter(id=podcast_id).first()


def feed_cover(feed: Feed) -> tuple[bytes, str]:
    """(bytes, content type) of the feed's artwork: the upload, else drawn from the title."""
    if feed.image_key:
        try:
            return media.read(feed.image_key), _image_type(feed.image_key)
        except FileNotFoundError:
            logger.warning("feed %s: cover %s is missing", feed.id, feed.image_key)
    title = feed_title(feed)
    digest = hashlib.sha256(title.encode()).hexdigest()[:16]
    key = f"{media.user_folder(feed.user_id)}default-cover-{digest}.jpg"
    try:
        return media.read(key), "image/jpeg"
    except FileNotFoundError:
        data = artwork.artwork_draw(title)
        storage.storage_service().upload(data, key, content_type="image/jpeg")
        return data, "image/jpeg"


def episode_cover(podcast: Podcast) -> tuple[bytes, str]:
    """The cover embedded in the episode's MP3, or one drawn now for older episodes."""
    for content_type in ("image/jpeg", "image/png"):
        key = media.episode_cover_key(
            user_id=podcast.user_id, podcast_id=podcast.id, content_type=content_type
        )
        try:
            return media.read(key), content_type
        except FileNotFoundError:
            continue
    data = artwork.artwork_draw(podcast.title or "Episode")
    key = media.episode_cover_key(user_id=podcast.user_id, podcast_id=podcast.id, content_type="")
    storage.storage_service().upload(data, key, content_type="image/jpeg")
    return data, "image/jpeg"


def _image_type(key: str) -> str:
    return "image/png" if key.endswith(".png") else "image/jpeg"


# --- Uploads ---------------------------------------------------------------------------------


def _image_checked(data: bytes) -> tuple[bytes, str, str]:
    if len(data) > settings.FEED_IMAGE_MAX_BYTES:
        raise PayloadTooLarge(
            f"The image is too large (at most {settings.FEED_IMAGE_MAX_BYTES} bytes)",
            maxBytes=settings.FEED_IMAGE_MAX_BYTES,
        )
    try:
        return artwork.image_inspect(data)
    except artwork.ImageRejected as exc:
        raise InvalidInput(str(exc), code="invalid_image") from None


def feed_image_set(*, user, data: bytes) -> Feed:
    stored, extension, content_type = _image_checked(data)
    feed = feed_get_or_create(user=user)
    key = f"{media.user_folder(user.id)}cover-{new_id()}.{extension}"
    storage.storage_service().upload(stored, key, content_type=content_type)
    return _replace_key(feed, field="image_key", key=key)


def feed_image_clear(*, user) -> Feed:
    return _replace_key(feed_get_or_create(user=user), field="image_key", key="")


def feed_clip_set(*, user, kind: str, data: bytes) -> Feed:
    if kind not in CLIP_KINDS:
        raise NotFound("No such clip: it is intro, outro or bed")
    if len(data) > settings.FEED_CLIP_MAX_BYTES:
        raise PayloadTooLarge(
            f"The audio file is too large (at most {settings.FEED_CLIP_MAX_BYTES} bytes)",
            maxBytes=settings.FEED_CLIP_MAX_BYTES,
        )
    limit = settings.FEED_BED_MAX_SECONDS if kind == "bed" else settings.FEED_CLIP_MAX_SECONDS
    try:
        audio_format, seconds = clip_inspect(data, max_seconds=limit)
    except ClipRejected as exc:
        raise InvalidInput(str(exc), code="invalid_audio") from None
    feed = feed_get_or_create(user=user)
    key = f"{media.user_folder(user.id)}{kind}-{new_id()}.{audio_format}"
    content_type = {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg"}[audio_format]
    storage.storage_service().upload(data, key, content_type=content_type)
    setattr(feed, f"{kind}_duration", seconds)
    return _replace_key(feed, field=f"{kind}_key", key=key)


def feed_clip_clear(*, user, kind: str) -> Feed:
    if kind not in CLIP_KINDS:
        raise NotFound("No such clip: it is intro, outro or bed")
    feed = feed_get_or_create(user=user)
    setattr(feed, f"{kind}_duration", None)
    return _replace_key(feed, field=f"{kind}_key", key="")


def _replace_key(feed: Feed, *, field: str, key: str) -> Feed:
    old = getattr(feed, field)
    setattr(feed, field, key)
    feed.save()
    if old and old != key:
        transaction.on_commit(lambda: storage.storage_service().delete(old))
    return feed


def episode_artwork_set(*, user, podcast_id: str, data: bytes) -> Podcast:
    """Give one finished episode its own cover: stored beside its audio and embedded in
    the MP3 (APIC, with its chapters kept), whose new size the feed then announces."""
    stored, _extension, content_type = _image_checked(data)
    with transaction.atomic():
        # Lock: a retry or a delete of this podcast must not interleave with the rewrite.
        podcast = Podcast.visible.select_for_update().filter(id=podcast_id, user=user).first()
        if podcast is None:
            raise NotFound("Podcast not found")
        if podcast.status != PodcastStatus.COMPLETED or not podcast.audio_url:
            raise Conflict(
                f"The podcast has no audio yet; it is {podcast.status.lower()}",
                code="not_ready",
                status=podcast.status.lower(),
            )
        chapters = chapters_of(
            podcast.transcript, duration=podcast.audio_duration or 0, title=podcast.title or ""
        )
        mp3 = mp3_tag(
            media.read(podcast.audio_url), chapters=chapters, artwork=stored, mime=content_type
        )
        storage.audio_upload(key=podcast.audio_url, data=mp3)
        media.episode_cover_store(podcast, stored)
        podcast.audio_size = len(mp3)
        podcast.save(update_fields=["audio_size", "updated_at"])
    return podcast
