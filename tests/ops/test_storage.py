"""The Storage Service on local files and on an S3-compatible server (moto on loopback)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from podcasts.models import PodcastStatus
from podcasts.storage import StorageService, audio_key
from tests.ops.conftest import BUCKET, TINY_MP3, queued_podcast


def generate(podcast, job):
    from podcasts.pipeline.generate import podcast_generate

    podcast_generate(podcast_id=podcast.id, job_id=job.job_id)
    podcast.refresh_from_db()
    return podcast


def test_the_pipeline_stores_audio_in_the_bucket_and_the_download_link_serves_it(
    owner, owner_client, s3, episode, settings
):
    podcast, job = queued_podcast(owner)
    podcast = generate(podcast, job)
    assert podcast.status == PodcastStatus.COMPLETED

    key = f"podcasts/{owner.id}/{podcast.id}/episode.mp3"
    assert podcast.audio_url == key
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "audio/mpeg"
    assert head["ContentLength"] == len(TINY_MP3)

    body = owner_client.get(f"/api/v1/podcasts/{podcast.id}/download").json()
    query = parse_qs(urlsplit(body["url"]).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == [str(settings.DOWNLOAD_URL_TTL)]
    assert 0 < body["expiresIn"] <= settings.DOWNLOAD_URL_TTL

    fetched = requests.get(body["url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == TINY_MP3
    assert fetched.headers["Content-Type"] == "audio/mpeg"


def test_a_presigned_link_stops_serving_once_its_podcast_is_deleted(
    owner, owner_client, s3, django_capture_on_commit_callbacks
):
    from tests.factories import PodcastFactory

    podcast = PodcastFactory(user=owner, status=PodcastStatus.COMPLETED)
    key = audio_key(user_id=owner.id, podcast_id=podcast.id)
    StorageService().upload(TINY_MP3, key, content_type="audio/mpeg")
    podcast.audio_url = key
    podcast.save()
    url = owner_client.get(f"/api/v1/podcasts/{podcast.id}/download").json()["url"]
    assert requests.get(url, timeout=10).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.delete(f"/api/v1/podcasts/{podcast.id}").status_code == 200
    # The presigned URL cannot be revoked, but its object is gone (S3 answers 403 or 404).
    assert requests.get(url, timeout=10).status_code in (403, 404)


def test_a_download_link_names_the_file_and_expires_when_asked(s3, owner):
    service = StorageService()
    key = audio_key(user_id=owner.id, podcast_id="p1")
    service.upload(TINY_MP3, key, content_type="audio/mpeg")

    signed = service.signed_url(key, expires_in=120, filename="Bees.mp3")
    query = parse_qs(urlsplit(signed.url).query)
    assert query["X-Amz-Expires"] == ["120"]
    response = requests.get(signed.url, timeout=10)
    assert response.headers["Content-Disposition"] == 'inline; filename="Bees.mp3"'


def test_the_store_refuses_an_expired_link_and_one_whose_expiry_was_edited(s3, owner):
    service = StorageService()
    key = audio_key(user_id=owner.id, podcast_id="p1")
    service.upload(TINY_MP3, key, content_type="audio/mpeg")
    signed = service.signed_url(key, expires_in=60)
    assert requests.get(signed.url, timeout=10).content == TINY_MP3

    lengthened = signed.url.replace("X-Amz-Expires=60", "X-Amz-Expires=86400")
    assert requests.get(lengthened, timeout=10).status_code == 403

    # Signed 61 seconds ago with a 60-second life: S3 (and the proxy in front of moto) refuse.
    from datetime import UTC, datetime, timedelta
    from unittest import mock

    past = datetime.now(UTC) - timedelta(seconds=61)
    with mock.patch("botocore.auth.get_current_datetime", return_value=past):
        stale = service.signed_url(key, expires_in=60)
    refused = requests.get(stale.url, timeout=10)
    assert refused.status_code == 403
    assert b"Request has expired" in refused.content


def test_with_a_cdn_the_link_is_the_cdn_url_of_the_key(s3, settings, owner):
    settings.S3_CDN_URL = "https://cdn.podnex.example"
    signed = StorageService().signed_url("podcasts/u/p/episode.mp3")
    assert signed.url == "https://cdn.podnex.example/podcasts/u/p/episode.mp3"


def test_metadata_list_and_delete_on_s3(s3, owner):
    service = StorageService()
    first = audio_key(user_id=owner.id, podcast_id="p1")
    second = audio_key(user_id=owner.id, podcast_id="p2")
    service.upload(TINY_MP3, first, content_type="audio/mpeg")
    service.upload(b"other", second, content_type="audio/mpeg")
    service.upload(b"elsewhere", "podcasts/someone-else/p3/episode.mp3")

    meta = service.metadata(first)
    assert (meta.size, meta.content_type) == (len(TINY_MP3), "audio/mpeg")
    assert s3.head_object(Bucket=BUCKET, Key=first)["ContentType"] == "audio/mpeg"
    assert service.list(f"podcasts/{owner.id}/") == [first, second]

    service.delete(first)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=BUCKET, Key=first)
    with pytest.raises(FileNotFoundError):
        service.metadata(first)
    service.delete(first)  # already gone: not an error
    assert service.list(f"podcasts/{owner.id}/") == [second]


def test_metadata_list_and_delete_on_local_files(owner):
    service = StorageService()
    key = audio_key(user_id=owner.id, podcast_id="p1")
    service.upload(TINY_MP3, key)
    service.upload(TINY_MP3[:10], key)  # a retried job overwrites, under the same key

    meta = service.metadata(key)
    assert (meta.size, meta.content_type) == (10, "audio/mpeg")
    assert service.list(f"podcasts/{owner.id}/") == [key]
    assert service.list("podcasts/nobody/") == []

    service.delete(key)
    assert not service.exists(key)
    with pytest.raises(FileNotFoundError):
        service.metadata(key)
