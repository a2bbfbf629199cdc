"""Offline speech through CMU Flite, run as its command-line program.

Flite is clearer than eSpeak NG to a speech recogniser (bench/intelligibility.py), fast
(tens of times real time) and BSD-licensed, code and voices alike. It is not on PyPI, so
it is used only where the system has it (`apt install flite`, `brew install flite`): the
registry offers this provider when the binary is found. Every call runs one short process,
so calls are independent and may run in parallel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass

from django.conf import settings

from .base import GUEST, HOST, ProviderError, SpeechClip, Voice
from .espeak import clean_text

SYNTH_TIMEOUT = 120  # seconds; Flite speaks a long line in well under one


@dataclass(frozen=True)
class FliteVoice:
    voice: Voice
    flite_name: str  # what `flite -voice` takes
    duration_stretch: float  # >1 speaks slower; Flite's own pace is a little hurried


def _voice(voice_id: str, name: str, gender: str, stretch: float) -> FliteVoice:
    return FliteVoice(
        voice=Voice(id=voice_id, name=name, gender=gender, language="en"),
        flite_name=voice_id,
        duration_stretch=stretch,
    )


# The voices compiled into Debian's and Homebrew's flite. "kal" (8 kHz) is left out:
# kal16 is the same speaker at 16 kHz.
VOICES: dict[str, FliteVoice] = {
    v.voice.id: v
    for v in (
        _voice("slt", "American English, female (SLT)", "female", 1.0),
        _voice("awb", "Scottish English, male (AWB)", "male", 1.0),
        _voice("rms", "American English, male (RMS)", "male", 1.0),
        _voice("kal16", "American English, male (KAL)", "male", 1.0),
    )
}
DEFAULT_VOICES = {HOST: "slt", GUEST: "awb"}

# Flite reads ASCII; these would otherwise be spelled out or dropped.
_ASCII = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": ", "}
)


def flite_binary() -> str | None:
    """Path of the flite program (setting FLITE_BINARY, a name or a path), or None."""
    return shutil.which(settings.FLITE_BINARY)


def flite_available() -> bool:
    return flite_binary() is not None


def ascii_text(text: str) -> str:
    """Clean text as Flite can read it: typographic punctuation plain, accents dropped."""
    decomposed = unicodedata.normalize("NFKD", clean_text(text).translate(_ASCII))
    return " ".join(decomposed.encode("ascii", "ignore").decode("ascii").split())


class FliteSpeech:
    """SpeechProvider speaking English through the system's CMU Flite."""

    name = "flite"

    def voices(self) -> list[Voice]:
        return [spec.voice for spec in VOICES.values()]

    def default_voices(self) -> dict[str, str]:
        return dict(DEFAULT_VOICES)

    def synthesize(self, *, text: str, voice: str) -> SpeechClip:
        spec = VOICES.get(voice)
        if spec is None:
            raise ProviderError(f"Unknown flite voice {voice!r}", permanent=True)
        spoken = ascii_text(text)
        if not any(char.isalnum() for char in spoken):
            raise ProviderError("Nothing to say: the text is empty", permanent=True)
        binary = flite_binary()
        if binary is None:
            raise ProviderError("The flite program is not installed", permanent=True)
        with tempfile.TemporaryDirectory(prefix="podnex-flite-") as tmp:
            text_path, wav_path = os.path.join(tmp, "line.txt"), os.path.join(tmp, "line.wav")
            with open(text_path, "w", encoding="ascii") as out:
                out.write(spoken)
            command = [binary, "-voice", spec.flite_name]
            command += ["--setf", f"duration_stretch={spec.duration_stretch}"]
            command += ["-f", text_path, "-o", wav_path]
            try:
                result = subprocess.run(
                    command, capture_output=True, timeout=SYNTH_TIMEOUT, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise ProviderError(f"flite took over {SYNTH_TIMEOUT} s") from exc
            if result.returncode != 0 or not os.path.exists(wav_path):
                message = result.stderr.decode("utf-8", "replace").strip()[-200:]
                raise ProviderError(f"flite failed ({result.returncode}): {message}")
            with open(wav_path, "rb") as wav:
                data = wav.read()
        if len(data) <= 44:  # a WAV header and no samples
            raise ProviderError(f"flite produced no audio for {spoken[:40]!r}", permanent=True)
        return SpeechClip(data=data, audio_format="wav")
