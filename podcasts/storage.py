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
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    metadata: dict[str, str] = field(default_factory=dict)


class StorageService:
    """upload, signed_url, delete, metadata, list: the plan's StorageService, for whichever
    storage Django is configured with."""

    def __init__(self, storage=None):
        self._storage = storage

    @property
    def storage(self):
        return self._storage or default_storage

    @property
    def is_s3(self) -> bool:
        return hasattr(self.storage, "bucket_name") and hasattr(self.storage, "connection")

    # -- writes --

    def upload(
        self,
        data: bytes,
        key: str,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> str:
        """Store `data` under `key`, replacing what was there (a retried job rewrites it)."""
        content_type = content_type or mimetypes.guess_type(key)[0] or "application/octet-stream"
        if self.is_s3:
            self._bucket().put_object(
                Key=key,
                Body=data,
                ContentType=content_type,
                Metadata={k: str(v) for k, v in (metadata or {}).items()},
                CacheControl="private, max-age=86400",
            )
            return key
        if self.storage.exists(key):
            self.storage.delete(key)
        return self.storage.save(key, ContentFile(data))

    def delete(self, key: str) -> None:
        """Remove the object; deleting what is already gone is not an error."""
        if not key:
            return
        if self.is_s3:
            self._bucket().Object(key).delete()
            return
        if self.storage.exists(key):
            self.storage.delete(key)

    # -- reads --

    def exists(self, key: str) -> bool:
        return bool(key) and self.storage.exists(key)

    def metadata(self, key: str) -> ObjectMetadata:
        """Size, type, modification time and user metadata; FileNotFoundError if absent."""
        if self.is_s3:
            from botocore.exceptions import ClientError

            try:
                head = self._client().head_object(Bucket=self.storage.bucket_name, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    raise FileNotFoundError(key) from None
                raise
            return ObjectMetadata(
                key=key,
                size=int(head["ContentLength"]),
                content_type=head.get("ContentType") or "application/octet-stream",
                last_modified=head.get("LastModified"),
                metadata=dict(head.get("Metadata") or {}),
            )
        if not self.storage.exists(key):
            raise FileNotFoundError(key)
        modified = datetime.fromtimestamp(os.path.getmtime(self.storage.path(key)), tz=UTC)
        return ObjectMetadata(
            key=key,
            size=self.storage.size(key),
            content_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
            last_modified=modified,
        )

    def list(self, prefix: str) -> list[str]:
        """Every key under `prefix` (a folder such as `podcasts/<user id>/`), sorted."""
        if self.is_s3:
            paginator = self._client().get_paginator("list_objects_v2")
            keys = []
            for page in paginator.paginate(Bucket=self.storage.bucket_name, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []))
            return sorted(keys)
        root = self.storage.path("")
        base = self.storage.path(prefix) if prefix else root
        folder = base if os.path.isdir(base) else os.path.dirname(base)
        keys = []
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                key = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def signed_url(
        self, key: str, expires_in: int | None = None, filename: str = "episode.mp3"
    ) -> SignedUrl:
        ttl = expires_in or settings.DOWNLOAD_URL_TTL
        expires_at = int(time.time()) + ttl
        if self.is_s3:
            if settings.S3_CDN_URL:
                return SignedUrl(url=f"{settings.S3_CDN_URL}/{key}", expires_at=expires_at)
            url = self._client().generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.storage.bucket_name,
                    "Key": key,
                    "ResponseContentDisposition": f'inline; filename="{filename}"',
                },
                ExpiresIn=ttl,
            )
            return SignedUrl(url=url, expires_at=expires_at)
        if not isinstance(self.storage, FileSystemStorage):
            return SignedUrl(url=self.storage.url(key), expires_at=expires_at)
        token = signing.dumps({"k": key, "e": expires_at, "f": filename}, salt=_SALT, compress=True)
        path = reverse("podcasts:audio-file", kwargs={"token": token})
        return SignedUrl(url=f"{settings.PUBLIC_BASE_URL}{path}", expires_at=expires_at)

    def ping(self) -> dict[str, Any]:
        """Check the store answers (health check). Raises when it does not."""
        if self.is_s3:
            self._client().head_bucket(Bucket=self.storage.bucket_name)
            return {"backend": "s3", "bucket": self.storage.bucket_name}
        root = self.storage.path("")
        os.makedirs(root, exist_ok=True)
        if not os.access(root, os.W_OK):
            raise OSError(f"media folder {root} is not writable")
        return {"backend": "local"}

    # -- S3 plumbing --

    def _client(self):
        return self.storage.connection.meta.client

    def _bucket(self):
        return self.storage.bucket


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
