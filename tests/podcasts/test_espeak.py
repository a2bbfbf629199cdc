"""Offline speech through eSpeak NG: real audio, distinct voices, clear errors."""

from __future__ import annotations

import io
import statistics
import threading
import warnings
import wave

import pytest

from podcasts.providers import registry
from podcasts.providers.base import GUEST, HOST, ProviderError
from podcasts.providers.espeak import LANGUAGES, VOICES, EspeakSpeech, available_variants

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

PARAGRAPH = (
    "The water cycle describes how water moves between the oceans, the atmosphere and the "
    "land. Heat from the sun evaporates water from the surface of oceans and lakes, and "
    "plants release water vapour through their leaves. As the moist air rises, it cools and "
    "the vapour condenses into tiny droplets that form clouds. When the droplets grow heavy "
    "enough, they fall back to the ground as rain, snow or hail."
)


@pytest.fixture(scope="module")
def speech() -> EspeakSpeech:
    return EspeakSpeech()


def read_wav(data: bytes) -> tuple[int, int, int, bytes]:
    with wave.open(io.BytesIO(data), "rb") as reader:
        frames = reader.readframes(reader.getnframes())
        return reader.getframerate(), reader.getnchannels(), reader.getsampwidth(), frames


def seconds(data: bytes) -> float:
    rate, _, width, frames = read_wav(data)
    return len(frames) / width / rate


def median_pitch(frames: bytes, rate: int) -> float:
    """Median fundamental frequency (Hz) of the voiced 4 ms windows, by autocorrelation
    (audioop.findfit finds where a window best repeats within the next 60-400 Hz)."""
    window, low_lag, high_lag = int(rate * 0.004), rate // 400, rate // 60
    estimates = []
    for start in range(0, len(frames) // 2 - high_lag - window, rate // 50):
        reference = frames[start * 2 : (start + window) * 2]
        if audioop.rms(reference, 2) < 1500:
            continue  # silence or a consonant: no pitch to measure
        search = frames[(start + low_lag) * 2 : (start + high_lag + window) * 2]
        offset, _ = audioop.findfit(search, reference)
        estimates.append(rate / (offset + low_lag))
    return statistics.median(estimates)


def test_it_speaks_non_silent_16_bit_mono_wav_at_22050_hz(speech):
    clip = speech.synthesize(text="Hello, and welcome to the show.", voice="en-us+f3")

    rate, channels, width, frames = read_wav(clip.data)
    assert clip.audio_format == "wav"
    assert (rate, channels, width) == (22050, 1, 2)
    assert 0.8 < len(frames) / width / rate < 4
    assert audioop.rms(frames, 2) > 1000


def test_longer_text_gives_proportionally_longer_audio(speech):
    short = seconds(speech.synthesize(text="The sun drives the cycle.", voice="en-us+m3").data)
    long = seconds(speech.synthesize(text=PARAGRAPH, voice="en-us+m3").data)

    assert long > 5 * short


def test_it_speaks_at_a_conversational_rate(speech):
    for voice in (VOICES[speech.default_voices()[HOST]], VOICES[speech.default_voices()[GUEST]]):
        duration = seconds(speech.synthesize(text=PARAGRAPH, voice=voice.voice.id).data)
        words_per_minute = len(PARAGRAPH.split()) / duration * 60
        assert 150 <= words_per_minute <= 185, (voice.voice.id, words_per_minute)


def test_host_and_guest_voices_sound_different(speech):
    voices = speech.default_voices()
    assert voices[HOST] != voices[GUEST]
    kinds = {voice.id: voice.gender for voice in speech.voices()}
    assert {kinds[voices[HOST]], kinds[voices[GUEST]]} == {"female", "male"}

    text = "Welcome back to the show. Today we are talking about the water cycle."
    host = read_wav(speech.synthesize(text=text, voice=voices[HOST]).data)
    guest = read_wav(speech.synthesize(text=text, voice=voices[GUEST]).data)

    # The host's female voice sits well above the guest's male one.
    assert median_pitch(host[3], host[0]) > 1.4 * median_pitch(guest[3], guest[0])


def test_every_offered_voice_exists_in_the_bundled_data_and_speaks(speech):
    assert {spec.variant for spec in VOICES.values()} <= available_variants()
    for voice in speech.voices():
        assert voice.language in LANGUAGES
        clip = speech.synthesize(text="Testing one two three.", voice=voice.id)
        assert seconds(clip.data) > 0.5


SAMPLES = {
    "en": "Welcome back to the show. Today we are talking about how rain forms in the clouds.",
    "es": "Bienvenidos al programa. Hoy hablamos de c\u00f3mo se forma la lluvia en las nubes.",
    "de": "Willkommen zur\u00fcck. Heute sprechen wir dar\u00fcber, wie Regen in Wolken entsteht.",
    "fr": "Bienvenue dans l'\u00e9mission. Aujourd'hui, nous parlons de la pluie et des nuages.",
}


def pitch_of(speech: EspeakSpeech, voice: str, language: str) -> float:
    rate, _, _, frames = read_wav(speech.synthesize(text=SAMPLES[language], voice=voice).data)
    return median_pitch(frames, rate)


def test_host_and_guest_are_at_least_40_hz_apart(speech):
    voices = speech.default_voices()

    host, guest = pitch_of(speech, voices[HOST], "en"), pitch_of(speech, voices[GUEST], "en")

    assert host - guest >= 40, (host, guest)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_each_language_has_four_clearly_different_voices(speech, language):
    ids = speech.distinct_voices(language)
    spoken = {voice.id: voice.language for voice in speech.voices()}

    assert len(set(ids)) == 4 and {spoken[voice] for voice in ids} == {language}
    assert len({VOICES[voice].variant for voice in ids}) == 4  # four different formant sets
    pitches = [pitch_of(speech, voice, language) for voice in ids]
    assert abs(pitches[0] - pitches[1]) >= 40, pitches  # host and guest
    for index, pitch in enumerate(pitches):
        for other in pitches[index + 1 :]:
            assert abs(pitch - other) >= 20, pitches


def test_a_script_in_another_language_is_voiced_by_its_speakers(speech):
    def resolve(voice: str, language: str) -> str:
        return registry.voice_resolve(provider_name="espeak", voice=voice, language=language)

    assert (resolve(HOST, "de"), resolve(GUEST, "de")) == tuple(speech.distinct_voices("de")[:2])
    assert resolve(HOST, "en") == speech.default_voices()[HOST]
    assert (
        registry.distinct_voices(provider_name="espeak", language="fr", count=3)
        == (speech.distinct_voices("fr")[:3])
    )
    # A language without speakers of its own keeps the English ones.
    assert resolve(GUEST, "ja") == speech.default_voices()[GUEST]


def test_an_unknown_voice_is_a_permanent_error(speech):
    with pytest.raises(ProviderError) as error:
        speech.synthesize(text="Hello.", voice="en-us+nobody")

    assert error.value.permanent


def test_empty_text_is_a_permanent_error(speech):
    with pytest.raises(ProviderError) as error:
        speech.synthesize(text=" \n\t\x00 ", voice="en-us+f3")

    assert error.value.permanent


def test_it_speaks_unicode_quotes_control_characters_and_very_long_lines(speech):
    awkward = "Caf\u00e9 \u201cquoted\u201d \u2014 it\u2019s <b>bold</b> \U0001f600\x00\x07 ok."
    assert seconds(speech.synthesize(text=awkward, voice="en-gb+f2").data) > 1

    long_line = " ".join(f"sentence number {n} keeps going" for n in range(400))
    assert seconds(speech.synthesize(text=long_line, voice="en-gb+m1").data) > 200


def test_concurrent_calls_do_not_mix_their_audio(speech):
    texts = ["Short line.", PARAGRAPH, "A medium length line about the weather today."]
    expected = [seconds(speech.synthesize(text=t, voice="en-us+f3").data) for t in texts]
    results: dict[int, float] = {}

    def speak(index: int) -> None:
        text = texts[index % 3]
        results[index] = seconds(speech.synthesize(text=text, voice="en-us+f3").data)

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for index, duration in results.items():
        assert duration == pytest.approx(expected[index % 3], abs=0.05)
