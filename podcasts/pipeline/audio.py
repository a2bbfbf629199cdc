"""Assemble spoken lines into one broadcast-safe MP3 with a timed transcript.

The assembly has three steps, each a function a caller can use on its own:

1. `speech_track(lines, out)` decodes every clip to one PCM format (mono, signed 16-bit,
   at the first clip's own sample rate, so a provider's clips are never resampled) and
   streams them with pauses into a raw PCM file: time and memory grow linearly with the
   episode. It returns the `Timeline` (where each line sits, in samples). Silences longer
   than a listener expects are shortened on the way (no pause over 1.5 s in an episode).
   Anything mixed into the episode later (music, an intro) goes into this PCM file.
2. `encode_mp3(pcm_path, ...)` is the last step and must stay last: it sets the loudness
   (-16 LUFS integrated) with a peak limiter, resamples once to 44.1 kHz and encodes the
   MP3 with ID3 tags, in one ffmpeg run. Whatever is mixed in before is normalised with
   the speech, so loudness and true peak hold for the whole mix.
3. `mp3_duration` and `fit_segments` put the timeline on the MP3's clock.

Loudness in one measurement: synthetic speech has sharp peaks (eSpeak's peak-to-loudness
ratio is ~20 dB), so reaching -16 LUFS with true peak under -1 dBTP needs a limiter, and
through a limiter loudness no longer follows gain. The chain is therefore
`volume(g1) -> limiter(LIMITER_CEILING) -> volume(g2)`: g1 comes from an estimate of the
speech level taken while writing the PCM (no extra pass), ffmpeg measures the loudness
after the limiter once on an excerpt, and g2 is the exact linear correction, which moves
peaks by g2 too. As long as g2 stays within the headroom left under PEAK_CEILING_DB, one
measurement is enough; otherwise g1 is corrected and measured again (rare).

ffmpeg comes from the imageio-ffmpeg wheel. pydub would call ffprobe to decode MP3, which
that wheel does not ship, so MP3 clips are decoded by ffmpeg straight to raw PCM instead;
WAV clips (eSpeak's, Flite's) are decoded with the stdlib and never start a process.
"""

from __future__ import annotations

import io
import math
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
from mutagen import MutagenError
from mutagen.mp3 import MP3

from podcasts.providers.base import SpeechClip

with warnings.catch_warnings():
    # Deprecated in 3.11 (pydub relies on it too); on 3.13+ the audioop-lts wheel provides it.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

COMMON_SAMPLE_RATE = 24000  # Hz; decode_clip's default, and the rate when none is known
SAMPLE_WIDTH = 2  # bytes: signed 16-bit little-endian
OUTPUT_SAMPLE_RATE = 44100  # the rate podcast directories recommend
MP3_BITRATE = "64k"  # mono speech sounds clean at 64 kbps
# LAME's quality/speed setting (0 "best" .. 9 fastest). bench/audio_combine.py compares
# the decoded MP3 with the PCM: on 64 kbps mono speech, 7 gave 24.3 dB SNR and 1.7 dB
# log-spectral distance (audible bins) against 20.7 dB / 2.3 dB for LAME's default and
# 20.9 / 2.4 for 0, and encodes ~1.7x faster than the default. Output stays 44.1 kHz.
MP3_COMPRESSION_LEVEL = 7
TARGET_LUFS = -16.0  # common podcast loudness target (Apple, Spotify guidance)
TRUE_PEAK_LIMIT_DB = -1.0  # dBTP, the broadcast ceiling the episode must stay under
# Sample-peak ceiling of the PCM going into the resampler and LAME. Both overshoot it
# (inter-sample peaks, the encoder's filtering); measured overshoot on synthetic and
# recorded speech stays under 0.7 dB, so this keeps true peak under TRUE_PEAK_LIMIT_DB.
PEAK_CEILING_DB = -2.0
# The limiter sits this far below the ceiling, which leaves room for the post-limiter
# correction g2 to go up without another measurement.
LIMITER_HEADROOM_DB = 1.5
# Turning the limiter's output down by more than this means it squashed the speech
# harder than needed: then the gain in front of it is lowered and measured again.
OVER_LIMIT_DB = 1.0
# LAME's output measured 0.4 LU quieter than its input on synthetic speech, at every
# bitrate from 64 to 128 kbps, so the PCM is aimed that much higher.
MP3_LOUDNESS_LOSS = 0.4
LOUDNESS_ATTEMPTS = 4  # measurements at most; the first one almost always suffices
# Loudness after the limiter grows ~0.5 LU per dB of gain (measured on eSpeak speech);
# used to correct g1 when a first measurement lands outside the headroom.
LIMITED_SLOPE = 0.5
# Integrated loudness (LUFS) minus the RMS level (dBFS) of the speech clips: K-weighting
# and gating put it a few dB above the plain RMS. Only a first guess for g1.
LOUDNESS_OVER_RMS_DB = 2.0
# How hard the first guess drives the speech into the limiter, in dB of gain beyond what
# plain loudness would need: peaks must come down for -16 LUFS to fit under the ceiling.
LIMITER_DRIVE_DB = 3.5
PROBE_PIECES, PROBE_PIECE_SECONDS = 20, 2  # the measurement hears at most 40 s
MAX_GAIN_DB = 30.0  # never boost a near-silent recording into pure noise
LEAD_IN_MS = 250
LEAD_OUT_MS = 700
# Silence: quieter than the clip's own peak by this much, in SILENCE_WINDOW_MS windows.
SILENCE_BELOW_PEAK_DB = 40.0
SILENCE_WINDOW_MS = 50
# Longest silence kept at a clip's start or end, and inside it. With the pauses between
# lines (350/600 ms) no silence in an episode exceeds 0.4 + 0.6 + 0.4 = 1.4 s.
EDGE_SILENCE_MS = 400
INNER_SILENCE_MS = 1000


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
    """Where each line sits in the PCM stream, in samples, and how loud the speech is."""

    sample_rate: int
    total_samples: int = 0
    spans: list[tuple[str, str, int, int]] = field(default_factory=list)
    speech_energy: float = 0.0  # sum of squared samples of the spoken clips
    speech_samples: int = 0

    @property
    def duration(self) -> float:
        return self.total_samples / self.sample_rate

    def speech_level(self) -> float | None:
        """RMS level of the spoken clips in dBFS, or None when nothing was heard."""
        if not self.speech_samples or not self.speech_energy:
            return None
        mean_square = self.speech_energy / self.speech_samples
        return 10 * math.log10(mean_square / 32768**2)


@dataclass(frozen=True)
class Levels:
    """What a loudness meter and a silence detector say about an encoded episode."""

    integrated: float  # LUFS (EBU R128)
    true_peak: float  # dBTP
    longest_silence: float  # seconds below SILENCE_NOISE_DB, anywhere in the file


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


def clip_sample_rate(clip: SpeechClip) -> int | None:
    """The clip's own sample rate, read from its header; None when it cannot be read."""
    try:
        if clip.audio_format.lower() == "wav":
            with wave.open(io.BytesIO(clip.data), "rb") as reader:
                return reader.getframerate()
        if clip.audio_format.lower() == "mp3":
            return MP3(io.BytesIO(clip.data)).info.sample_rate
    except (wave.Error, EOFError, MutagenError):
        pass
    return None


def decode_clip(clip: SpeechClip, *, sample_rate: int = COMMON_SAMPLE_RATE) -> bytes:
    """Return the clip as mono signed 16-bit PCM at `sample_rate`."""
    if clip.audio_format.lower() == "wav":
        try:
            return _wav_to_pcm(clip.data, sample_rate)
        except (wave.Error, EOFError):
            pass  # e.g. float or extensible WAV: ffmpeg reads those
    output = ["-f", "s16le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]
    return _ffmpeg(["-v", "error", "-i", "pipe:0", *output], input_bytes=clip.data).stdout


def _quiet_windows(pcm: bytes, window: int) -> list[bool]:
    """Which `window`-byte stretches of the clip count as silence (see SILENCE_BELOW_PEAK_DB)."""
    view = memoryview(pcm)
    threshold = audioop.max(pcm, SAMPLE_WIDTH) * 10 ** (-SILENCE_BELOW_PEAK_DB / 20)
    return [
        audioop.max(view[start : start + window], SAMPLE_WIDTH) <= threshold
        for start in range(0, len(pcm), window)
    ]


def squeeze_silences(pcm: bytes, sample_rate: int) -> bytes:
    """Shorten silences at a clip's edges to EDGE_SILENCE_MS and inside it to
    INNER_SILENCE_MS, keeping both ends of each shortened silence so speech is not cut.

    Providers sometimes pad clips or pause for seconds (an ellipsis, a blank line); a
    listener hears that as dead air. Clips without long silences come back unchanged.
    """
    window = sample_rate * SILENCE_WINDOW_MS // 1000 * SAMPLE_WIDTH
    if not pcm or window <= 0:
        return pcm
    quiet = _quiet_windows(pcm, window)
    runs, start = [], None  # (first window, end window) of each quiet run
    for index, is_quiet in enumerate([*quiet, False]):
        if is_quiet and start is None:
            start = index
        elif not is_quiet and start is not None:
            runs.append((start, index))
            start = None
    pieces, position = [], 0
    for first, end in runs:
        at_edge = first == 0 or end == len(quiet)
        keep = (EDGE_SILENCE_MS if at_edge else INNER_SILENCE_MS) // SILENCE_WINDOW_MS
        if end - first <= keep:
            continue
        head = 0 if first == 0 else keep // 2 if end < len(quiet) else keep
        tail = keep - head
        pieces.append(pcm[position : (first + head) * window])
        position = (end - tail) * window
    if not pieces:
        return pcm
    pieces.append(pcm[position:])
    return b"".join(pieces)


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
        pcm = squeeze_silences(pcm if len(pcm) % SAMPLE_WIDTH == 0 else pcm[:-1], sample_rate)
        start = position
        emit(pcm)
        timeline.spans.append((speaker, text, start, position))
        timeline.speech_energy += float(audioop.rms(pcm, SAMPLE_WIDTH)) ** 2 * (position - start)
        timeline.speech_samples += position - start
        previous_speaker = speaker
    emit(silence(lead_out_ms, sample_rate))
    timeline.total_samples = position
    return timeline


def track_sample_rate(clips: Iterable[SpeechClip]) -> int:
    """The rate to build the episode at: the first clip's own, so that a provider's clips
    (all at one rate) are copied, not resampled; ffmpeg resamples once, to 44.1 kHz."""
    for clip in clips:
        return clip_sample_rate(clip) or COMMON_SAMPLE_RATE
    return COMMON_SAMPLE_RATE


def speech_track(
    out: BinaryIO,
    lines: list[tuple[str, str, SpeechClip]],
    *,
    pause_ms: int = 350,
    turn_pause_ms: int = 600,
) -> Timeline:
    """Decode (speaker, text, clip) lines and write them with pauses to `out` as raw PCM
    (mono s16le at the returned timeline's sample_rate), before any loudness processing."""
    rate = track_sample_rate(clip for _, _, clip in lines)
    return write_timeline(
        out, _decoded(lines, rate), sample_rate=rate, pause_ms=pause_ms, turn_pause_ms=turn_pause_ms
    )


_INTEGRATED = re.compile(r"I:\s+(-?\d+(?:\.\d+)?|-inf) LUFS")
_TRUE_PEAK = re.compile(r"True peak:\s+Peak:\s+(-?\d+(?:\.\d+)?|-inf) dBFS")
_SILENCE = re.compile(r"silence_duration: (\d+(?:\.\d+)?)")
SILENCE_NOISE_DB = -50.0  # what Levels.longest_silence counts as silence


def _integrated_loudness(input_args: list[str], chain: str = "") -> float:
    # framelog=verbose keeps ebur128's per-frame lines out of the default (info) log.
    filters = ",".join(part for part in (chain, "ebur128=framelog=verbose") if part)
    stderr = _ffmpeg([*input_args, "-af", filters, "-f", "null", "-"]).stderr
    matches = _INTEGRATED.findall(stderr.decode("utf-8", "replace"))
    if not matches:
        raise AudioError("ffmpeg printed no loudness summary")
    return float(matches[-1])


def _limit_chain(gain_db: float) -> str:
    ceiling = 10 ** ((PEAK_CEILING_DB - LIMITER_HEADROOM_DB) / 20)
    # Resample first, then limit: at the output rate sample peaks are true peaks within
    # ~0.1 dB, while a 16 kHz voice (Flite) limited at its own rate came out 2.5 dB
    # over its ceiling once resampled. level=false: alimiter would otherwise re-level its
    # output up to the ceiling; latency=true keeps the audio aligned with the timeline.
    return (
        f"aresample={OUTPUT_SAMPLE_RATE},volume={gain_db:.2f}dB,"
        f"alimiter=limit={ceiling:.4f}:level=false:latency=true"
    )


def _excerpt(pcm_path: str, out_path: str, sample_rate: int) -> str:
    """Evenly spaced pieces of a long PCM file, or the file itself when it is short.

    Speech is loud in much the same way from start to end, so pieces taken from all
    over the episode (40 s) measures like the whole and keeps the measurement cheap.
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


def loudness_chain(
    pcm_path: str, *, sample_rate: int = COMMON_SAMPLE_RATE, speech_level: float | None = None
) -> str:
    """ffmpeg filters that take the PCM file to TARGET_LUFS with peaks under the ceiling.

    `speech_level` (RMS dBFS of the speech, from the Timeline) gives the first gain; without
    it one more measurement of the raw audio is made.
    """
    with tempfile.TemporaryDirectory(prefix="podnex-probe-") as tmp:
        probe = _excerpt(pcm_path, os.path.join(tmp, "probe.pcm"), sample_rate)
        return _plan_gain(_raw_input(probe, sample_rate), speech_level)


def _plan_gain(source: list[str], speech_level: float | None) -> str:
    if speech_level is None:
        estimate = _integrated_loudness(source)
    else:
        estimate = speech_level + LOUDNESS_OVER_RMS_DB
    if estimate < -70:  # silence: nothing to normalise, and no gain would reach the target
        return f"aresample={OUTPUT_SAMPLE_RATE}"
    aim = TARGET_LUFS + MP3_LOUDNESS_LOSS
    pre_gain = min(aim - estimate + LIMITER_DRIVE_DB, MAX_GAIN_DB)
    previous: tuple[float, float] | None = None
    for attempt in range(LOUDNESS_ATTEMPTS):
        limited = _integrated_loudness(source, _limit_chain(pre_gain))
        if limited < -70:
            return f"aresample={OUTPUT_SAMPLE_RATE}"
        post_gain = aim - limited
        if -OVER_LIMIT_DB <= post_gain <= LIMITER_HEADROOM_DB or pre_gain >= MAX_GAIN_DB:
            break
        if attempt == LOUDNESS_ATTEMPTS - 1:
            break
        # Too quiet (peaks would pass the ceiling) or limited much harder than needed:
        # aim the limiter's output at mid-headroom, along the slope seen so far.
        slope = LIMITED_SLOPE
        if previous is not None and pre_gain != previous[0]:
            slope = min(max((limited - previous[1]) / (pre_gain - previous[0]), 0.25), 1.0)
        previous = (pre_gain, limited)
        pre_gain = min(pre_gain + (post_gain - LIMITER_HEADROOM_DB / 2) / slope, MAX_GAIN_DB)
    # Never past the ceiling: a little quieter rather than over the true-peak limit.
    post_gain = min(post_gain, LIMITER_HEADROOM_DB)
    return f"{_limit_chain(pre_gain)},volume={post_gain:.2f}dB"


def encode_mp3(
    pcm_path: str,
    *,
    title: str,
    artist: str,
    sample_rate: int = COMMON_SAMPLE_RATE,
    speech_level: float | None = None,
    bitrate: str = MP3_BITRATE,
    chain: str | None = None,
) -> bytes:
    """Normalise loudness (with `chain`, or one planned here) and encode the raw PCM file
    at `pcm_path` to a tagged MP3.

    The last step of an episode: anything mixed into the PCM must be there already.
    """
    chain = chain or loudness_chain(pcm_path, sample_rate=sample_rate, speech_level=speech_level)
    with tempfile.TemporaryDirectory(prefix="podnex-mp3-") as tmp:
        mp3_path = os.path.join(tmp, "episode.mp3")
        # A real file, not a pipe: ffmpeg seeks back to fill in the Xing header, which
        # players need to know the length and to seek.
        _ffmpeg(
            ["-v", "error", *_raw_input(pcm_path, sample_rate), "-af", chain]
            + ["-ar", str(OUTPUT_SAMPLE_RATE), "-ac", "1", *mp3_encoder_args(bitrate)]
            + ["-id3v2_version", "3"]
            + ["-metadata", f"title={title}", "-metadata", f"artist={artist}"]
            + ["-metadata", "genre=Podcast", "-y", mp3_path]
        )
        with open(mp3_path, "rb") as encoded:
            return encoded.read()


def mp3_encoder_args(bitrate: str = MP3_BITRATE) -> list[str]:
    """ffmpeg's encoder settings for episodes (bench/audio_combine.py times them alone).

    No bit reservoir: every frame holds its own data, so a re-render can replace the
    frames of edited lines and keep the others (pipeline/splice.py).
    """
    level = str(MP3_COMPRESSION_LEVEL)
    return ["-c:a", "libmp3lame", "-b:a", bitrate, "-reservoir", "0", "-compression_level", level]


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


def measure_levels(mp3_bytes: bytes) -> Levels:
    """Integrated loudness, true peak (ffmpeg's ebur128, 4x oversampled) and the longest
    stretch below SILENCE_NOISE_DB (silencedetect), in one decoding run."""
    with tempfile.NamedTemporaryFile(suffix=".mp3") as source:
        source.write(mp3_bytes)
        source.flush()
        filters = "ebur128=peak=true:framelog=verbose"
        filters += f",silencedetect=noise={SILENCE_NOISE_DB}dB:duration=0.1"
        stderr = _ffmpeg(["-i", source.name, "-af", filters, "-f", "null", "-"]).stderr
    log = stderr.decode("utf-8", "replace")
    integrated, peak = _INTEGRATED.findall(log), _TRUE_PEAK.findall(log)
    if not integrated or not peak:
        raise AudioError("ffmpeg printed no loudness summary")
    silences = [float(seconds) for seconds in _SILENCE.findall(log)]
    return Levels(float(integrated[-1]), float(peak[-1]), max(silences, default=0.0))


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
            timeline = speech_track(pcm_file, lines, pause_ms=pause_ms, turn_pause_ms=turn_pause_ms)
        # The speech's level, for the first gain: measured before music joins it, which
        # the loudness measurement then takes into account.
        speech_level = timeline.speech_level()
        # Hook (feed branch): intro, outro and music bed join the speech PCM here, before
        # loudness normalisation and encoding, so the loudness targets hold for the whole.
        if pcm_hook is not None:
            pcm_path, timeline = pcm_hook(pcm_path, timeline, tmp)
        chain = loudness_chain(
            pcm_path, sample_rate=timeline.sample_rate, speech_level=speech_level
        )
        mp3 = encode_mp3(
            pcm_path, title=title, artist=artist, sample_rate=timeline.sample_rate, chain=chain
        )
    duration = mp3_duration(mp3)
    return AssembledAudio(
        mp3=mp3,
        duration=duration,
        segments=fit_segments(timeline, duration),
        loudness_chain=chain,
    )
