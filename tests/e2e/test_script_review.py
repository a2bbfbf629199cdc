"""The script is the user's, through HTTP with a real Celery worker: a draft stops for
review, two edited lines are all a re-render voices (counted on the loopback Unreal Speech
server), the new MP3 has the edits where its transcript says; and a panel of four speakers
sounds like four people (median pitch measured from the audio)."""

from __future__ import annotations

import logging
import math
import subprocess
import tempfile
import time

import imageio_ffmpeg
import numpy as np
import pytest
import requests
from django.conf import settings

from billing.models import Subscription, UsageRecord, UsageReservation
from podcasts.models import JobKind, PodcastJob
from tests.e2e.test_generation import sign_up
from tests.factories import SAMPLE_NOTES
from tests.podcasts.providers import conftest as provider_fixtures
from tests.podcasts.providers.fakes import Reply, mp3_tone, tone_for
from webhooks_app.models import WebhookDelivery, WebhookEvent

unreal = provider_fixtures.unreal  # the loopback Unreal Speech server, as a fixture here too
POLL_SECONDS = 240
EDIT_FREQUENCY = 880  # the loopback server voices edited lines an octave up
PLAIN_FREQUENCY = 440


def wait_for(session, base: str, podcast_id: str, statuses: set[str]) -> dict:
    deadline = time.monotonic() + POLL_SECONDS
    while time.monotonic() < deadline:
        body = session.get(f"{base}/api/v1/podcasts/{podcast_id}/status", timeout=10).json()
        if body["podcast"]["status"] in statuses:
            return body["podcast"]
        time.sleep(0.3)
    pytest.fail(f"podcast never reached {statuses}: {body}")


def decode(mp3: bytes, rate: int = 16000) -> np.ndarray:
    """The MP3 decoded by the ffmpeg binary itself (not our code) to mono samples."""
    with tempfile.NamedTemporaryFile(suffix=".mp3") as source:
        source.write(mp3)
        source.flush()
        out = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", source.name]
            + ["-f", "s16le", "-ac", "1", "-ar", str(rate), "pipe:1"],
            capture_output=True,
            check=True,
        ).stdout
    return np.frombuffer(out, dtype=np.int16).astype(float)


def dominant_frequency(samples: np.ndarray, start: float, end: float, rate: int = 16000):
    """Strongest frequency in the middle half of [start, end] seconds."""
    quarter = (end - start) / 4
    piece = samples[int((start + quarter) * rate) : int((end - quarter) * rate)]
    spectrum = np.abs(np.fft.rfft(piece * np.hanning(len(piece))))
    return np.fft.rfftfreq(len(piece), 1 / rate)[np.argmax(spectrum)]


def download(session, base: str, podcast_id: str) -> bytes:
    link = session.get(f"{base}/api/v1/podcasts/{podcast_id}/download", timeout=10).json()
    audio = requests.get(link["url"].replace(settings.PUBLIC_BASE_URL, base), timeout=30)
    assert audio.status_code == 200
    return audio.content


@pytest.mark.django_db(transaction=True)
def test_a_reviewed_draft_is_edited_and_a_re_render_voices_only_the_edited_lines(
    live_server, celery_worker, unreal, settings, caplog
):
    caplog.set_level(logging.INFO, logger="podcasts.pipeline.generate")
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    unreal.respond = lambda request: (
        Reply(200, mp3_tone(tone_for(request.json["Text"]), EDIT_FREQUENCY))
        if "Edited" in request.json.get("Text", "")
        else None
    )
    base = live_server.url
    ann = sign_up(base, "ann@example.com")
    hook = ann.post(
        f"{base}/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["podcast.script_ready"]},
        timeout=10,
    )
    assert hook.status_code == 201, hook.text

    created = ann.post(
        f"{base}/api/v1/podcasts",
        json={"noteContent": SAMPLE_NOTES, "review": True, "ttsProvider": "unreal"},
        timeout=10,
    )
    assert created.status_code == 202, created.text
    podcast_id = created.json()["podcast"]["id"]

    # 1. The draft: the job writes the script and stops; nothing is voiced.
    draft = wait_for(ann, base, podcast_id, {"script_ready", "failed", "completed"})
    assert (draft["status"], draft["progress"]) == ("script_ready", 25)
    assert unreal.to("/stream") == []
    assert WebhookDelivery.objects.filter(event=WebhookEvent.PODCAST_SCRIPT_READY).count() == 1
    events = requests.get(
        f"{base}/api/v1/podcasts/{podcast_id}/events",
        headers={**ann.headers, "Accept": "text/event-stream"},
        timeout=30,
    )
    assert "script_ready" in events.text  # the stream tells it, then ends

    script = ann.get(f"{base}/api/v1/podcasts/{podcast_id}/script", timeout=10).json()["script"]
    assert [s["id"] for s in script["speakers"]] == ["host", "guest"]
    assert {s["voice"] for s in script["speakers"]} == {"Sierra", "Noah"}
    lines = [line for section in script["sections"] for line in section["lines"]]
    assert len(lines) >= 6 and len({line["id"] for line in lines}) == len(lines)
    again = ann.get(f"{base}/api/v1/podcasts/{podcast_id}/script", timeout=10).json()["script"]
    assert again == script, "line ids are stable"

    # 2. The first render voices every line.
    render = ann.post(f"{base}/api/v1/podcasts/{podcast_id}/render", timeout=10)
    assert render.status_code == 202, render.text
    assert render.json()["render"] == {
        "lines": len(lines),
        "linesToVoice": len(lines),
        "linesReused": 0,
    }
    busy = ann.patch(
        f"{base}/api/v1/podcasts/{podcast_id}/script/lines/{lines[0]['id']}",
        json={"text": "Too late."},
        timeout=10,
    )
    assert busy.status_code == 409 and busy.json()["code"] == "job_running"
    first = wait_for(ann, base, podcast_id, {"completed", "failed"})
    assert first["status"] == "completed", first
    assert len(unreal.to("/stream")) == len(lines)
    first_key = PodcastJob.objects.get(job_id=render.json()["podcast"]["jobId"]).podcast.audio_url
    subscription = Subscription.objects.get(user__email="ann@example.com")
    minutes_after_first = subscription.current_minutes_used
    assert subscription.current_podcast_count == 1

    # 3. Edit two lines (one of them also changes speaker), then render again.
    third, fifth = lines[2], lines[4]
    other = "guest" if third["speaker"] == "host" else "host"
    edited = ann.patch(
        f"{base}/api/v1/podcasts/{podcast_id}/script/lines/{third['id']}",
        json={"text": "Edited line 4 says queens live for years.", "speaker": other},
        timeout=10,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["line"] == {
        "id": third["id"],
        "speaker": other,
        "text": "Edited line 4 says queens live for years.",
    }
    ann.patch(
        f"{base}/api/v1/podcasts/{podcast_id}/script/lines/{fifth['id']}",
        json={"text": "Edited line 5 says drones do not sting."},
        timeout=10,
    ).raise_for_status()
    sent_before = len(unreal.to("/stream"))
    render = ann.post(f"{base}/api/v1/podcasts/{podcast_id}/render", timeout=10)
    assert render.json()["render"]["linesToVoice"] == 2
    # The earlier episode stays downloadable while the new one is made.
    assert ann.get(f"{base}/api/v1/podcasts/{podcast_id}/download", timeout=10).ok
    second = wait_for(ann, base, podcast_id, {"completed", "failed"})
    assert second["status"] == "completed", second

    # Only the two edited lines were encoded; the others kept their MP3 frames.
    assert f"spliced: 2 of {len(lines)} lines encoded" in caplog.text
    new_requests = unreal.to("/stream")[sent_before:]
    assert sorted(r.json["Text"] for r in new_requests) == [
        "Edited line 4 says queens live for years.",
        "Edited line 5 says drones do not sting.",
    ]
    job = PodcastJob.objects.get(job_id=render.json()["podcast"]["jobId"])
    assert job.kind == JobKind.RENDER
    assert (job.lines_voiced, job.lines_reused) == (2, len(lines) - 2)
    detail = ann.get(f"{base}/api/v1/podcasts/{podcast_id}", timeout=10).json()["podcast"]
    assert (detail["linesVoiced"], detail["linesReused"]) == (2, len(lines) - 2)

    # The transcript shows the edits, at the times where the MP3 has them.
    segments = ann.get(f"{base}/api/v1/podcasts/{podcast_id}/transcript", timeout=10).json()[
        "segments"
    ]
    assert [s["lineId"] for s in segments] == [line["id"] for line in lines]
    by_line = {s["lineId"]: s for s in segments}
    assert by_line[third["id"]]["text"] == "Edited line 4 says queens live for years."
    assert (by_line[third["id"]]["speaker"], by_line[third["id"]]["name"]) == (
        other,
        other.title(),
    )
    samples = decode(download(ann, base, podcast_id))
    for segment in segments[:-1]:  # the last one also holds the closing silence
        heard = dominant_frequency(samples, segment["start"], segment["end"])
        wanted = EDIT_FREQUENCY if segment["text"].startswith("Edited") else PLAIN_FREQUENCY
        assert heard == pytest.approx(wanted, abs=15), segment
        assert segment["end"] - segment["start"] == pytest.approx(
            tone_for(segment["text"]), abs=0.1
        )
    vtt = ann.get(f"{base}/api/v1/podcasts/{podcast_id}/transcript?format=vtt", timeout=10)
    assert "<v Guest>" in vtt.text and "<v Host>" in vtt.text

    # Billing: the re-render is charged for the two new lines only, and is no new podcast.
    subscription.refresh_from_db()
    assert subscription.current_podcast_count == 1
    assert subscription.current_minutes_used == minutes_after_first + 1  # ~2 s, rounded up
    rerender_charge = UsageRecord.objects.get(podcast_id=podcast_id, charge_key=job.job_id)
    new_speech = sum(s["end"] - s["start"] for s in segments if s["text"].startswith("Edited"))
    assert new_speech == pytest.approx(0.8 + 1.2, abs=0.2)  # MP3 frames pad each clip
    assert rerender_charge.duration == math.ceil(new_speech) and rerender_charge.credits == 0
    assert not UsageReservation.objects.filter(podcast_id=podcast_id).exists()
    # The earlier version's file is gone once the new one is stored.
    from django.core.files.storage import default_storage

    job.podcast.refresh_from_db()
    assert job.podcast.audio_url != first_key
    assert not default_storage.exists(first_key)
    assert default_storage.exists(job.podcast.audio_url)


def median_pitch(samples: np.ndarray, rate: int = 16000) -> float:
    """Median fundamental frequency of voiced 40 ms frames, by autocorrelation."""
    window, hop = int(0.04 * rate), int(0.01 * rate)
    loudest = np.abs(samples).max()
    pitches = []
    for start in range(0, len(samples) - window, hop):
        frame = samples[start : start + window]
        frame = frame - frame.mean()
        if np.abs(frame).max() < 0.1 * loudest:
            continue  # silence or a quiet consonant
        correlation = np.correlate(frame, frame, "full")[window - 1 :]
        low, high = rate // 400, rate // 60  # 60-400 Hz: speaking voices
        lag = low + int(np.argmax(correlation[low:high]))
        if correlation[lag] > 0.3 * correlation[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches))


@pytest.mark.django_db(transaction=True)
def test_a_panel_of_four_speakers_sounds_like_four_people(live_server, celery_worker, settings):
    base = live_server.url
    bo = sign_up(base, "bo@example.com")
    panel = [
        {"name": "Maya", "role": "host"},
        {"name": "Theo", "role": "expert"},
        {"name": "Ines", "role": "guest"},
        {"name": "Ravi", "role": "cohost"},
    ]
    created = bo.post(
        f"{base}/api/v1/podcasts",
        json={"noteContent": SAMPLE_NOTES, "speakers": panel, "ttsProvider": "espeak"},
        timeout=10,
    )
    assert created.status_code == 202, created.text
    podcast_id = created.json()["podcast"]["id"]
    final = wait_for(bo, base, podcast_id, {"completed", "failed"})
    assert final["status"] == "completed", final

    script = bo.get(f"{base}/api/v1/podcasts/{podcast_id}/script", timeout=10).json()["script"]
    voices = [s["voice"] for s in script["speakers"]]
    assert len(set(voices)) == 4, voices
    segments = bo.get(f"{base}/api/v1/podcasts/{podcast_id}/transcript", timeout=10).json()[
        "segments"
    ]
    assert {s["name"] for s in segments} == {"Maya", "Theo", "Ines", "Ravi"}
    vtt = bo.get(f"{base}/api/v1/podcasts/{podcast_id}/transcript?format=vtt", timeout=10).text
    assert all(f"<v {name}>" in vtt for name in ("Maya", "Theo", "Ines", "Ravi"))

    samples = decode(download(bo, base, podcast_id))
    pitch = {}
    for name in ("Maya", "Theo", "Ines", "Ravi"):
        spoken = [s for s in segments[:-1] if s["name"] == name]
        pieces = [samples[int(s["start"] * 16000) : int(s["end"] * 16000)] for s in spoken]
        pitch[name] = median_pitch(np.concatenate(pieces))
    ordered = sorted(pitch.values())
    semitones = [12 * np.log2(b / a) for a, b in zip(ordered, ordered[1:])]
    # Every two speakers at least a semitone apart (a pitch step anyone hears; the voices
    # also differ in formants), measured on the panel's real lines.
    assert min(semitones) >= 1.0, pitch
