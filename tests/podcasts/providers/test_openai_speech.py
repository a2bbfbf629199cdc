"""OpenAI text-to-speech through the official SDK against a loopback /v1/audio/speech."""

from __future__ import annotations

import pytest

from podcasts.providers.base import ProviderError
from podcasts.providers.openai_speech import OpenAISpeech
from tests.podcasts.providers.fakes import Reply, mp3_tone, openai_error


def test_it_asks_for_mp3_with_the_model_voice_and_delivery_instructions(openai_server, settings):
    settings.OPENAI_TTS_MODEL = "gpt-4o-mini-tts"
    settings.OPENAI_TTS_INSTRUCTIONS = "Warm and curious."

    clip = OpenAISpeech().synthesize(text="Welcome to line 2.", voice="coral")

    assert clip.audio_format == "mp3" and clip.data == mp3_tone(1.2)
    (request,) = openai_server.to("/v1/audio/speech")
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.json == {
        "model": "gpt-4o-mini-tts",
        "voice": "coral",
        "input": "Welcome to line 2.",
        "response_format": "mp3",
        "instructions": "Warm and curious.",
    }


def test_models_without_instructions_are_not_sent_any(openai_server, settings):
    settings.OPENAI_TTS_MODEL = "tts-1"

    OpenAISpeech().synthesize(text="Plain.", voice="onyx")

    (request,) = openai_server.to("/v1/audio/speech")
    assert "instructions" not in request.json and request.json["model"] == "tts-1"


def test_a_line_over_4096_characters_is_split_at_sentences(openai_server):
    text = " ".join(f"Point {n} is made in one calm, complete sentence here." for n in range(160))
    assert len(text) > 8192

    OpenAISpeech().synthesize(text=text, voice="coral")

    sent = [r.json["input"] for r in openai_server.to("/v1/audio/speech")]
    assert len(sent) == 3 and all(len(piece) <= 4096 for piece in sent)
    assert all(piece.endswith("here.") for piece in sent)
    assert " ".join(sent) == text


def test_a_429_with_retry_after_is_retried_by_the_sdk(openai_server):
    replies = iter([openai_error(429, "Slow down", "rate_limit_exceeded", {"Retry-After": "1"})])
    openai_server.respond = lambda request: next(replies, None)

    OpenAISpeech().synthesize(text="Line 1.", voice="coral")

    first, second = openai_server.to("/v1/audio/speech")
    assert second.at - first.at >= 0.95


def test_a_500_then_200_is_retried(openai_server):
    replies = iter([openai_error(500, "The server had an error", None)])
    openai_server.respond = lambda request: next(replies, None)

    OpenAISpeech().synthesize(text="Line 1.", voice="coral")

    assert len(openai_server.to("/v1/audio/speech")) == 2


def test_a_timeout_is_retried(openai_server, settings):
    settings.OPENAI_TIMEOUT = 0.3
    replies = iter([Reply(200, mp3_tone(0.4), delay=1.0)])
    openai_server.respond = lambda request: next(replies, None)

    clip = OpenAISpeech().synthesize(text="Line 1.", voice="coral")

    assert clip.data == mp3_tone(0.8)
    assert len(openai_server.to("/v1/audio/speech")) == 2


def test_a_bad_key_fails_at_once_naming_the_provider_and_the_cause(openai_server, settings):
    settings.OPENAI_API_KEY = "sk-wrong"

    with pytest.raises(ProviderError) as caught:
        OpenAISpeech().synthesize(text="Hello.", voice="coral")

    assert caught.value.permanent
    assert "OpenAI text-to-speech" in caught.value.message and "401" in caught.value.message
    assert len(openai_server.to("/v1/audio/speech")) == 1


def test_an_outage_is_a_transient_error_after_the_sdk_retries(openai_server, settings):
    settings.OPENAI_MAX_RETRIES = 1
    openai_server.respond = lambda request: openai_error(503, "Overloaded", None)

    with pytest.raises(ProviderError) as caught:
        OpenAISpeech().synthesize(text="Hello.", voice="coral")

    assert not caught.value.permanent and "503" in caught.value.message
    assert len(openai_server.to("/v1/audio/speech")) == 2
