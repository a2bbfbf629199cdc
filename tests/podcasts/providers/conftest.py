"""Loopback provider servers, and settings pointing the real clients at them."""

from __future__ import annotations

import pytest

from tests.podcasts.providers.fakes import OpenAIServer, UnrealServer


@pytest.fixture
def unreal(settings):
    server = UnrealServer().start()
    settings.UNREAL_SPEECH_API_KEY = server.api_key
    settings.UNREAL_SPEECH_BASE_URL = server.url
    settings.UNREAL_SPEECH_TIMEOUT = 5.0
    settings.UNREAL_SPEECH_MAX_RETRIES = 3
    settings.TTS_RETRY_BACKOFF = 0.01  # the backoff's shape is tested, not its patience
    settings.TTS_RETRY_BACKOFF_MAX = 2.0
    settings.TTS_PROVIDER = "unreal"
    yield server
    server.stop()


@pytest.fixture
def openai_server(settings):
    server = OpenAIServer().start()
    settings.OPENAI_API_KEY = server.api_key
    settings.OPENAI_BASE_URL = f"{server.url}/v1"
    settings.OPENAI_TIMEOUT = 5.0
    settings.OPENAI_MAX_RETRIES = 2
    settings.OPENAI_TTS_ENABLED = True
    settings.SCRIPT_WRITER = "openai"
    yield server
    server.stop()
