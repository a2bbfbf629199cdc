"""Checking an intro, outro or music bed upload before it is stored.

The type is sniffed from the bytes (a text file named .mp3 is refused), ffmpeg must decode
them with the demuxer of that type, and decoding stops just past the length cap, so a
four-hour file costs no more to refuse than a short one.
"""

from __future__ import annotations

import subprocess

from podcasts.pipeline.audio import configure_ffmpeg

# Sniffed container -> ffmpeg demuxer. Nothing else is accepted, whatever its name says.
FORMATS = {"mp3": "mp3", "wav": "wav", "ogg": "ogg"}


class ClipRejected(Exception):
    """An upload is not a usable intro, outro or bed; the message says why."""


def sniff_format(data: bytes) -> str | None:
    """The container the first bytes announce: "mp3", "wav", "ogg", or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:3] == b"ID3":
        return "mp3"
    # An MPEG audio frame header: 11 sync bits, then a valid layer (III, II or I).
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06:
        return "mp3"
    return None


def clip_inspect(data: bytes, *, max_seconds: float, min_seconds: float = 0.5) -> tuple[str, float]:
    """(format, duration in seconds) of an upload, or ClipRejected saying what is wrong."""
    kind = sniff_format(data)
    if kind is None:
        raise ClipRejected("The file is not MP3, WAV or OGG audio")
    # Decode no further than just past the cap: the length check needs no more.
    command = [configure_ffmpeg(), "-hide_banner", "-nostats", "-v", "error"]
    command += ["-f", FORMATS[kind], "-i", "pipe:0", "-t", f"{max_seconds + 1:.3f}"]
    command += ["-f", "s16le", "-ac", "1", "-ar", "8000", "pipe:1"]
    result = subprocess.run(command, input=data, capture_output=True, check=False)
    if result.returncode != 0 and not result.stdout:
        raise ClipRejected(f"The file could not be decoded as {kind.upper()} audio")
    pcm = result.stdout
    seconds = len(pcm) / 2 / 8000
    if seconds < min_seconds:
        raise ClipRejected(f"The audio is too short (at least {min_seconds:g} seconds)")
    if seconds > max_seconds:
        raise ClipRejected(f"The audio is too long (at most {max_seconds:g} seconds)")
    return kind, round(seconds, 3)
