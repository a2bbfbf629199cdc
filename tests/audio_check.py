"""Independent audio checks for tests: decode with the ffmpeg binary itself, not our code."""

import subprocess
import tempfile

import imageio_ffmpeg
from mutagen.mp3 import MP3


def decoded_seconds(mp3: bytes) -> float:
    """Duration of an MP3 by decoding every frame to PCM at its own rate and counting samples."""
    with tempfile.NamedTemporaryFile(suffix=".mp3") as source:
        source.write(mp3)
        source.flush()
        rate = MP3(source.name).info.sample_rate
        result = subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-v",
                "error",
                "-i",
                source.name,
                "-f",
                "s16le",
                "-ac",
                "1",
                "-ar",
                str(rate),
                "pipe:1",
            ],
            capture_output=True,
            check=True,
        )
    return len(result.stdout) / 2 / rate
