"""Which providers are configured, chosen by setting; the offline ones are always there.

Providers are built per call (cheap: clients and sessions open lazily), so a settings
change, in tests or after a reload, takes effect without a stale cached client.
"""

from __future__ import annotations

from django.conf import settings

from podcasts.providers.base import GUEST, HOST, ScriptWriter, SpeechProvider


def _speech_providers() -> dict[str, SpeechProvider]:
    from podcasts.providers.espeak import EspeakSpeech
    from podcasts.providers.flite import FliteSpeech, flite_available

    providers: dict[str, SpeechProvider] = {}
    if settings.UNREAL_SPEECH_API_KEY:
        from podcasts.providers.unreal_speech import UnrealSpeech

        providers["unreal"] = UnrealSpeech()
    if settings.OPENAI_TTS_ENABLED:
        from podcasts.providers.openai_speech import OpenAISpeech

        providers["openai"] = OpenAISpeech()
    if flite_available():  # only where the system has the program
        providers["flite"] = FliteSpeech()
    providers["espeak"] = EspeakSpeech()
    return providers


def speech_provider_names() -> list[str]:
    return list(_speech_providers())


def default_speech_provider_name() -> str:
    name = settings.TTS_PROVIDER
    return name if name in _speech_providers() else "espeak"


def speech_provider(name: str) -> SpeechProvider:
    return _speech_providers()[name]


def speech_concurrency(name: str) -> int:
    """How many lines of one job this provider voices at once."""
    return {
        "unreal": settings.TTS_CONCURRENCY_UNREAL,
        "openai": settings.TTS_CONCURRENCY_OPENAI,
        "espeak": settings.TTS_CONCURRENCY_ESPEAK,
        "flite": settings.TTS_CONCURRENCY_FLITE,
    }.get(name, settings.TTS_CONCURRENCY)


def script_writer() -> ScriptWriter:
    if settings.SCRIPT_WRITER == "openai":
        from podcasts.providers.openai_script import OpenAIScriptWriter

        return OpenAIScriptWriter()
    from podcasts.providers.offline_script import OfflineScriptWriter

    return OfflineScriptWriter()


# What the offline writer's own phrases are written in (the notes' sentences it speaks as
# they are). The OpenAI writer writes any language its model knows.
OFFLINE_SCRIPT_LANGUAGES = frozenset({"en", "es", "de", "fr"})


def script_languages() -> frozenset[str] | None:
    """Languages the configured script writer writes, or None for any."""
    writer = script_writer()
    default = OFFLINE_SCRIPT_LANGUAGES if writer.name == "offline" else None
    return getattr(writer, "languages", default)


def voice_ids(provider_name: str) -> list[str]:
    return [voice.id for voice in speech_provider(provider_name).voices()]


def voice_resolve(*, provider_name: str, voice: str, language: str = "en") -> str:
    """Map a logical name ("host"/"guest") or a voice id to the provider's voice id.

    A logical name maps to the provider's configured default; when that voice does not
    speak `language` but others of the provider do, one of those is taken instead, of the
    default's gender where possible (host from the front of the list, guest from the back,
    so the two differ).
    """
    if voice not in (HOST, GUEST):
        return voice
    provider = speech_provider(provider_name)
    default = provider.default_voices()[voice]
    voices = provider.voices()
    chosen = next((v for v in voices if v.id == default), None)
    if chosen is None or chosen.language in (language, "mul"):
        return default
    chooser = getattr(provider, "distinct_voices", None)
    if chooser is not None and (ids := chooser(language)):
        return ids[0] if voice == HOST else ids[min(1, len(ids) - 1)]
    speaking = [v for v in voices if v.language == language]
    if not speaking:
        return default  # nobody speaks it: the default reads the text as best it can
    candidates = [v for v in speaking if v.gender == chosen.gender] or speaking
    return (candidates[0] if voice == HOST else candidates[-1]).id


def distinct_voices(*, provider_name: str, language: str = "en", count: int = 4) -> list[str]:
    """Up to `count` voice ids that speak `language` and sound clearly different from each
    other, in the order speakers take them: host, guest, then a third and a fourth.

    A provider that knows which of its voices differ (eSpeak: pitch and formant variants)
    says so with `distinct_voices(language)`; otherwise the resolved host and guest come
    first, then the provider's other voices of the language, alternating gender.
    """
    provider = speech_provider(provider_name)
    chooser = getattr(provider, "distinct_voices", None)
    if chooser is not None and (ids := chooser(language)):
        return ids[:count]
    first = [
        voice_resolve(provider_name=provider_name, voice=role, language=language)
        for role in (HOST, GUEST)
    ]
    rest = [v for v in provider.voices() if v.language in (language, "mul") and v.id not in first]
    by_gender = {g: [v.id for v in rest if v.gender == g] for g in {v.gender for v in rest}}
    ordered = list(dict.fromkeys(first))
    while any(by_gender.values()) and len(ordered) < count:
        for ids in by_gender.values():
            if ids and len(ordered) < count:
                ordered.append(ids.pop(0))
    return ordered[:count]


def voice_is_known(*, provider_name: str, voice: str) -> bool:
    return voice in (HOST, GUEST) or voice in voice_ids(provider_name)
