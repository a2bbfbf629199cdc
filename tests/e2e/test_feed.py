"""End to end through HTTP with a real Celery worker: a user uploads cover art, an intro,
an outro and a music bed, makes an episode, and subscribes to the private feed the way a
podcast app does (feedparser and gPodder's podcastparser), fetching every URL from it."""

from __future__ import annotations

import io
import json
from xml.etree import ElementTree as ET

import feedparser
import podcastparser
import pytest
import requests
from django.conf import settings
from mutagen.id3 import ID3
from PIL import Image

from podcasts.feed import rss
from tests.audio_check import decoded_seconds
from tests.e2e.test_generation import poll_until_final, sign_up
from tests.factories import SAMPLE_NOTES
from tests.media_samples import image, loudness, tone


def _local(url: str, base: str) -> str:
    return url.replace(settings.PUBLIC_BASE_URL, base)


def _upload(session, url: str, data: bytes, name: str) -> requests.Response:
    return session.put(url, files={"file": (name, data)}, timeout=60)


@pytest.mark.django_db(transaction=True)
def test_an_episode_reaches_a_podcast_app_through_the_private_feed(live_server, celery_worker):
    base = live_server.url
    alice = sign_up(base, "alice@example.com")
    assert alice.patch(
        f"{base}/api/v1/feed",
        json={"title": "Alice's Bees", "author": "Alice", "category": "Science"},
        timeout=10,
    ).ok
    cover = image(1400, fmt="JPEG")
    assert _upload(alice, f"{base}/api/v1/feed/image", cover, "cover.jpg").status_code == 200
    for kind, data in (
        ("intro", tone(3.0, "mp3", frequency=523, volume_db=0)),
        ("outro", tone(2.0, "wav", frequency=392)),
        ("bed", tone(5.0, "ogg", frequency=220, extra="tremolo=f=2")),
    ):
        response = _upload(alice, f"{base}/api/v1/feed/clips/{kind}", data, f"{kind}.bin")
        assert response.status_code == 200, response.text

    created = alice.post(
        f"{base}/api/v1/podcasts",
        json={"noteContent": SAMPLE_NOTES, "duration": "short", "title": "All about bees"},
        timeout=10,
    )
    podcast_id = created.json()["podcast"]["id"]
    final = poll_until_final(alice, f"{base}/api/v1/podcasts/{podcast_id}/status")[-1]
    assert final["status"] == "completed", final
    detail = alice.get(f"{base}/api/v1/podcasts/{podcast_id}", timeout=10).json()["podcast"]

    # Chapters from the script's sections, timed on the audio.
    chapters = alice.get(f"{base}/api/v1/podcasts/{podcast_id}/chapters", timeout=10).json()
    assert chapters["version"] == "1.2.0"
    titles = [c["title"] for c in chapters["chapters"]]
    assert titles == ["Introduction", "How a hive works", "Why bees dance", "Wrap-up"]
    starts = [c["startTime"] for c in chapters["chapters"]]
    assert starts[0] == 0 and starts == sorted(starts) and starts[-1] < detail["audioDuration"]
    segments = alice.get(f"{base}/api/v1/podcasts/{podcast_id}/transcript", timeout=10).json()[
        "segments"
    ]
    opening: dict[str, float] = {}
    for segment in segments:
        opening.setdefault(segment["section"], segment["start"])
    assert opening["Why bees dance"] == starts[2]
    assert segments[0]["start"] > 3.0, "the intro plays before the first line"

    # The feed, as podcast apps read it.
    feed_url = _local(alice.get(f"{base}/api/v1/feed", timeout=10).json()["feed"]["url"], base)
    response = requests.get(feed_url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/rss+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "rss20"
    assert parsed.feed.title == "Alice's Bees" and parsed.feed.author == "Alice"
    assert parsed.feed.language == "en"
    assert parsed.feed.itunes_block == 1  # feedparser's reading of itunes:block "Yes"
    assert parsed.feed.tags[0].term == "Science"
    # Apple's spec says "true"/"false"; feedparser only maps "yes"/"true" (to True).
    assert not parsed.feed.itunes_explicit
    assert b"<itunes:explicit>false</itunes:explicit>" in response.content
    assert "podcast_locked" in parsed.feed and parsed.feed.podcast_locked == "yes"
    (entry,) = parsed.entries
    assert entry.title == "All about bees" and entry.id == f"podnex:{podcast_id}"
    assert entry.itunes_duration.count(":") == 2
    assert "Why bees dance" in entry.summary
    (enclosure,) = entry.enclosures
    assert enclosure.type == "audio/mpeg" and int(enclosure.length) == detail["audioSize"]

    app_view = podcastparser.parse(feed_url, io.BytesIO(response.content))
    assert app_view["title"] == "Alice's Bees"
    (episode,) = app_view["episodes"]
    assert episode["guid"] == f"podnex:{podcast_id}"
    assert episode["total_time"] == pytest.approx(detail["audioDuration"], abs=1.5)
    (media,) = episode["enclosures"]
    assert media["file_size"] == detail["audioSize"] and media["mime_type"] == "audio/mpeg"
    assert media["url"] == enclosure.href

    # Every URL in the feed answers, without a login.
    audio_url = _local(media["url"], base)
    head = requests.head(audio_url, timeout=10)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == media["file_size"]
    part = requests.get(audio_url, headers={"Range": "bytes=0-1023"}, timeout=10)
    assert part.status_code == 206 and len(part.content) == 1024
    mp3 = requests.get(audio_url, timeout=30).content
    assert len(mp3) == detail["audioSize"]
    assert abs(decoded_seconds(mp3) - detail["audioDuration"]) <= 0.5

    integrated, true_peak = loudness(mp3)
    assert abs(integrated + 16) <= 1, integrated
    assert true_peak <= -1.0, true_peak

    tags = ID3(io.BytesIO(mp3))
    toc = tags.getall("CTOC")[0]
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert toc.child_element_ids == [c.element_id for c in chaps]
    assert [c.sub_frames["TIT2"].text[0] for c in chaps] == titles
    assert [c.start_time for c in chaps] == [int(s * 1000) for s in starts]
    art = tags.getall("APIC")[0]
    assert art.mime == "image/jpeg" and Image.open(io.BytesIO(art.data)).size == (1400, 1400)

    # feedparser keeps the last podcast:transcript (the VTT); the SRT is read with ElementTree.
    vtt_url = entry.podcast_transcript["url"]
    assert entry.podcast_transcript["type"] == "text/vtt"
    item = ET.fromstring(response.content).find("channel/item")
    (srt_url,) = [
        t.get("url")
        for t in item.iter(f"{{{rss.PODCAST}}}transcript")
        if t.get("type") == "application/x-subrip"
    ]
    vtt = requests.get(_local(vtt_url, base), timeout=10)
    srt = requests.get(_local(srt_url, base), timeout=10)
    assert vtt.headers["Content-Type"].startswith("text/vtt")
    assert srt.headers["Content-Type"].startswith("application/x-subrip")
    assert vtt.text.startswith("WEBVTT") and "<v Host>" in vtt.text and "<v Guest>" in vtt.text
    assert srt.text.startswith("1\n") and "Host: " in srt.text
    assert entry.podcast_chapters["type"] == "application/json+chapters"
    feed_chapters = requests.get(_local(entry.podcast_chapters["url"], base), timeout=10)
    assert feed_chapters.headers["Content-Type"].startswith("application/json+chapters")
    assert json.loads(feed_chapters.content) == chapters

    episode_art = requests.get(_local(entry.image.href, base), timeout=10)
    assert Image.open(io.BytesIO(episode_art.content)).size == (1400, 1400)
    feed_art = requests.get(_local(parsed.feed.image.href, base), timeout=10)
    assert feed_art.status_code == 200 and Image.open(io.BytesIO(feed_art.content)).mode == "RGB"

    # Conditional GET, then a deleted episode leaves the feed at once.
    again = requests.get(feed_url, headers={"If-None-Match": response.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    bob = sign_up(base, "bob@example.com")
    assert bob.get(f"{base}/api/v1/podcasts/{podcast_id}/chapters", timeout=10).status_code == 404
    assert alice.delete(f"{base}/api/v1/podcasts/{podcast_id}", timeout=10).ok
    assert feedparser.parse(requests.get(feed_url, timeout=10).content).entries == []
    assert requests.head(audio_url, timeout=10).status_code == 404

    # Rotation: the old URL and everything under it stop at once.
    rotated = alice.post(f"{base}/api/v1/feed/rotate", timeout=10).json()["feed"]["url"]
    assert requests.get(feed_url, timeout=10).status_code == 404
    assert requests.get(_local(rotated, base), timeout=10).status_code == 200
