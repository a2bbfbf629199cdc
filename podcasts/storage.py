"""Where episode audio lives: the plan's Storage Service over Django's default storage.

Local files by default; S3/R2 through django-storages when S3_BUCKET_NAME is set. Local
download URLs are signed and served by `podcasts.views.AudioFileView`, which honours Range.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse

_SALT = "podnex.audio-download"


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: int  # unix seconds


def audio_key(*, user_id: str, podcast_id: str) -> str:
    return f"podcasts/{user_id}/{podcast_id}/episode.mp3"


def audio_upload(*, key: str, data: bytes) -> str:
    """Store `data` under `key`, replacing what was there (a retried job rewrites it)."""
    if default_storage.exists(key):
        default_storage.delete(key)
    return default_storage.save(key, ContentFile(data))


def audio_delete(*, key: str) -> None:
    if key and default_storage.exists(key):
        default_storage.delete(key)


def audio_signed_url(
    *, key: str, ttl: int | None = None, filename: str = "episode.mp3"
) -> SignedUrl:
    ttl = ttl or settings.DOWNLOAD_URL_TTL
    expires_at = int(time.time()) + ttl
    if not isinstance(default_storage, FileSystemStorage):
        return SignedUrl(url=default_storage.url(key), expires_at=expires_at)
    token = signing.dumps({"k": key, "e": expires_at, "f": filename}, salt=_SALT, compress=True)
    path = reverse("podcasts:audio-file", kwargs={"token": token})
    return SignedUrl(url=f"{settings.PUBLIC_BASE_URL}{path}", expires_at=expires_at)


class LinkInvalid(Exception):
    pass


class LinkExpired(Exception):
    pass


def audio_link_open(token: str) -> tuple[str, str]:
    """Check a signed local link: returns (storage key, filename) or raises."""
    try:
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise LinkInvalid() from None
    if int(data.get("e", 0)) < time.time():
        raise LinkExpired()
    return data["k"], data.get("f", "episode.mp3")
