"""Benchmark: joining speech clips into an episode, linear (ours) vs repeated `AudioSegment +`.

Run from the repository root:  python bench/audio_combine.py

Both paths decode the same clips the same way and export through the same ffmpeg
command; only the joining differs. `audio_assemble` streams each decoded clip into one
PCM file (linear time, one clip in memory at a time); the naive path grows an
AudioSegment with `+`, which copies everything joined so far on every step (quadratic
time, two copies of the episode in memory at the end). Each measurement runs in its own
process so that peak memory (ru_maxrss) belongs to that path alone.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from podcasts.pipeline import audio  # noqa: E402
from podcasts.providers.base import GUEST, HOST, SpeechClip  # noqa: E402

SENTENCES = [
    (HOST, "Welcome back to the show. Today we are talking about how rain forms."),
    (GUEST, "Thanks for having me. Warm air rises, cools, and its water vapour condenses."),
    (HOST, "So the droplets gather into clouds?"),
    (GUEST, "Exactly. Billions of tiny droplets, each one formed around a speck of dust or salt."),
    (HOST, "And when do they fall?"),
    (GUEST, "When they collide and merge until they are too heavy for the rising air to hold."),
    (GUEST, "Whether they arrive as rain or snow depends on the air they fall through."),
    (HOST, "That is a lot of physics hiding in an ordinary shower."),
]
SIZES = (50, 100, 200)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _load_lines(clip_dir: str, count: int) -> list[tuple[str, str, SpeechClip]]:
    """`count` lines cycling through the synthesised sentences."""
    clips = []
    for index, (speaker, text) in enumerate(SENTENCES):
        data = Path(clip_dir, f"{index}.wav").read_bytes()
        clips.append((speaker, text, SpeechClip(data=data, audio_format="wav")))
    return [clips[i % len(clips)] for i in range(count)]


def naive_assemble(
    *, lines: list[tuple[str, str, SpeechClip]], title: str, artist: str = "PodNex"
) -> audio.AssembledAudio:
    """audio_assemble as commonly written with pydub: the same decode and export, but the
    episode grows by `AudioSegment +`."""
    from pydub import AudioSegment

    rate = audio.COMMON_SAMPLE_RATE
    episode = AudioSegment.silent(duration=audio.LEAD_IN_MS, frame_rate=rate)
    spans, previous = [], None
    for speaker, text, clip in lines:
        pcm = audio.decode_clip(clip, sample_rate=rate)
        if previous is not None:
            gap = 350 if speaker == previous else 600
            episode += AudioSegment.silent(duration=gap, frame_rate=rate)
        start = int(episode.frame_count())
        episode += AudioSegment(data=pcm, sample_width=2, frame_rate=rate, channels=1)
        spans.append((speaker, text, start, int(episode.frame_count())))
        previous = speaker
    episode += AudioSegment.silent(duration=audio.LEAD_OUT_MS, frame_rate=rate)
    timeline = audio.Timeline(rate, int(episode.frame_count()), spans)
    with tempfile.TemporaryDirectory() as tmp:
        pcm_path = os.path.join(tmp, "speech.pcm")
        Path(pcm_path).write_bytes(episode.raw_data)
        mp3 = audio.encode_mp3(pcm_path, title=title, artist=artist)
    duration = audio.mp3_duration(mp3)
    return audio.AssembledAudio(mp3, duration, audio.fit_segments(timeline, duration))


def _concat_ours(decoded: list[tuple[str, str, bytes]], path: str) -> None:
    with open(path, "wb") as out:
        audio.write_timeline(out, decoded)


def _concat_naive(decoded: list[tuple[str, str, bytes]], path: str) -> None:
    from pydub import AudioSegment

    rate = audio.COMMON_SAMPLE_RATE
    episode = AudioSegment.silent(duration=audio.LEAD_IN_MS, frame_rate=rate)
    previous = None
    for speaker, _text, pcm in decoded:
        if previous is not None:
            gap = 350 if speaker == previous else 600
            episode += AudioSegment.silent(duration=gap, frame_rate=rate)
        episode += AudioSegment(data=pcm, sample_width=2, frame_rate=rate, channels=1)
        previous = speaker
    episode += AudioSegment.silent(duration=audio.LEAD_OUT_MS, frame_rate=rate)
    Path(path).write_bytes(episode.raw_data)


def worker(method: str, phase: str, count: int, clip_dir: str) -> dict:
    """One measurement in this fresh process: 'total' (decode + join + export) or
    'concat' (joining already-decoded PCM into the file that goes to ffmpeg)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audio.configure_ffmpeg()
        import pydub  # noqa: F401  (import cost stays out of the timing)
    lines = _load_lines(clip_dir, count)
    result: dict = {"method": method, "phase": phase, "count": count}
    if phase == "total":
        assemble = audio.audio_assemble if method == "ours" else naive_assemble
        baseline = _rss_mb()
        started = time.perf_counter()
        episode = assemble(lines=lines, title="Benchmark")
        result["seconds"] = time.perf_counter() - started
        result["audio_seconds"] = episode.duration
    else:
        decoded = [(s, t, audio.decode_clip(c)) for s, t, c in lines]
        concat = _concat_ours if method == "ours" else _concat_naive
        baseline = _rss_mb()
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            concat(decoded, os.path.join(tmp, "speech.pcm"))
            result["seconds"] = time.perf_counter() - started
    result["peak_extra_mb"] = _rss_mb() - baseline
    return result


def measure(method: str, phase: str, count: int, clip_dir: str) -> dict:
    command = [sys.executable, __file__, "--worker", method, phase, str(count), clip_dir]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def synthesise(clip_dir: str) -> None:
    from podcasts.providers.espeak import EspeakSpeech

    speech = EspeakSpeech()
    voices = speech.default_voices()
    for index, (speaker, text) in enumerate(SENTENCES):
        clip = speech.synthesize(text=text, voice=voices[speaker])
        Path(clip_dir, f"{index}.wav").write_bytes(clip.data)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="podnex-bench-") as clip_dir:
        synthesise(clip_dir)
        print(f"{len(SENTENCES)} eSpeak clips, reused in turn to make each episode\n")

        joins = {}
        print("Joining only (decoded PCM -> the file ffmpeg reads)")
        print(
            f"{'segments':>9} {'ours s':>9} {'naive s':>9} {'naive/ours':>11}"
            f" {'ours +MB':>9} {'naive +MB':>10}"
        )
        for count in SIZES:
            ours = measure("ours", "concat", count, clip_dir)
            naive = measure("naive", "concat", count, clip_dir)
            joins[count] = (ours["seconds"], naive["seconds"])
            print(
                f"{count:>9} {ours['seconds']:>9.3f} {naive['seconds']:>9.3f}"
                f" {naive['seconds'] / ours['seconds']:>10.0f}x"
                f" {ours['peak_extra_mb']:>9.1f} {naive['peak_extra_mb']:>10.1f}"
            )

        print("\nWhole assembly (decode + join + loudness + MP3 export)")
        print(f"{'segments':>9} {'audio min':>10} {'ours s':>9} {'ours s/seg':>11} {'ours +MB':>9}")
        totals = {}
        for count in SIZES:
            ours = measure("ours", "total", count, clip_dir)
            totals[count] = ours
            print(
                f"{count:>9} {ours['audio_seconds'] / 60:>10.1f} {ours['seconds']:>9.2f}"
                f" {ours['seconds'] / count * 1000:>9.1f}ms {ours['peak_extra_mb']:>9.1f}"
            )

        count = SIZES[-1]
        ours, naive = totals[count], measure("naive", "total", count, clip_dir)
        print(f"\nAt {count} segments, whole assembly, same decode and export:")
        for name, result in [("ours  (audio_assemble)", ours), ("naive (AudioSegment +)", naive)]:
            seconds, extra = result["seconds"], result["peak_extra_mb"]
            print(f"  {name}  {seconds:7.2f} s   peak +{extra:.1f} MB")
        print(f"  naive/ours              {naive['seconds'] / ours['seconds']:7.2f}x")
        ours_join, naive_join = joins[count]
        print(
            f"  of which joining: ours {ours_join:.3f} s, naive {naive_join:.2f} s"
            f" ({naive_join / ours_join:.0f}x); the rest (decode, loudness, MP3 encode)"
            " is the same code in both"
        )


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        _, _, method, phase, count, clip_dir = sys.argv
        print(json.dumps(worker(method, phase, int(count), clip_dir)))
    else:
        main()
