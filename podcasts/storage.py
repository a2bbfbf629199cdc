"""Where episode audio lives: the plan's Storage Service over Django's default storage.

Local files by default; S3, Cloudflare R2 or any S3-compatible store through django-storages
and boto3 when S3_BUCKET_NAME is set (AWS_S3_ENDPOINT_URL for a store other than AWS).

Keys: `podcasts/<user id>/<podcast id>/episode.mp3`, one folder per user and podcast, so a
user's or a podcast's files can be listed and removed by prefix.

Download URLs expire (DOWNLOAD_URL_TTL):
- S3: a presigned GET URL from the bucket (SigV4, `X-Amz-Expires`), which also sets the
  Content-Disposition filename;
- S3 with S3_CDN_URL: `<S3_CDN_URL>/<key>`, the CDN's own URL. A CDN caches one URL for all
  users, so presigned query strings would defeat it; a CDN in front of private audio enforces
  access itself (e.g. signed cookies or its own token rules). This is a deliberate choice:
  leave S3_CDN_URL unset to keep per-link expiry at the bucket;
- local files: a link signed with SECRET_KEY, served by `podcasts.views.AudioFileView`
  (which honours Range).
"""

from __future__ import annotations

import mimetypes
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse

_SALT = "podnex.audio-download"
AUDIO_CONTENT_TYPE = "audio/mpeg"


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: int  # unix seconds


@dataclass(frozen=True)
class ObjectMetadata:
    key: str
    size: int
    content_type: str
    last_modified: datetime | None


class StorageService:
    """upload, signed_url, delete, metadata, list: the plan's StorageService, through Django's
    storage API, so that local files and S3 (django-storages) take the same path. The one
    difference kept is who signs a download link: S3 signs its own URLs, local files are
    served by our view with a link we sign."""

    def __init__(self, storage=None):
        self._storage = storage

    @property
    def storage(self):
        return self._storage or default_storage

    @property
    def local(self) -> bool:
        """Files on this machine, which our own views serve (a remote store serves its own
        presigned URLs)."""
        return isinstance(self.storage, FileSystemStorage)

    # -- writes --

    def upload(self, data: bytes, key: str, content_type: str | None = None) -> str:
        """Store `data` under `key`, replacing what was there (a retried job rewrites it:
        settings let both storages overwrite). Returns the key."""
        content = ContentFile(data)
        # django-storages sends it as the object's Content-Type (else guessed from the key).
        content.content_type = content_type or mimetypes.guess_type(key)[0]
        return self.storage.save(key, content)

    def delete(self, key: str) -> None:
        """Remove the object; deleting what is already gone is not an error (either storage)."""
        if key:
            self.storage.delete(key)

    # -- reads --

    def exists(self, key: str) -> bool:
        return bool(key) and self.storage.exists(key)

    def metadata(self, key: str) -> ObjectMetadata:
        """Size, type and modification time; FileNotFoundError if absent."""
        if not self.exists(key):
            raise FileNotFoundError(key)
        return ObjectMetadata(
            key=key,
            size=self.storage.size(key),
            content_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
            last_modified=self.storage.get_modified_time(key),
        )

    def list(self, prefix: str) -> list[str]:
        """Every key under `prefix` (a folder such as `podcasts/<user id>/`), sorted."""
        keys: list[str] = []
        self._walk(prefix.rpartition("/")[0], keys)
        return sorted(key for key in keys if key.startswith(prefix))

    def _walk(self, folder: str, keys: list[str]) -> None:
        try:
            folders, files = self.storage.listdir(folder)
        except FileNotFoundError:  # local files: no such folder (S3 answers empty lists)
            return
        keys.extend(f"{folder}/{name}" if folder else name for name in files)
        for name in folders:
            self._walk(f"{folder}/{name}" if folder else name, keys)

    def signed_url(
        self, key: str, expires_in: int | None = None, filename: str = "episode.mp3"
    ) -> SignedUrl:
        ttl = expires_in or settings.DOWNLOAD_URL_TTL
        expires_at = int(time.time()) + ttl
        if self.local:
            token = signing.dumps(
                {"k": key, "e": expires_at, "f": filename}, salt=_SALT, compress=True
            )
            path = reverse("podcasts:audio-file", kwargs={"token": token})
            return SignedUrl(url=f"{settings.PUBLIC_BASE_URL}{path}", expires_at=expires_at)
        if settings.S3_CDN_URL:
            return SignedUrl(url=f"{settings.S3_CDN_URL}/{key}", expires_at=expires_at)
        # django-storages' S3Storage presigns the URL itself (querystring_auth) for `expire`.
        url = self.storage.url(
            key,
            parameters={"ResponseContentDisposition": f'inline; filename="{filename}"'},
            expire=ttl,
        )
        return SignedUrl(url=url, expires_at=expires_at)

    def ping(self) -> dict[str, Any]:
        """Check the store answers (health check): list its top folder. Raises when it does
        not (an unreachable server, a missing bucket, no permission)."""
        self.storage.listdir("")
        return {"backend": "s3" if settings.S3_BUCKET_NAME else "local"}


def storage_service() -> StorageService:
    return StorageService()


# --- The functions the pipeline and views call ---------------------------------------------


def audio_key(*, user_id: str, podcast_id: str, version: str = "") -> str:
    """Where a podcast's MP3 lives. A re-render writes a new `version` beside the old file,
    so the earlier audio stays playable until the new one is saved."""
    name = f"episode-{version}.mp3" if version else "episode.mp3"
    return f"podcasts/{user_id}/{podcast_id}/{name}"


def audio_upload(*, key: str, data: bytes) -> str:
    """Store an episode's MP3 under `key`, replacing what was there."""
    return storage_service().upload(data, key, content_type=AUDIO_CONTENT_TYPE)


def audio_read(*, key: str) -> bytes:
    """An episode's MP3 (a re-render keeps the frames of its unchanged lines)."""
    with storage_service().storage.open(key, "rb") as handle:
        return handle.read()


def audio_delete(*, key: str) -> None:
    storage_service().delete(key)


def audio_exists(*, key: str) -> bool:
    return storage_service().exists(key)


def audio_signed_url(
    *, key: str, ttl: int | None = None, filename: str = "episode.mp3"
) -> SignedUrl:
    return storage_service().signed_url(key, expires_in=ttl, filename=filename)


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
