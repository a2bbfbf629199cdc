"""Unreal Speech v8 through our client against a loopback /stream server."""

from __future__ import annotations

import pytest

from podcasts.pipeline.audio import decode_clip
from podcasts.providers.base import ProviderError, SpeechClip
from podcasts.providers.unreal_speech import UnrealSpeech
from tests.podcasts.providers.fakes import Reply, mp3_tone, tone_for

SAMPLES_PER_SECOND = 24000


def seconds_of(clip) -> float:
    return len(decode_clip(clip)) / 2 / SAMPLES_PER_SECOND


def test_it_sends_the_v8_request_and_returns_the_mp3(unreal, settings):
    settings.UNREAL_SPEECH_BITRATE = "128k"
    settings.UNREAL_SPEECH_SPEED = 0.2
    settings.UNREAL_SPEECH_PITCH = 1.1

    clip = UnrealSpeech().synthesize(text="Hello there, line 1.", voice="Noah")

    assert clip.audio_format == "mp3" and clip.data == mp3_tone(0.8)
    (request,) = unreal.to("/stream")
    assert request.headers["authorization"] == "Bearer unreal-test-key"
    assert request.json == {
        "Text": "Hello there, line 1.",
        "VoiceId": "Noah",
        "Bitrate": "128k",
        "Speed": 0.2,
        "Pitch": 1.1,
        "Codec": "libmp3lame",
    }


def test_a_line_over_1000_characters_is_split_at_sentences_and_joined(unreal):
    sentences = [f"Sentence number {n} says something worth hearing today." for n in range(40)]
    text = " ".join(sentences)
    assert len(text) > 2000

    clip = UnrealSpeech().synthesize(text=text, voice="Sierra")

    sent = [r.json["Text"] for r in unreal.to("/stream")]
    assert len(sent) == 3 and all(len(piece) <= 1000 for piece in sent)
    assert all(piece.endswith("today.") for piece in sent), "cut between sentences"
    assert " ".join(sent) == text, "nothing dropped, nothing reordered"
    # Three MP3s (each with its own ID3 tag) decode as one clip as long as the three.
    expected = sum(seconds_of(SpeechClip(mp3_tone(tone_for(piece)), "mp3")) for piece in sent)
    assert seconds_of(clip) == pytest.approx(expected, abs=0.1)


def test_a_429_waits_for_retry_after_then_succeeds(unreal):
    replies = iter([Reply(429, {"message": "Too many requests"}, {"Retry-After": "1"})])
    unreal.respond = lambda request: next(replies, None)

    clip = UnrealSpeech().synthesize(text="Patience, line 2.", voice="Noah")

    first, second = unreal.to("/stream")
    assert clip.data == mp3_tone(1.2)
    assert second.at - first.at >= 0.95, "Retry-After is honoured before the next call"


def test_a_500_then_200_is_retried(unreal):
    replies = iter([Reply(500, {"message": "upstream hiccup"})])
    unreal.respond = lambda request: next(replies, None)

    UnrealSpeech().synthesize(text="Again, line 1.", voice="Noah")

    assert len(unreal.to("/stream")) == 2


def test_a_timeout_is_retried(unreal, settings):
    settings.UNREAL_SPEECH_TIMEOUT = 0.3
    replies = iter([Reply(200, mp3_tone(0.4), delay=1.0)])
    unreal.respond = lambda request: next(replies, None)

    clip = UnrealSpeech().synthesize(text="Slowly, line 1.", voice="Noah")

    assert clip.data == mp3_tone(0.8)
    assert len(unreal.to("/stream")) == 2


def test_a_bad_key_fails_at_once_naming_the_provider_and_the_cause(unreal, settings):
    settings.UNREAL_SPEECH_API_KEY = "wrong"

    with pytest.raises(ProviderError) as caught:
        UnrealSpeech().synthesize(text="Hello.", voice="Noah")

    assert caught.value.permanent
    assert "Unreal Speech" in caught.value.message and "401" in caught.value.message
    assert len(unreal.to("/stream")) == 1, "a bad key is not retried"


def test_a_400_is_permanent(unreal):
    with pytest.raises(ProviderError) as caught:
        UnrealSpeech().synthesize(text="Hello.", voice="")

    assert caught.value.permanent and "400" in caught.value.message
    assert len(unreal.to("/stream")) == 1


def test_an_outage_gives_up_after_the_retries_as_a_transient_error(unreal, settings):
    settings.UNREAL_SPEECH_MAX_RETRIES = 2
    unreal.respond = lambda request: Reply(503, {"message": "maintenance"})

    with pytest.raises(ProviderError) as caught:
        UnrealSpeech().synthesize(text="Hello.", voice="Noah")

    assert not caught.value.permanent
    assert "503" in caught.value.message and "3 attempts" in caught.value.message
    assert len(unreal.to("/stream")) == 3


def test_a_retry_after_longer_than_the_backoff_cap_is_left_to_the_job_retry(unreal, settings):
    settings.TTS_RETRY_BACKOFF_MAX = 2.0
    unreal.respond = lambda request: Reply(429, {"message": "quota"}, {"Retry-After": "600"})

    with pytest.raises(ProviderError) as caught:
        UnrealSpeech().synthesize(text="Hello.", voice="Noah")

    assert not caught.value.permanent and caught.value.retry_after == 600
    assert len(unreal.to("/stream")) == 1, "no thread sleeps ten minutes"
