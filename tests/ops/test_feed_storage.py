"""The private feed on S3 storage (moto on loopback): uploads land in the user's folder of
the bucket, and the enclosure keeps working by redirecting to a freshly presigned URL."""

from __future__ import annotations

import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from podcasts.models import PodcastStatus
from tests.media_samples import image, tone
from tests.ops.conftest import BUCKET, TINY_MP3, queued_podcast


def _keys(s3, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def test_feed_media_and_enclosures_work_on_s3(owner, owner_client, s3, episode):
    from podcasts.pipeline.generate import podcast_generate

    cover = owner_client.put(
        "/api/v1/feed/image",
        {"file": SimpleUploadedFile("c.jpg", image(1400, fmt="JPEG"))},
        format="multipart",
    )
    assert cover.status_code == 200, cover.content
    intro = owner_client.put(
        "/api/v1/feed/clips/intro",
        {"file": SimpleUploadedFile("i.mp3", tone(2.0, "mp3"))},
        format="multipart",
    )
    assert intro.status_code == 200, intro.content
    stored = _keys(s3, f"podcasts/{owner.id}/feed/")
    assert sorted(k.rsplit("/", 1)[1].split("-")[0] for k in stored) == ["cover", "intro"]

    podcast, job = queued_podcast(owner)
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id)
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.COMPLETED

    feed_url = cover.json()["feed"]["url"]
    path = "/" + feed_url.split("://", 1)[1].split("/", 1)[1]
    audio = path.replace(".xml", f"/episodes/{podcast.id}.mp3")
    head = Client().head(audio)
    assert head.status_code == 200 and int(head["Content-Length"]) == len(TINY_MP3)
    redirect = Client().get(audio)
    assert redirect.status_code == 302
    assert "X-Amz-Signature" in redirect["Location"]
    fetched = requests.get(redirect["Location"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == TINY_MP3
    art = Client().get(path.replace(".xml", "/cover.jpg"))
    assert art.status_code == 200 and art["Content-Type"] == "image/jpeg"
