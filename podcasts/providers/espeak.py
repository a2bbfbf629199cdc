"""Offline speech: eSpeak NG loaded with ctypes from the `espeakng-loader` wheel.

The wheel ships the shared library and its voice data, so no system package is needed.
eSpeak keeps global state (one current voice, one callback) and is not thread-safe, so the
library is initialised once per process and every synthesis runs under one lock.
"""

from __future__ import annotations

import ctypes
import io
import os
import threading
import unicodedata
import wave
from dataclasses import dataclass

import espeakng_loader

from .base import GUEST, HOST, ProviderError, SpeechClip, Voice

# Constants from espeak-ng/speak_lib.h.
AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_CHARS_UTF8 = 1
ESPEAK_RATE = 1
ESPEAK_PITCH = 3
ESPEAK_RANGE = 4
EE_OK = 0

SAMPLE_WIDTH = 2  # eSpeak always delivers signed 16-bit mono samples

# int callback(short *wav, int numsamples, espeak_EVENT *events)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass(frozen=True)
class EspeakVoice:
    """One voice we offer: eSpeak's language voice plus a variant from `voices/!v`."""

    voice: Voice
    language_voice: str  # name eSpeak's espeak_SetVoiceByName accepts, e.g. "en-us"
    variant: str  # file name under espeak-ng-data/voices/!v, e.g. "f3"
    rate: int  # words per minute
    pitch: int  # 0..100, 50 is the variant's own pitch
    pitch_range: int  # 0..100, 50 is normal intonation

    @property
    def espeak_name(self) -> str:
        return f"{self.language_voice}+{self.variant}"


def _voice(
    voice_id: str,
    name: str,
    gender: str,
    variant_of: str,
    rate: int,
    pitch: int,
    language: str = "en",
) -> EspeakVoice:
    language_voice, variant = variant_of.split("+")
    return EspeakVoice(
        voice=Voice(id=voice_id, name=name, gender=gender, language=language),
        language_voice=language_voice,
        variant=variant,
        rate=rate,
        pitch=pitch,
        pitch_range=55,
    )


# eSpeak's British English voice is called plain "en"; the ids say "en-gb" to be clear.
# Voices offered before the measurement below; podcasts may have stored their ids.
_EARLIER = (
    _voice("en-us+f3", "American English, female", "female", "en-us+f3", 170, 58),
    _voice("en-us+m3", "American English, male", "male", "en-us+m3", 162, 42),
    _voice("en-us+f4", "American English, female (warm)", "female", "en-us+f4", 166, 52),
    _voice("en-gb+f2", "British English, female", "female", "en+f2", 168, 55),
    _voice("en-gb+m1", "British English, male", "male", "en+m1", 164, 45),
)

# eSpeak language voices we offer speakers in: ISO 639-1 code -> (eSpeak name, label).
LANGUAGES = {
    "en": ("en-us", "American English"),
    "es": ("es", "Spanish"),
    "de": ("de", "German"),
    "fr": ("fr", "French"),
}


@dataclass(frozen=True)
class Speaker:
    """One of the four speakers every language gets: a variant (formants), pace, pitch."""

    variant: str
    rate: int
    pitch: int
    gender: str
    description: str


# The speakers in the order a script takes them: host, guest, a third, a fourth.
# Chosen by bench/intelligibility.py (faster-whisper tiny.en on 42 real sentences, English):
# the host is the clearest high-register variant, the guest the clearest low-register one
# (word error rates in the README's "Offline speech and audio"); the third and fourth are other
# formant variants placed in pitch between and below them, so that all four differ by at
# least 20 Hz of median pitch and host and guest by over 80 Hz (tests/podcasts/test_espeak.py).
SPEAKERS = (
    Speaker("f2", 150, 50, "female", ""),
    Speaker("m1", 160, 50, "male", ""),
    Speaker("f4", 160, 35, "female", "low"),
    Speaker("m7", 160, 70, "male", "light"),
)


def _speaker_voice(language: str, speaker: Speaker) -> EspeakVoice:
    language_voice, label = LANGUAGES[language]
    voice_id = f"{language_voice}+{speaker.variant}"
    if speaker.pitch != 50:
        voice_id += f"-p{speaker.pitch}"
    name = f"{label}, {speaker.gender}" + (f" ({speaker.description})" * bool(speaker.description))
    variant_of = f"{language_voice}+{speaker.variant}"
    return _voice(voice_id, name, speaker.gender, variant_of, speaker.rate, speaker.pitch, language)


_SPEAKER_VOICES = {
    language: [_speaker_voice(language, speaker) for speaker in SPEAKERS] for language in LANGUAGES
}
# Speakers first, language by language: callers that hand out "the next unused voice"
# (podcasts.speakers) then take the third and fourth speakers, not an earlier voice.
VOICES: dict[str, EspeakVoice] = {
    v.voice.id: v for voices in _SPEAKER_VOICES.values() for v in voices
}
for _earlier in _EARLIER:
    VOICES.setdefault(_earlier.voice.id, _earlier)
DEFAULT_VOICES = {
    HOST: _SPEAKER_VOICES["en"][0].voice.id,
    GUEST: _SPEAKER_VOICES["en"][1].voice.id,
}


def distinct_voices(language: str) -> list[str]:
    """The four clearly different voice ids speaking `language` (host, guest, third,
    fourth), or [] when eSpeak has no speakers of ours for it."""
    return [v.voice.id for v in _SPEAKER_VOICES.get(language, [])]


class _Engine:
    """The process-wide eSpeak instance. Callers must hold `_lock` around every method."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,  # text
            ctypes.c_size_t,  # size
            ctypes.c_uint,  # position
            ctypes.c_int,  # position_type
            ctypes.c_uint,  # end_position
            ctypes.c_uint,  # flags
            ctypes.c_void_p,  # unique_identifier
            ctypes.c_void_p,  # user_data
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int

        self.data_path = espeakng_loader.get_data_path()
        self.sample_rate = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, os.fsencode(self.data_path), 0
        )
        if self.sample_rate <= 0:
            raise ProviderError("eSpeak NG failed to initialise", permanent=True)
        self._lib = lib
        self._chunks: list[bytes] = []
        # Keep a reference: ctypes frees the trampoline when the Python object dies.
        self._callback = _SYNTH_CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, num_samples: int, events) -> int:
        if num_samples > 0:
            self._chunks.append(ctypes.string_at(wav, num_samples * SAMPLE_WIDTH))
        return 0  # 0 = keep going

    def synthesize(self, text: str, spec: EspeakVoice) -> bytes:
        if self._lib.espeak_SetVoiceByName(spec.espeak_name.encode()) != EE_OK:
            raise ProviderError(f"eSpeak has no voice {spec.espeak_name!r}", permanent=True)
        # Set after the voice: selecting a voice resets these to the voice's defaults.
        self._lib.espeak_SetParameter(ESPEAK_RATE, spec.rate, 0)
        self._lib.espeak_SetParameter(ESPEAK_PITCH, spec.pitch, 0)
        self._lib.espeak_SetParameter(ESPEAK_RANGE, spec.pitch_range, 0)
        encoded = text.encode("utf-8") + b"\0"
        self._chunks = []
        status = self._lib.espeak_Synth(
            encoded, len(encoded), 0, 0, 0, ESPEAK_CHARS_UTF8, None, None
        )
        self._lib.espeak_Synchronize()
        pcm, self._chunks = b"".join(self._chunks), []
        if status != EE_OK:
            raise ProviderError(f"eSpeak synthesis failed with status {status}")
        return pcm


_lock = threading.Lock()
_engine: _Engine | None = None


def _reset_lock_after_fork() -> None:
    # A forked worker inherits the lock in whatever state a parent thread left it.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_lock_after_fork)


def _get_engine() -> _Engine:
    """Return the process's engine, initialising it on first use. Caller holds `_lock`."""
    global _engine
    if _engine is None:
        try:
            _engine = _Engine()
        except OSError as exc:  # the wheel's library is missing or built for another OS
            raise ProviderError(f"eSpeak NG could not be loaded: {exc}", permanent=True) from exc
    return _engine


def clean_text(text: str) -> str:
    """Make arbitrary text safe to hand to eSpeak: no NULs or control characters."""
    kept = []
    for char in unicodedata.normalize("NFC", text):
        if char in "\n\r\t":
            kept.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def pcm_to_wav(pcm: bytes, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def available_variants() -> set[str]:
    """Variant names present in the wheel's data, e.g. {"f3", "m1", ...}."""
    return set(os.listdir(os.path.join(espeakng_loader.get_data_path(), "voices", "!v")))


def speak(spec: EspeakVoice, text: str) -> tuple[bytes, int]:
    """16-bit mono PCM of `text` in the voice `spec` (need not be one of VOICES), and its
    sample rate. Serialised: eSpeak has one global voice and callback."""
    spoken = clean_text(text)
    if not spoken:
        raise ProviderError("Nothing to say: the text is empty", permanent=True)
    with _lock:
        engine = _get_engine()
        pcm = engine.synthesize(spoken, spec)
        sample_rate = engine.sample_rate
    if not pcm:
        raise ProviderError(f"eSpeak produced no audio for {spoken[:40]!r}", permanent=True)
    return pcm, sample_rate


class EspeakSpeech:
    """SpeechProvider speaking English, Spanish, German and French through eSpeak NG,
    entirely offline."""

    name = "espeak"
    # Free and fast: not worth storage (a re-render keeps unchanged lines' MP3 frames).
    cache_lines = False

    def cache_identity(self) -> dict:
        # What shapes a clip besides its voice id and text: a re-tuned voice re-voices.
        return {id_: repr(spec) for id_, spec in sorted(VOICES.items())}

    def voices(self) -> list[Voice]:
        return [spec.voice for spec in VOICES.values()]

    def default_voices(self) -> dict[str, str]:
        return dict(DEFAULT_VOICES)

    def distinct_voices(self, language: str) -> list[str]:
        return distinct_voices(language)

    def synthesize(self, *, text: str, voice: str) -> SpeechClip:
        spec = VOICES.get(voice)
        if spec is None:
            raise ProviderError(f"Unknown espeak voice {voice!r}", permanent=True)
        pcm, sample_rate = speak(spec, text)
        return SpeechClip(data=pcm_to_wav(pcm, sample_rate), audio_format="wav")
