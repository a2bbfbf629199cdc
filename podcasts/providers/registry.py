"""Which providers are configured, chosen by setting; the offline ones are always there."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from podcasts.providers.base import GUEST, HOST, ScriptWriter, SpeechProvider


@cache
def _speech_providers() -> dict[str, SpeechProvider]:
    from podcasts.providers.espeak import EspeakSpeech

    return {"espeak": EspeakSpeech()}


def speech_provider_names() -> list[str]:
    return list(_speech_providers())


def default_speech_provider_name() -> str:
    name = settings.TTS_PROVIDER
    return name if name in _speech_providers() else "espeak"


def speech_provider(name: str) -> SpeechProvider:
    return _speech_providers()[name]


def script_writer() -> ScriptWriter:
    from podcasts.providers.offline_script import OfflineScriptWriter

    return OfflineScriptWriter()


def voice_ids(provider_name: str) -> list[str]:
    return [voice.id for voice in speech_provider(provider_name).voices()]


def voice_resolve(*, provider_name: str, voice: str) -> str:
    """Map a logical name ("host"/"guest") or a voice id to the provider's voice id."""
    provider = speech_provider(provider_name)
    if voice in (HOST, GUEST):
        return provider.default_voices()[voice]
    return voice


def voice_is_known(*, provider_name: str, voice: str) -> bool:
    return voice in (HOST, GUEST) or voice in voice_ids(provider_name)
