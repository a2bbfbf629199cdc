"""Whole jobs through the real providers' wire formats: parallel, ordered, resumable."""

from __future__ import annotations

import json
import threading

import pytest

from podcasts import services
from podcasts.models import Podcast, PodcastStatus
from podcasts.pipeline import generate as generate_module
from podcasts.pipeline.generate import TransientJobError, podcast_generate
from tests.factories import SAMPLE_NOTES
from tests.podcasts.providers.fakes import Reply, script_json, tone_for

pytestmark = pytest.mark.django_db


def generate(podcast, job, **kwargs):
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id, **kwargs)
    podcast.refresh_from_db()
    return podcast


def create(owner_client, **fields):
    body = {"noteContent": SAMPLE_NOTES, **fields}
    response = owner_client.post("/api/v1/podcasts", body, format="json")
    assert response.status_code == 202, response.content
    podcast = Podcast.objects.get(id=response.json()["podcast"]["id"])
    return podcast, podcast.jobs.get()


def assert_transcript_follows_the_script(podcast, lines: int):
    texts = [segment["text"] for segment in podcast.transcript]
    assert texts == [line["text"] for line in script_json(lines)["lines"]]
    for segment in podcast.transcript[:-1]:  # the last one also holds the closing silence
        # Each line's audio is the tone its own text asked for: clips were not shuffled.
        assert segment["end"] - segment["start"] == pytest.approx(
            tone_for(segment["text"]), abs=0.1
        )


def test_a_full_job_with_openai_script_and_unreal_voices(owner_client, unreal, openai_server):
    podcast, job = create(owner_client, ttsProvider="unreal")
    assert generate(podcast, job).status == PodcastStatus.COMPLETED

    assert podcast.title == "Bees at work"
    assert_transcript_follows_the_script(podcast, 12)
    voices = {r.json["VoiceId"] for r in unreal.to("/stream")}
    assert voices == {"Sierra", "Noah"}  # the default host and guest
    assert len(unreal.to("/stream")) == 12


def test_a_full_job_with_openai_script_and_openai_voices(owner_client, openai_server, settings):
    settings.OPENAI_TTS_HOST_VOICE = "nova"
    podcast, job = create(owner_client, ttsProvider="openai", guestVoice="onyx")
    assert generate(podcast, job).status == PodcastStatus.COMPLETED

    assert_transcript_follows_the_script(podcast, 12)
    requests = openai_server.to("/v1/audio/speech")
    host_lines = [r for r in requests if r.json["voice"] == "nova"]
    guest_lines = [r for r in requests if r.json["voice"] == "onyx"]
    assert len(host_lines) == len(guest_lines) == 6


def test_language_and_instructions_reach_the_script_prompt(owner_client, unreal, openai_server):
    # OpenAI's voices speak German; Unreal's (American English) would be refused.
    podcast, job = create(
        owner_client, language="de", instructions="Sound like old friends.", ttsProvider="openai"
    )
    generate(podcast, job)

    (chat,) = openai_server.to("/v1/chat/completions")
    prompt = "\n".join(m["content"] for m in chat.json["messages"])
    assert "German" in prompt and "Sound like old friends." in prompt


def test_lines_are_voiced_concurrently_up_to_the_setting_and_kept_in_order(
    owner_client, unreal, openai_server, settings
):
    settings.TTS_CONCURRENCY_UNREAL = 4
    openai_server.write = lambda body: json.dumps(script_json(16))
    in_flight, peak, lock = 0, 0, threading.Lock()
    release = threading.Barrier(4, timeout=5)

    def respond(request):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        number = int(request.json["Text"].split()[3].rstrip("."))
        if number < 4:
            release.wait()  # the first four only answer once all four are in flight
        with lock:
            in_flight -= 1
        # Later lines answer faster than earlier ones: order must come from the index.
        return Reply(200, unreal.answer(request).body, delay=(16 - number) * 0.005)

    unreal.respond = respond
    podcast, job = create(owner_client)
    assert generate(podcast, job).status == PodcastStatus.COMPLETED

    assert peak == 4
    assert_transcript_follows_the_script(podcast, 16)


def test_a_job_that_fails_half_way_resumes_without_paying_twice(
    owner_client, unreal, openai_server, settings
):
    settings.TTS_CONCURRENCY_UNREAL = 3
    settings.UNREAL_SPEECH_MAX_RETRIES = 0
    openai_server.write = lambda body: json.dumps(script_json(10))
    outage = True

    def respond(request):
        if outage and "line 6." in request.json["Text"]:
            return Reply(503, {"message": "maintenance"})
        return None

    unreal.respond = respond
    podcast, job = create(owner_client)
    with pytest.raises(TransientJobError):
        generate(podcast, job, final_attempt=False)
    first_run = {r.json["Text"] for r in unreal.to("/stream")}
    bought = {r.json["Text"] for r in unreal.to("/stream") if "line 6." not in r.json["Text"]}
    assert 0 < len(bought) < 10

    outage = False
    unreal.requests.clear()
    assert generate(podcast, job, final_attempt=False).status == PodcastStatus.COMPLETED

    second_run = [r.json["Text"] for r in unreal.to("/stream")]
    everything = {line["text"] for line in script_json(10)["lines"]}
    assert sorted(second_run) == sorted(everything - bought), "only the missing lines"
    assert "This is line 6." in " ".join(second_run) and first_run
    assert len(openai_server.to("/v1/chat/completions")) == 1, "the script is reused too"
    assert_transcript_follows_the_script(podcast, 10)


def test_a_bad_key_fails_the_job_at_once_with_the_provider_and_cause(
    owner_client, unreal, openai_server, settings
):
    podcast, job = create(owner_client)
    settings.UNREAL_SPEECH_API_KEY = "revoked"

    assert generate(podcast, job, final_attempt=False).status == PodcastStatus.FAILED
    assert "Unreal Speech" in podcast.error and "401" in podcast.error
    assert len(unreal.to("/stream")) <= settings.TTS_CONCURRENCY_UNREAL, "no retries"


def test_a_refusing_model_fails_the_job_with_a_clear_error(owner_client, unreal, openai_server):
    from tests.podcasts.providers.fakes import chat_completion

    openai_server.respond = lambda request: Reply(
        200, chat_completion(None, model="m", refusal="Not this topic.")
    )
    podcast, job = create(owner_client)

    assert generate(podcast, job, final_attempt=False).status == PodcastStatus.FAILED
    assert "OpenAI script writer" in podcast.error and "Not this topic." in podcast.error
    assert unreal.to("/stream") == []


def test_a_cancelled_job_stops_voicing(owner, unreal, openai_server, settings, monkeypatch):
    settings.TTS_CONCURRENCY_UNREAL = 2
    openai_server.write = lambda body: json.dumps(script_json(20))
    podcast, job = services.podcast_create(
        user=owner, note_content=SAMPLE_NOTES, tts_provider="unreal"
    )
    original = generate_module._ProgressTracker.__call__

    def cancel_at_the_third_line(self, percent, step):
        if step.startswith("Voicing line 3 "):
            services.podcast_delete(user=owner, podcast_id=podcast.id)
        original(self, percent, step)

    monkeypatch.setattr(generate_module._ProgressTracker, "__call__", cancel_at_the_third_line)
    assert generate(podcast, job).status == PodcastStatus.CANCELLED
    # Three lines done, at most two more in flight when the cancel was seen; none after.
    assert len(unreal.to("/stream")) <= 5
