"""Signed download links and the local audio view that honours HTTP Range."""

import time

import pytest
from django.test import Client

from podcasts import storage
from podcasts.models import PodcastStatus
from tests.factories import PodcastFactory
from tests.utils import assert_error

AUDIO = bytes(range(256)) * 40  # 10,240 bytes, every offset recognisable


@pytest.fixture
def completed(owner):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.COMPLETED, title="Bees & Honey")
    key = storage.audio_upload(
        key=storage.audio_key(user_id=owner.id, podcast_id=podcast.id), data=AUDIO
    )
    podcast.audio_url = key
    podcast.audio_size = len(AUDIO)
    podcast.save()
    return podcast


def signed_path(owner_client, podcast, settings) -> str:
    body = owner_client.get(f"/api/v1/podcasts/{podcast.id}/download").json()
    assert body["success"] is True
    assert 0 < body["expiresIn"] <= settings.DOWNLOAD_URL_TTL
    return body["url"].removeprefix(settings.PUBLIC_BASE_URL)


def test_download_gives_a_signed_url_serving_the_whole_file(owner_client, completed, settings):
    response = Client().get(signed_path(owner_client, completed, settings))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == AUDIO
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/mpeg"
    assert 'filename="Bees-Honey.mp3"' in response["Content-Disposition"]


@pytest.mark.parametrize(
    "header, start, end",
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, 10239),
        ("bytes=-50", 10190, 10239),
        ("bytes=10000-99999", 10000, 10239),
    ],
)
def test_a_range_request_gets_206_with_exactly_those_bytes(
    owner_client, completed, settings, header, start, end
):
    response = Client().get(signed_path(owner_client, completed, settings), HTTP_RANGE=header)
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == AUDIO[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(AUDIO)}"
    assert response["Content-Length"] == str(end - start + 1)


def test_an_unsatisfiable_range_gets_416(owner_client, completed, settings):
    response = Client().get(
        signed_path(owner_client, completed, settings), HTTP_RANGE="bytes=20000-"
    )
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(AUDIO)}"


def test_a_tampered_link_is_not_found(owner_client, completed, settings):
    path = signed_path(owner_client, completed, settings)
    response = Client().get(path[:-3] + "abc")
    assert_error(response, 404, "not_found")


def test_an_expired_link_is_refused(owner_client, completed, settings, monkeypatch):
    path = signed_path(owner_client, completed, settings)
    later = time.time() + settings.DOWNLOAD_URL_TTL + 5
    monkeypatch.setattr(storage.time, "time", lambda: later)
    response = Client().get(path)
    assert_error(response, 410, "link_expired")


def test_transcript_renders_srt_vtt_and_txt(owner, owner_client):
    segments = [
        {"speaker": "host", "text": "Welcome to the show.", "start": 0.25, "end": 2.5},
        {"speaker": "guest", "text": "Thanks for having me.", "start": 2.9, "end": 3661.042},
    ]
    podcast = PodcastFactory(user=owner, status=PodcastStatus.COMPLETED, transcript=segments)
    url = f"/api/v1/podcasts/{podcast.id}/transcript"

    as_json = owner_client.get(url).json()
    assert as_json["segments"] == segments

    srt = owner_client.get(f"{url}?format=srt").content.decode()
    assert srt.startswith("1\n00:00:00,250 --> 00:00:02,500\nHost: Welcome to the show.\n")
    assert "2\n00:00:02,900 --> 01:01:01,042\nGuest: Thanks for having me." in srt

    vtt = owner_client.get(f"{url}?format=vtt")
    assert vtt["Content-Type"].startswith("text/vtt")
    assert vtt.content.decode().startswith("WEBVTT\n\n00:00:00.250 --> 00:00:02.500\n<v Host>")

    txt = owner_client.get(f"{url}?format=txt").content.decode()
    assert txt == "Host: Welcome to the show.\n\nGuest: Thanks for having me.\n"


def test_a_signed_link_stops_serving_the_moment_its_podcast_is_deleted(
    owner_client, completed, settings, django_capture_on_commit_callbacks
):
    path = signed_path(owner_client, completed, settings)
    assert Client().get(path).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.delete(f"/api/v1/podcasts/{completed.id}").status_code == 200
    response = Client().get(path, HTTP_RANGE="bytes=0-99")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not storage.audio_exists(key=completed.audio_url)  # the bytes are gone too


def test_a_deleted_podcasts_link_stays_dead_even_if_its_file_is_still_there(
    owner_client, completed, settings
):
    path = signed_path(owner_client, completed, settings)
    completed.deleted_at = completed.created_at  # deleted, its file not yet cleaned up
    completed.save()
    assert storage.audio_exists(key=completed.audio_url)
    assert Client().get(path).status_code == 404
