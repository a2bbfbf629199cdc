"""Assemble spoken lines into one loudness-normalised MP3 with a timed transcript.

Every clip is decoded to one common PCM format (mono, signed 16-bit, COMMON_SAMPLE_RATE)
and streamed into a raw PCM file with pauses between lines, so time and memory grow
linearly with the episode (no repeated AudioSegment concatenation). ffmpeg then measures
the loudness and encodes the MP3, loudness-normalised and ID3-tagged, in one more run.

Loudness: ffmpeg's one-pass `loudnorm` (dynamic mode) left eSpeak speech at -17.4 to
-17.6 LUFS against a -16 target, and it resamples to 192 kHz internally, which made it
take ~15 s per 14 minutes of audio. Instead a linear gain plus a peak limiter is applied
while encoding; the gain is found beforehand by a few `ebur128` measurements through the
limiter on a two-minute excerpt. That lands within a few tenths of a LU of the target
and costs well under a second.

ffmpeg comes from the imageio-ffmpeg wheel. pydub would call ffprobe to decode MP3, which
that wheel does not ship, so MP3 clips are decoded by ffmpeg straight to raw PCM instead;
WAV clips (eSpeak's) are decoded with the stdlib and never start a process.
"""

from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import tempfile
import warnings
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import imageio_ffmpeg
from mutagen.mp3 import MP3

from podcasts.providers.base import SpeechClip

with warnings.catch_warnings():
    # Deprecated in 3.11 (pydub relies on it too); on 3.13+ the audioop-lts wheel provides it.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

COMMON_SAMPLE_RATE = 24000  # Hz; OpenAI TTS speaks 24 kHz, eSpeak's 22050 Hz resamples well
SAMPLE_WIDTH = 2  # bytes: signed 16-bit little-endian
OUTPUT_SAMPLE_RATE = 44100  # the rate podcast directories recommend
MP3_BITRATE = "64k"  # mono speech sounds clean at 64 kbps
TARGET_LUFS = -16.0  # common podcast loudness target (Apple, Spotify guidance)
PEAK_CEILING_DB = -2.0  # sample-peak ceiling; MP3 encoding overshoots it by well under 1 dB
# LAME's output measured 0.4 LU quieter than its input on synthetic speech, at every
# bitrate from 64 to 128 kbps, so the PCM is aimed that much higher.
MP3_LOUDNESS_LOSS = 0.4
LOUDNESS_TOLERANCE = 0.3  # LU; good enough that nobody reaches for the volume
LOUDNESS_PROBES = 3  # trial runs through the limiter while searching for the gain
PROBE_PIECES, PROBE_PIECE_SECONDS = 40, 3  # the trials hear at most 2 minutes of the episode
MAX_GAIN_DB = 30.0  # never boost a near-silent recording into pure noise
LEAD_IN_MS = 250
LEAD_OUT_MS = 700


class AudioError(Exception):
    """A clip could not be decoded or the episode could not be encoded."""


@dataclass
class AssembledAudio:
    mp3: bytes
    duration: float  # seconds, measured from the encoded MP3
    segments: list[dict] = field(default_factory=list)  # speaker, text, start, end (seconds)
    loudness_chain: str = ""  # the gain and limiter applied: a re-render encodes new lines alike


@dataclass
class Timeline:
    """Where each line sits in the PCM stream, in samples."""

    sample_rate: int
    total_samples: int = 0
    spans: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.total_samples / self.sample_rate


# (speech PCM path, its timeline, a scratch folder) -> (PCM path to encode, its timeline).
# podcasts.pipeline.music provides one that adds intro, outro and a music bed.
PcmHook = Callable[[str, Timeline, str], tuple[str, Timeline]]

_ffmpeg_exe: str | None = None


def configure_ffmpeg() -> str:
    """Point pydub at the wheel's ffmpeg (idempotent) and return the binary's path."""
    global _ffmpeg_exe
    if _ffmpeg_exe is None:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
        with warnings.catch_warnings():
            # pydub warns at import when no ffmpeg is on PATH; we set it right after.
            warnings.simplefilter("ignore", RuntimeWarning)
            from pydub import AudioSegment

        AudioSegment.converter = exe
        AudioSegment.ffmpeg = exe
        _ffmpeg_exe = exe
    return _ffmpeg_exe


def _ffmpeg(args: list[str], *, input_bytes: bytes | None = None) -> subprocess.CompletedProcess:
    command = [configure_ffmpeg(), "-hide_banner", "-nostats"]
    if input_bytes is None:
        command.append("-nostdin")
    result = subprocess.run(command + args, input=input_bytes, capture_output=True, check=False)
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(f"ffmpeg failed: {lines[-1] if lines else result.returncode}")
    return result


def _raw_input(pcm_path: str, sample_rate: int) -> list[str]:
    return ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", pcm_path]


def silence(ms: int, sample_rate: int = COMMON_SAMPLE_RATE) -> bytes:
    return b"\0" * (SAMPLE_WIDTH * (sample_rate * ms // 1000))


def _wav_to_pcm(data: bytes, sample_rate: int) -> bytes:
    """Decode PCM WAV with the stdlib; raises wave.Error/EOFError for anything unusual."""
    with wave.open(io.BytesIO(data), "rb") as reader:
        channels = reader.getnchannels()
        width = reader.getsampwidth()
        rate = reader.getframerate()
        frames = reader.readframes(reader.getnframes())
    if channels > 2 or width not in (1, 2, 3, 4):
        raise wave.Error("unsupported WAV layout")
    if width == 1:
        frames = audioop.bias(frames, 1, -128)  # 8-bit WAV is unsigned
    if width != SAMPLE_WIDTH:
        frames = audioop.lin2lin(frames, width, SAMPLE_WIDTH)
    if channels == 2:
        frames = audioop.tomono(frames, SAMPLE_WIDTH, 0.5, 0.5)
    if rate != sample_rate:
        frames, _ = audioop.ratecv(frames, SAMPLE_WIDTH, 1, rate, sample_rate, None)
    return frames


def decode_clip(clip: SpeechClip, *, sample_rate: int = COMMON_SAMPLE_RATE) -> bytes:
    """Return the clip as mono signed 16-bit PCM at `sample_rate`."""
    if clip.audio_format.lower() == "wav":
        try:
            return _wav_to_pcm(clip.data, sample_rate)
        except (wave.Error, EOFError):
            pass  # e.g. float or extensible WAV: ffmpeg reads those
    output = ["-f", "s16le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]
    return _ffmpeg(["-v", "error", "-i", "pipe:0", *output], input_bytes=clip.data).stdout


def write_timeline(
    out: BinaryIO,
    lines: Iterable[tuple[str, str, bytes]],
    *,
    sample_rate: int = COMMON_SAMPLE_RATE,
    pause_ms: int = 350,
    turn_pause_ms: int = 600,
    lead_in_ms: int = LEAD_IN_MS,
    lead_out_ms: int = LEAD_OUT_MS,
) -> Timeline:
    """Write (speaker, text, pcm) lines with pauses to `out` in one linear pass.

    A longer pause when the speaker changes sounds like a turn being handed over.
    """
    timeline = Timeline(sample_rate=sample_rate)
    position = 0
    previous_speaker = None

    def emit(chunk: bytes) -> None:
        nonlocal position
        out.write(chunk)
        position += len(chunk) // SAMPLE_WIDTH

    emit(silence(lead_in_ms, sample_rate))
    for speaker, text, pcm in lines:
        if previous_speaker is not None:
            emit(silence(pause_ms if speaker == previous_speaker else turn_pause_ms, sample_rate))
        start = position
        emit(pcm if len(pcm) % SAMPLE_WIDTH == 0 else pcm[:-1])
        timeline.spans.append((speaker, text, start, position))
        previous_speaker = speaker
    emit(silence(lead_out_ms, sample_rate))
    timeline.total_samples = position
    return timeline


_INTEGRATED = re.compile(r"I:\s+(-?\d+(?:\.\d+)?|-inf) LUFS")


def _integrated_loudness(input_args: list[str], chain: str = "") -> float:
    # framelog=verbose keeps ebur128's per-frame lines out of the default (info) log.
    filters = ",".join(part for part in (chain, "ebur128=framelog=verbose") if part)
    stderr = _ffmpeg([*input_args, "-af", filters, "-f", "null", "-"]).stderr
    matches = _INTEGRATED.findall(stderr.decode("utf-8", "replace"))
    if not matches:
        raise AudioError("ffmpeg printed no loudness summary")
    return float(matches[-1])


def _gain_chain(gain_db: float) -> str:
    ceiling = 10 ** (PEAK_CEILING_DB / 20)
    # level=false: alimiter would otherwise re-level its output up to the ceiling;
    # latency=true keeps the audio aligned with the planned timeline.
    return f"volume={gain_db:.2f}dB,alimiter=limit={ceiling:.4f}:level=false:latency=true"


def _excerpt(pcm_path: str, out_path: str, sample_rate: int) -> str:
    """Evenly spaced pieces of a long PCM file, or the file itself when it is short.

    Synthetic speech is loud in the same way from start to end, so two minutes taken
    from all over the episode measure like the whole and keep the gain search cheap.
    """
    size = os.path.getsize(pcm_path)
    piece = PROBE_PIECE_SECONDS * sample_rate * SAMPLE_WIDTH
    if size <= PROBE_PIECES * piece:
        return pcm_path
    stride = (size - piece) // (PROBE_PIECES - 1)
    stride -= stride % SAMPLE_WIDTH
    with open(pcm_path, "rb") as source, open(out_path, "wb") as out:
        for index in range(PROBE_PIECES):
            source.seek(index * stride)
            out.write(source.read(piece))
    return out_path


def loudness_chain(pcm_path: str, *, sample_rate: int = COMMON_SAMPLE_RATE) -> str:
    """ffmpeg filters that take the PCM file to TARGET_LUFS with peaks under the ceiling.

    Speech synthesisers make sharp peaks, so the gain that reaches the target drives them
    into the limiter, and loudness then grows by only about half a LU per dB of gain.
    The gain is found by secant steps, each measured through the limiter.
    """
    with tempfile.TemporaryDirectory(prefix="podnex-probe-") as tmp:
        probe = _excerpt(pcm_path, os.path.join(tmp, "probe.pcm"), sample_rate)
        return _search_gain(_raw_input(probe, sample_rate))


def _search_gain(source: list[str]) -> str:
    measured = _integrated_loudness(source)
    if measured < -70:  # silence: nothing to normalise, and no gain would reach the target
        return "anull"
    target = TARGET_LUFS + MP3_LOUDNESS_LOSS
    gain = min(target - measured, MAX_GAIN_DB)
    previous: tuple[float, float] | None = None
    for _ in range(LOUDNESS_PROBES):
        loudness = _integrated_loudness(source, _gain_chain(gain))
        miss = target - loudness
        if abs(miss) <= LOUDNESS_TOLERANCE:
            break
        slope = 1.0
        if previous is not None and gain != previous[0]:
            slope = (loudness - previous[1]) / (gain - previous[0])
        previous = (gain, loudness)
        # Bounded slope: the readings are rounded to 0.1 LU, so a tiny step is noisy.
        gain = min(gain + miss / min(max(slope, 0.25), 1.0), MAX_GAIN_DB)
    return _gain_chain(gain)


def encode_mp3(
    pcm_path: str,
    *,
    title: str,
    artist: str,
    sample_rate: int = COMMON_SAMPLE_RATE,
    output_sample_rate: int = OUTPUT_SAMPLE_RATE,
    bitrate: str = MP3_BITRATE,
    chain: str | None = None,
) -> bytes:
    """Normalise loudness (with `chain`, or one measured here) and encode the raw PCM file
    at `pcm_path` to a tagged MP3."""
    chain = chain or loudness_chain(pcm_path, sample_rate=sample_rate)
    with tempfile.TemporaryDirectory(prefix="podnex-mp3-") as tmp:
        mp3_path = os.path.join(tmp, "episode.mp3")
        # A real file, not a pipe: ffmpeg seeks back to fill in the Xing header, which
        # players need to know the length and to seek.
        _ffmpeg(
            ["-v", "error", *_raw_input(pcm_path, sample_rate), "-af", chain]
            + ["-ar", str(output_sample_rate), "-ac", "1"]
            # No bit reservoir: every frame holds its own data, so a re-render can replace
            # the frames of edited lines and keep the others (pipeline/splice.py).
            + ["-c:a", "libmp3lame", "-b:a", bitrate, "-reservoir", "0", "-id3v2_version", "3"]
            + ["-metadata", f"title={title}", "-metadata", f"artist={artist}"]
            + ["-metadata", "genre=Podcast", "-y", mp3_path]
        )
        with open(mp3_path, "rb") as encoded:
            return encoded.read()


def mp3_duration(mp3_bytes: bytes) -> float:
    """Playable length in seconds, as a gapless player (and ffmpeg's decoder) plays it.

    From the Xing/Info header when there is one: its frame count minus the encoder delay
    and padding stored after it. mutagen reads those only when the encoder calls itself
    "LAME", not for ffmpeg's "Lavc", and would report ~40 ms too much. Without a header
    (a streamed MP3) the decoded samples are counted.
    """
    try:
        info = MP3(io.BytesIO(mp3_bytes)).info
    except Exception as exc:  # mutagen raises several types for garbage input
        raise AudioError(f"not a readable MP3: {exc}") from exc
    samples = _gapless_samples(mp3_bytes, info.frame_offset, info.version)
    if samples is not None:
        return samples / info.sample_rate
    with tempfile.NamedTemporaryFile(suffix=".mp3") as source:
        source.write(mp3_bytes)
        source.flush()
        return _count_samples(source.name, info.sample_rate) / info.sample_rate


def _gapless_samples(data: bytes, frame_offset: int, version: float) -> int | None:
    """Samples per the first frame's Xing/Info header and its LAME-layout extension."""
    window = data[frame_offset : frame_offset + 64]
    found = max(window.find(b"Xing"), window.find(b"Info"))
    if found < 0:
        return None
    position = frame_offset + found + 8
    flags = struct.unpack(">I", data[position - 4 : position])[0]
    if not flags & 1:
        return None  # no frame count
    frames = struct.unpack(">I", data[position : position + 4])[0]
    # Skip the optional fields present before the extension: frames, bytes, TOC, quality.
    position += 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4)
    position += 4 * bool(flags & 8)
    # Extension: 9-byte encoder name, then 12 bytes of settings, then delay and padding
    # as two 12-bit numbers.
    extension = data[position : position + 24]
    if len(extension) < 24 or not extension[:4].isalpha():
        return None
    packed = int.from_bytes(extension[21:24], "big")
    delay, padding = packed >> 12, packed & 0xFFF
    samples_per_frame = 1152 if version == 1 else 576  # Layer III: MPEG-1, or MPEG-2/2.5
    return max(frames * samples_per_frame - delay - padding, 0)


def _count_samples(path: str, sample_rate: int) -> int:
    # One byte per sample (u8) through the pipe, counted in chunks: constant memory.
    command = [configure_ffmpeg(), "-hide_banner", "-nostats", "-nostdin", "-v", "error"]
    command += ["-i", path, "-f", "u8", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]
    total = 0
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        while chunk := proc.stdout.read(1 << 20):
            total += len(chunk)
    if proc.returncode != 0:
        raise AudioError("ffmpeg could not decode the MP3")
    return total


def measure_loudness(mp3_bytes: bytes) -> float:
    """Integrated loudness in LUFS (EBU R128), from ffmpeg's ebur128 summary."""
    with tempfile.NamedTemporaryFile(suffix=".mp3") as source:
        source.write(mp3_bytes)
        source.flush()
        return _integrated_loudness(["-i", source.name])


def fit_segments(timeline: Timeline, duration: float) -> list[dict]:
    """Turn sample spans into seconds on the MP3's clock, never past its end.

    Encoding can shift the length by a few milliseconds (resampling, frame padding), so
    times are scaled by measured/planned duration. The last line keeps the closing
    silence, so the transcript covers the whole file.
    """
    scale = duration / timeline.duration if timeline.total_samples else 1.0
    limit = int(duration * 1000) / 1000  # rounding must not push an end past the audio
    segments = []
    for speaker, text, start, end in timeline.spans:
        segments.append(
            {
                "speaker": speaker,
                "text": text,
                "start": min(round(start / timeline.sample_rate * scale, 3), limit),
                "end": min(round(end / timeline.sample_rate * scale, 3), limit),
            }
        )
    if segments:
        segments[-1]["end"] = limit
    return segments


def _decoded(
    lines: list[tuple[str, str, SpeechClip]], sample_rate: int
) -> Iterator[tuple[str, str, bytes]]:
    # A generator, so only one decoded clip is held in memory at a time.
    for speaker, text, clip in lines:
        yield speaker, text, decode_clip(clip, sample_rate=sample_rate)


def audio_assemble(
    *,
    lines: list[tuple[str, str, SpeechClip]],
    title: str,
    artist: str = "PodNex",
    pause_ms: int = 350,
    turn_pause_ms: int = 600,
    pcm_hook: PcmHook | None = None,
) -> AssembledAudio:
    """Join (speaker, text, clip) lines into one MP3 with per-line timings."""
    if not lines:
        raise AudioError("no lines to assemble")
    with tempfile.TemporaryDirectory(prefix="podnex-audio-") as tmp:
        pcm_path = os.path.join(tmp, "speech.pcm")
        with open(pcm_path, "wb") as pcm_file:
            timeline = write_timeline(
                pcm_file,
                _decoded(lines, COMMON_SAMPLE_RATE),
                pause_ms=pause_ms,
                turn_pause_ms=turn_pause_ms,
            )
        # Hook (feed branch): intro, outro and music bed join the speech PCM here, before
        # loudness normalisation and encoding, so the loudness targets hold for the whole.
        if pcm_hook is not None:
            pcm_path, timeline = pcm_hook(pcm_path, timeline, tmp)
        chain = loudness_chain(pcm_path)
        mp3 = encode_mp3(pcm_path, title=title, artist=artist, chain=chain)
    duration = mp3_duration(mp3)
    return AssembledAudio(
        mp3=mp3,
        duration=duration,
        segments=fit_segments(timeline, duration),
        loudness_chain=chain,
    )
