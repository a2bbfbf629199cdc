"""Intro, outro and music bed around the spoken episode (the user's uploads).

The episode becomes: intro, a short pause, the bed alone fading in, the conversation with
the bed ducked under it, the bed alone fading out, a short pause, outro. All of it is
mixed on the PCM stream before `audio.encode_mp3` normalises loudness, so the finished
MP3 meets the same loudness and peak targets as one without music.

Levels: uploads come at any loudness, so the intro and outro are matched to the speech's
(gated RMS), and the bed sits BED_LEVEL_DB under the speech when it plays alone and
BED_DUCK_DB lower still while someone speaks (per-sample gain from the line timings, with
short ramps; pauses between lines shorter than HOLD_SECONDS stay ducked so the bed does
not pump between sentences).

Uploads are checked before they are stored by `podcasts.pipeline.clips`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from podcasts.pipeline.audio import Timeline, decode_clip
from podcasts.providers.base import SpeechClip

BED_LEVEL_DB = -8.0  # the bed alone, against the speech's loudness
BED_DUCK_DB = 18.0  # further down while someone speaks (the issue asks for at least 12)
BED_LEAD_SECONDS = 3.0  # bed alone before the first line...
BED_TAIL_SECONDS = 3.5  # ...and after the last
FADE_IN_SECONDS = 1.5
FADE_OUT_SECONDS = 3.0
DUCK_ATTACK_SECONDS = 0.25  # ramp down before a line starts
DUCK_RELEASE_SECONDS = 0.6  # ramp up after it ends
HOLD_SECONDS = 1.5  # gaps shorter than this stay ducked
CLIP_GAP_SECONDS = 0.4  # between the intro/outro and the rest


@dataclass(frozen=True)
class MusicSet:
    """The user's clips, encoded as uploaded; any of them may be missing."""

    intro: SpeechClip | None = None
    outro: SpeechClip | None = None
    bed: SpeechClip | None = None

    def __bool__(self) -> bool:
        return any((self.intro, self.outro, self.bed))


# --- Mixing -----------------------------------------------------------------------------------


def _samples(clip: SpeechClip, sample_rate: int) -> np.ndarray:
    pcm = decode_clip(clip, sample_rate=sample_rate)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32)


def gated_rms(signal: np.ndarray, sample_rate: int) -> float:
    """RMS over the 100 ms blocks within 30 dB of the loudest: silence does not count."""
    block = max(sample_rate // 10, 1)
    usable = len(signal) // block * block
    if usable == 0:
        return float(np.sqrt(np.mean(signal**2))) if len(signal) else 0.0
    power = np.mean(signal[:usable].reshape(-1, block) ** 2, axis=1)
    loud = power[power >= power.max() * 1e-3]
    return float(np.sqrt(np.mean(loud))) if len(loud) else 0.0


def _match(signal: np.ndarray, reference_rms: float, sample_rate: int, offset_db: float = 0.0):
    rms = gated_rms(signal, sample_rate)
    if rms <= 0 or reference_rms <= 0:
        return signal
    return signal * (reference_rms / rms) * 10 ** (offset_db / 20)


def duck_envelope(length: int, spans: list[tuple[int, int]], sample_rate: int) -> np.ndarray:
    """0..1 per sample: 1 while someone speaks (gaps under HOLD_SECONDS filled), with
    linear ramps of DUCK_ATTACK_SECONDS before and DUCK_RELEASE_SECONDS after."""
    envelope = np.zeros(length, dtype=np.float32)
    hold = int(HOLD_SECONDS * sample_rate)
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] < hold:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    attack = max(int(DUCK_ATTACK_SECONDS * sample_rate), 1)
    release = max(int(DUCK_RELEASE_SECONDS * sample_rate), 1)
    for start, end in merged:
        envelope[max(start, 0) : min(end, length)] = 1.0
        ramp_start = max(start - attack, 0)
        if ramp_start < start:
            ramp = np.linspace(0.0, 1.0, start - ramp_start, endpoint=False, dtype=np.float32)
            envelope[ramp_start:start] = np.maximum(envelope[ramp_start:start], ramp)
        ramp_end = min(end + release, length)
        if end < ramp_end:
            ramp = np.linspace(1.0, 0.0, ramp_end - end, endpoint=False, dtype=np.float32)
            envelope[end:ramp_end] = np.maximum(envelope[end:ramp_end], ramp)
    return envelope


def _bed_track(bed: np.ndarray, length: int, sample_rate: int) -> np.ndarray:
    """The bed looped to `length` samples, faded in at the start and out at the end."""
    if len(bed) == 0:
        return np.zeros(length, dtype=np.float32)
    track = np.tile(bed, length // len(bed) + 1)[:length].copy()
    fade_in = min(int(FADE_IN_SECONDS * sample_rate), length)
    fade_out = min(int(FADE_OUT_SECONDS * sample_rate), length)
    track[:fade_in] *= np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
    track[length - fade_out :] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32)
    return track


def music_mix(
    speech: np.ndarray, timeline: Timeline, music: MusicSet, *, sample_rate: int
) -> tuple[np.ndarray, Timeline]:
    """The speech with the user's clips around and under it, and the shifted timeline."""
    spans = [(start, end) for _speaker, _text, start, end in timeline.spans]
    voice = np.concatenate([speech[s:e] for s, e in spans]) if spans else speech
    reference = gated_rms(voice, sample_rate)
    gap = np.zeros(int(CLIP_GAP_SECONDS * sample_rate), dtype=np.float32)

    body = speech
    lead = 0
    if music.bed:
        lead = int(BED_LEAD_SECONDS * sample_rate)
        tail = int(BED_TAIL_SECONDS * sample_rate)
        body = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(tail, np.float32)])
        bed = _match(_samples(music.bed, sample_rate), reference, sample_rate, BED_LEVEL_DB)
        track = _bed_track(bed, len(body), sample_rate)
        ducked = duck_envelope(len(body), [(s + lead, e + lead) for s, e in spans], sample_rate)
        body = body + track * 10 ** (-BED_DUCK_DB * ducked / 20)

    pieces, offset = [], lead
    if music.intro:
        intro = _match(_samples(music.intro, sample_rate), reference, sample_rate)
        pieces += [intro, gap]
        offset += len(intro) + len(gap)
    pieces.append(body)
    if music.outro:
        pieces += [gap, _match(_samples(music.outro, sample_rate), reference, sample_rate)]
    mixed = np.concatenate(pieces)

    moved = replace(
        timeline,
        total_samples=len(mixed),
        spans=[(sp, text, s + offset, e + offset) for sp, text, s, e in timeline.spans],
    )
    return mixed, moved


def _to_pcm16(signal: np.ndarray) -> bytes:
    # Scale down rather than clip: the loudness step after this sets the level anyway.
    peak = float(np.max(np.abs(signal))) if len(signal) else 0.0
    if peak > 32000:
        signal = signal * (32000 / peak)
    return np.round(signal).astype("<i2").tobytes()


def music_hook(music: MusicSet):
    """An `audio.PcmHook` that mixes `music` into the speech PCM file."""

    def hook(pcm_path: str, timeline: Timeline, workdir: str) -> tuple[str, Timeline]:
        with open(pcm_path, "rb") as source:
            speech = np.frombuffer(source.read(), dtype="<i2").astype(np.float32)
        mixed, moved = music_mix(speech, timeline, music, sample_rate=timeline.sample_rate)
        out_path = os.path.join(workdir, "with-music.pcm")
        with open(out_path, "wb") as out:
            out.write(_to_pcm16(mixed))
        return out_path, moved

    return hook
