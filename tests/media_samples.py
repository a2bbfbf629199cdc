"""Test media made on the spot: tones in MP3/WAV/OGG (ffmpeg's lavfi), images (Pillow), and
an independent loudness reading (ffmpeg's ebur128 with true peak)."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile

import imageio_ffmpeg
from PIL import Image

CODECS = {"mp3": ["-c:a", "libmp3lame", "-b:a", "64k"], "wav": [], "ogg": ["-c:a", "libvorbis"]}


def tone(
    seconds: float,
    fmt: str = "mp3",
    *,
    frequency: int = 440,
    volume_db: float = -6.0,
    rate: int = 44100,
    extra: str = "",
) -> bytes:
    """A sine tone (with `extra` ffmpeg filters appended) encoded as `fmt`."""
    source = f"sine=frequency={frequency}:sample_rate={rate}:duration={seconds}"
    chain = f"volume={volume_db}dB" + (f",{extra}" if extra else "")
    with tempfile.NamedTemporaryFile(suffix=f".{fmt}") as out:
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", source]
            + ["-af", chain, *CODECS[fmt], "-y", out.name],
            check=True,
        )
        return open(out.name, "rb").read()


def image(width: int, height: int | None = None, fmt: str = "PNG", mode: str = "RGB") -> bytes:
    picture = Image.new(mode, (width, height or width), "teal" if mode != "L" else 128)
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


def loudness(mp3: bytes) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of an encoded file."""
    with tempfile.NamedTemporaryFile(suffix=".mp3") as source:
        source.write(mp3)
        source.flush()
        result = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-i", source.name]
            + ["-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
            capture_output=True,
            check=True,
        )
    log = result.stderr.decode()
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1])
    peak = float(re.findall(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", log)[-1])
    return integrated, peak
