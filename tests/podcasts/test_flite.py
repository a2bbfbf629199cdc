"""Offline speech through the system's CMU Flite: real audio, offered only where installed."""

from __future__ import annotations

import io
import wave

import pytest
from django.conf import settings as django_settings

from podcasts.pipeline.audio import audio_assemble, measure_levels
from podcasts.providers import registry
from podcasts.providers.base import GUEST, HOST, ProviderError
from podcasts.providers.flite import VOICES, FliteSpeech, ascii_text, flite_available


@pytest.fixture
def flite() -> FliteSpeech:
    """Skip locally, fail in CI (.ci/run installs it), when the flite program is missing."""
    if not flite_available():
        if django_settings.CI:
            pytest.fail("CI must provide the flite program (apt-get install flite)")
        pytest.skip("needs the flite program (apt-get install flite)")
    return FliteSpeech()


def wav_of(data: bytes) -> tuple[int, int, bytes]:
    with wave.open(io.BytesIO(data)) as reader:
        return reader.getframerate(), reader.getnchannels(), reader.readframes(reader.getnframes())


def test_every_voice_speaks_a_mono_wav_at_a_conversational_pace(flite):
    text = "Warm air rises, cools, and its water vapour condenses into tiny droplets."
    for voice in flite.voices():
        clip = flite.synthesize(text=text, voice=voice.id)

        rate, channels, frames = wav_of(clip.data)
        assert (clip.audio_format, channels) == ("wav", 1)
        words_per_minute = len(text.split()) / (len(frames) / 2 / rate) * 60
        assert 120 <= words_per_minute <= 220, (voice.id, words_per_minute)


def test_the_defaults_are_a_female_host_and_a_male_guest(flite):
    genders = {voice.id: voice.gender for voice in flite.voices()}
    defaults = flite.default_voices()

    assert (genders[defaults[HOST]], genders[defaults[GUEST]]) == ("female", "male")


def test_typographic_text_is_read_as_plain_ascii(flite):
    assert ascii_text("Caf\u00e9 \u201cquoted\u201d \u2014 it\u2019s\x00 ok") == (
        'Cafe "quoted" , it\'s ok'
    )
    clip = flite.synthesize(text="Caf\u00e9 \u201cquoted\u201d \u2014 it\u2019s ok.", voice="slt")
    assert len(wav_of(clip.data)[2]) > 16000  # over half a second of speech


def test_unknown_voices_and_empty_text_are_permanent_errors(flite):
    for text, voice in [("Hello.", "nobody"), (" \u2014 \x00 ", "slt")]:
        with pytest.raises(ProviderError) as error:
            flite.synthesize(text=text, voice=voice)
        assert error.value.permanent


def test_a_missing_program_is_not_offered_and_fails_plainly(settings):
    settings.FLITE_BINARY = "/nonexistent/flite"

    assert "flite" not in registry.speech_provider_names()
    with pytest.raises(ProviderError) as error:
        FliteSpeech().synthesize(text="Hello.", voice="slt")
    assert error.value.permanent and "not installed" in error.value.message


def test_an_installed_flite_is_a_provider_chosen_by_setting(flite, settings):
    settings.TTS_PROVIDER = "flite"

    assert "flite" in registry.speech_provider_names()
    assert registry.default_speech_provider_name() == "flite"
    assert set(registry.voice_ids("flite")) == set(VOICES)
    assert registry.voice_resolve(provider_name="flite", voice=HOST) == "slt"


def test_voices_lists_flite_when_installed(flite, owner_client):
    body = owner_client.get("/api/v1/voices").json()

    providers = {p["name"]: p for p in body["providers"]}
    assert providers["flite"]["defaults"] == {"host": "slt", "guest": "awb"}
    assert {v["id"] for v in providers["flite"]["voices"]} == {"slt", "awb", "rms", "kal16"}


def test_a_flite_episode_is_broadcast_safe(flite):
    lines = [
        (HOST, "Welcome back. Today: how rain forms."),
        (GUEST, "Warm air rises and cools, and the vapour condenses into droplets."),
        (HOST, "And then?"),
        (GUEST, "Droplets merge until the rising air can no longer hold them up."),
    ]
    voices = flite.default_voices()
    clips = [(s, t, flite.synthesize(text=t, voice=voices[s])) for s, t in lines]

    levels = measure_levels(audio_assemble(lines=clips, title="Rain").mp3)

    assert levels.integrated == pytest.approx(-16, abs=1)
    assert levels.true_peak <= -1.0
