"""/api/v1/feed (settings, rotation, uploads) and the public /feeds/<token> routes, through
Django's test client: validation, isolation between users, conditional GETs, Range."""

from __future__ import annotations

import io
from datetime import timedelta

import feedparser
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from mutagen.id3 import ID3
from PIL import Image

from podcasts import media, storage
from podcasts.cleanup import podcasts_purge
from podcasts.models import Feed, PodcastStatus
from podcasts.storage import storage_service
from tests.factories import PodcastFactory
from tests.media_samples import image, tone

SEGMENTS = [
    {"speaker": "host", "text": "Welcome. Today: bees.", "start": 0.25, "end": 1.0,
     "section": "Introduction"},
    {"speaker": "guest", "text": "Glad to be here.", "start": 1.5, "end": 2.0},
    {"speaker": "host", "text": "How does a hive work?", "start": 2.5, "end": 3.0,
     "section": "How a hive works"},
    {"speaker": "guest", "text": "One queen, many workers.", "start": 3.2, "end": 4.0},
]  # fmt: skip


def _feed_of(client) -> dict:
    response = client.get("/api/v1/feed")
    assert response.status_code == 200, response.content
    return response.json()["feed"]


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def _episode(user, *, title="Bees", minutes_ago=0, **extra):
    mp3 = tone(4.0, "mp3")
    podcast = PodcastFactory(
        user=user,
        title=title,
        status=PodcastStatus.COMPLETED,
        audio_duration=4.0,
        audio_size=len(mp3),
        transcript=SEGMENTS,
        completed_at=timezone.now() - timedelta(minutes=minutes_ago),
        **extra,
    )
    podcast.audio_url = storage.audio_upload(
        key=storage.audio_key(user_id=user.id, podcast_id=podcast.id), data=mp3
    )
    podcast.save()
    return podcast, mp3


def test_a_user_gets_a_feed_with_a_secret_url_and_defaults(owner, owner_client):
    feed = _feed_of(owner_client)
    assert feed["url"].endswith(".xml") and "/feeds/" in feed["url"]
    assert feed["language"] == "en" and feed["explicit"] is False
    assert feed["clips"] == {"intro": None, "outro": None, "bed": None}
    assert feed["imageUploaded"] is False
    assert _feed_of(owner_client)["url"] == feed["url"], "the same URL each time"
    stored = Feed.objects.get(user=owner)
    token = feed["url"].rsplit("/", 1)[1][: -len(".xml")]
    assert token not in (stored.token_hash, stored.token_nonce), "the token is not stored"


def test_fields_that_are_not_settings_are_ignored(owner_client):
    before = _feed_of(owner_client)["url"]
    body = {"token_hash": "0" * 64, "tokenNonce": "x", "url": "http://evil.example/"}
    response = owner_client.patch("/api/v1/feed", body, format="json")
    assert response.status_code == 200
    assert response.json()["feed"]["url"] == before


def test_the_owner_edits_the_settings(owner_client):
    response = owner_client.patch(
        "/api/v1/feed",
        {
            "title": "Bee Notes",
            "description": "Everything about bees",
            "author": "Ada",
            "language": "DE",
            "category": "Science",
            "explicit": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    feed = response.json()["feed"]
    assert (feed["title"], feed["author"], feed["language"]) == ("Bee Notes", "Ada", "de")
    assert feed["category"] == "Science" and feed["explicit"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"language": "xx"},
        {"category": "Gardening tips"},
        {"explicit": "maybe"},
        {"title": 12},
        {"title": "x" * 201},
    ],
)
def test_bad_settings_are_a_400_and_change_nothing(owner_client, body):
    before = _feed_of(owner_client)
    response = owner_client.patch("/api/v1/feed", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    after = _feed_of(owner_client)
    assert {k: v for k, v in after.items() if k != "updatedAt"} == {
        k: v for k, v in before.items() if k != "updatedAt"
    }


def test_rotating_issues_a_new_url_and_the_old_one_stops_at_once(owner, owner_client):
    _episode(owner)
    old = _feed_of(owner_client)["url"]
    assert Client().get(_path(old)).status_code == 200
    response = owner_client.post("/api/v1/feed/rotate")
    assert response.status_code == 200
    new = response.json()["feed"]["url"]
    assert new != old
    gone = Client().get(_path(old))
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"
    assert Client().get(_path(new)).status_code == 200
    for suffix in ("/cover.jpg", "/cover-1.jpg"):
        assert Client().get(_path(old)[: -len(".xml")] + suffix).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/nope.xml",
        "/feeds/" + "A" * 43 + ".xml",
        "/feeds/" + "A" * 43 + "/cover.jpg",
        "/feeds/" + "A" * 43 + "/episodes/abc.mp3",
    ],
)
def test_unknown_tokens_are_404(db, path):
    response = Client().get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_users_see_only_their_own_feed_and_episodes(owner, other_user, owner_client, other_client):
    mine, _ = _episode(owner, title="Mine")
    theirs, _ = _episode(other_user, title="Theirs")
    my_url, their_url = _feed_of(owner_client)["url"], _feed_of(other_client)["url"]
    assert my_url != their_url
    parsed = feedparser.parse(Client().get(_path(my_url)).content)
    assert [e.title for e in parsed.entries] == ["Mine"]
    # Another user's episode under my token: not found, whatever the route.
    base = _path(my_url)[: -len(".xml")]
    for suffix in (".mp3", ".vtt", ".srt", "/chapters.json", "/cover.jpg"):
        assert Client().get(f"{base}/episodes/{theirs.id}{suffix}").status_code == 404
        assert Client().get(f"{base}/episodes/{mine.id}{suffix}").status_code == 200
    assert other_client.get(f"/api/v1/podcasts/{mine.id}/chapters").status_code == 404


def test_the_feed_lists_completed_episodes_newest_first_and_drops_deleted_ones(owner, owner_client):
    older, _ = _episode(owner, title="Older", minutes_ago=10)
    newer, _ = _episode(owner, title="Newer", minutes_ago=1)
    PodcastFactory(user=owner, title="Still cooking", status=PodcastStatus.PROCESSING)
    PodcastFactory(user=owner, title="Broken", status=PodcastStatus.FAILED)
    url = _path(_feed_of(owner_client)["url"])
    first = Client().get(url)
    assert [e.title for e in feedparser.parse(first.content).entries] == ["Newer", "Older"]

    # Conditional GETs: unchanged -> 304, by ETag and by date.
    assert Client().get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert Client().get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304

    assert owner_client.delete(f"/api/v1/podcasts/{newer.id}").status_code == 200
    after = Client().get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200, "a deletion changes the feed"
    assert [e.title for e in feedparser.parse(after.content).entries] == ["Older"]
    base = url[: -len(".xml")]
    assert Client().get(f"{base}/episodes/{newer.id}.mp3").status_code == 404


def test_the_enclosure_honours_head_and_range(owner, owner_client):
    podcast, mp3 = _episode(owner)
    base = _path(_feed_of(owner_client)["url"])[: -len(".xml")]
    url = f"{base}/episodes/{podcast.id}.mp3"
    head = Client().head(url)
    assert head.status_code == 200
    assert int(head["Content-Length"]) == len(mp3) and head["Content-Type"] == "audio/mpeg"
    whole = Client().get(url)
    assert b"".join(whole.streaming_content) == mp3
    part = Client().get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(mp3)}"
    assert b"".join(part.streaming_content) == mp3[100:200]
    assert Client().get(url, HTTP_RANGE=f"bytes={len(mp3)}-").status_code == 416


def test_chapters_come_from_the_script_sections(owner, owner_client):
    podcast, _ = _episode(owner)
    response = owner_client.get(f"/api/v1/podcasts/{podcast.id}/chapters")
    assert response.status_code == 200
    assert response.json() == {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0.0, "title": "Introduction"},
            {"startTime": 2.5, "title": "How a hive works"},
        ],
    }
    queued = PodcastFactory(user=owner)
    assert owner_client.get(f"/api/v1/podcasts/{queued.id}/chapters").status_code == 409


# --- Uploads ---------------------------------------------------------------------------------


def _upload(client, path, data: bytes, name: str):
    return client.put(path, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def _stored(user) -> list[str]:
    return storage_service().list(f"podcasts/{user.id}/feed/")


def test_a_square_png_becomes_the_cover(owner, owner_client, django_capture_on_commit_callbacks):
    response = _upload(owner_client, "/api/v1/feed/image", image(1400, mode="RGBA"), "c.png")
    assert response.status_code == 200, response.content
    feed = response.json()["feed"]
    assert feed["imageUploaded"] is True
    keys = _stored(owner)
    assert len(keys) == 1 and keys[0].endswith(".jpg")
    cover = Client().get(_path(feed["image"]))
    assert cover.status_code == 200 and cover["Content-Type"] == "image/jpeg"
    stored = Image.open(io.BytesIO(cover.content))
    assert (stored.format, stored.mode, stored.size) == ("JPEG", "RGB", (1400, 1400))
    old_key = keys[0]
    # Replacing it removes the old file; deleting goes back to the drawn one.
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(owner_client, "/api/v1/feed/image", image(1600, fmt="JPEG"), "c.jpg")
    assert response.status_code == 200
    assert len(_stored(owner)) == 1 and _stored(owner) != [old_key]
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.delete("/api/v1/feed/image")
    assert response.json()["feed"]["imageUploaded"] is False
    assert _stored(owner) == []
    drawn = Client().get(_path(feed["image"]))
    assert drawn.status_code == 200 and drawn["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    "data,message",
    [
        (image(1400)[:400], "not a readable"),  # broken: cut short
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a readable"),
        (image(1400, fmt="GIF"), "JPEG or PNG"),
        (image(1400, 1500), "square"),
        (image(1000), "1400 to 3000"),
        (image(3200), "1400 to 3000"),
    ],
)
def test_bad_images_are_refused_and_nothing_is_stored(owner, owner_client, data, message):
    response = _upload(owner_client, "/api/v1/feed/image", data, "cover.png")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_image"
    assert message in response.json()["error"]
    assert _stored(owner) == []
    assert _feed_of(owner_client)["imageUploaded"] is False


def test_an_image_over_the_size_cap_is_413(owner, owner_client, settings):
    settings.FEED_IMAGE_MAX_BYTES = 2000
    response = _upload(owner_client, "/api/v1/feed/image", image(1400, fmt="JPEG"), "c.jpg")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert _stored(owner) == []


@pytest.mark.parametrize("kind,fmt", [("intro", "mp3"), ("outro", "wav"), ("bed", "ogg")])
def test_clips_are_stored_under_the_users_folder(
    owner, owner_client, kind, fmt, django_capture_on_commit_callbacks
):
    response = _upload(owner_client, f"/api/v1/feed/clips/{kind}", tone(2.0, fmt), f"x.{fmt}")
    assert response.status_code == 200, response.content
    assert abs(response.json()["feed"]["clips"][kind]["duration"] - 2.0) < 0.1
    assert [k.rsplit("/", 1)[1].split("-")[0] for k in _stored(owner)] == [kind]
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.delete(f"/api/v1/feed/clips/{kind}").status_code == 200
    assert _stored(owner) == []


def test_bad_clips_are_refused_and_nothing_is_stored(owner, owner_client, settings):
    settings.FEED_CLIP_MAX_SECONDS = 5
    text = b"This is not audio at all, only named like it.\n" * 50
    cases = [
        ("intro", text, "x.mp3", 400, "not MP3, WAV or OGG"),
        ("outro", tone(9.0, "mp3"), "long.mp3", 400, "too long"),
        ("jingle", tone(1.0, "mp3"), "x.mp3", 404, "intro, outro or bed"),
    ]
    for kind, data, name, status, message in cases:
        response = _upload(owner_client, f"/api/v1/feed/clips/{kind}", data, name)
        assert response.status_code == status, response.content
        assert message in response.json()["error"]
    settings.FEED_CLIP_MAX_BYTES = 4096
    response = _upload(owner_client, "/api/v1/feed/clips/bed", tone(3.0, "wav"), "x.wav")
    assert response.status_code == 413
    assert _stored(owner) == []
    assert _feed_of(owner_client)["clips"] == {"intro": None, "outro": None, "bed": None}


def test_an_upload_without_a_file_is_a_400(owner_client):
    response = owner_client.put("/api/v1/feed/image", {}, format="multipart")
    assert response.status_code == 400
    response = owner_client.put("/api/v1/feed/image", {"file": "x"}, format="json")
    assert response.status_code == 415


def test_the_upload_routes_accept_bodies_larger_than_the_json_limit(owner_client, settings):
    settings.API_MAX_BODY_BYTES = 4096
    response = _upload(owner_client, "/api/v1/feed/clips/intro", tone(2.0, "wav"), "x.wav")
    assert response.status_code == 200, response.content


def test_feed_routes_need_a_login(anon_client):
    assert anon_client.get("/api/v1/feed").status_code == 401
    assert anon_client.post("/api/v1/feed/rotate").status_code == 401


def test_an_episode_gets_its_own_artwork_embedded_with_its_chapters(
    owner, owner_client, other_client
):
    podcast, mp3 = _episode(owner)
    url = f"/api/v1/podcasts/{podcast.id}/artwork"
    upload = image(1500, mode="RGBA")
    assert _upload(other_client, url, upload, "a.png").status_code == 404
    response = _upload(owner_client, url, upload, "a.png")
    assert response.status_code == 200, response.content

    podcast.refresh_from_db()
    base = _path(_feed_of(owner_client)["url"])[: -len(".xml")]
    audio = f"{base}/episodes/{podcast.id}.mp3"
    assert int(Client().head(audio)["Content-Length"]) == podcast.audio_size != len(mp3)
    tagged = b"".join(Client().get(audio).streaming_content)
    assert len(tagged) == podcast.audio_size
    tags = ID3(io.BytesIO(tagged))
    (art,) = tags.getall("APIC")
    assert art.mime == "image/jpeg" and Image.open(io.BytesIO(art.data)).size == (1500, 1500)
    titles = [c.sub_frames["TIT2"].text[0] for c in tags.getall("CHAP")]
    assert sorted(titles) == ["How a hive works", "Introduction"]
    cover = Client().get(_path(response.json()["image"]))
    assert Image.open(io.BytesIO(cover.content)).size == (1500, 1500)
    feed = feedparser.parse(Client().get(f"{base}.xml").content)
    assert int(feed.entries[0].enclosures[0].length) == podcast.audio_size


def test_episode_artwork_needs_a_finished_episode_and_a_good_image(owner, owner_client):
    queued = PodcastFactory(user=owner)
    response = _upload(owner_client, f"/api/v1/podcasts/{queued.id}/artwork", image(1400), "a")
    assert response.status_code == 409
    podcast, mp3 = _episode(owner)
    response = _upload(owner_client, f"/api/v1/podcasts/{podcast.id}/artwork", b"GIF89a", "a")
    assert response.status_code == 400 and response.json()["code"] == "invalid_image"
    podcast.refresh_from_db()
    assert podcast.audio_size == len(mp3)
    assert storage_service().list(f"podcasts/{owner.id}/{podcast.id}/") == [podcast.audio_url]


def test_purging_a_deleted_episode_removes_its_cover_too(owner, settings):
    podcast, _ = _episode(owner)
    media.episode_cover_store(podcast, image(1400, fmt="JPEG"))
    podcast.deleted_at = timezone.now() - timedelta(days=settings.CLEANUP_DELETED_PODCAST_DAYS + 1)
    podcast.save()
    assert len(storage_service().list(f"podcasts/{owner.id}/{podcast.id}/")) == 2
    podcasts_purge()
    assert storage_service().list(f"podcasts/{owner.id}/{podcast.id}/") == []
