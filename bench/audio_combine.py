"""Benchmark: the episode assembly against its floor, the encoder setting, and joining.

Run from the repository root:  python bench/audio_combine.py   (needs requirements-bench.txt
for numpy, used by the encoder comparison only)

1. Assembly vs floor. The floor is what no assembly can beat: encoding the same PCM alone,
   with the same encoder settings, to the same 44.1 kHz MP3. The assembly adds decoding,
   joining, one loudness measurement and the limiter. Target: assembly <= 1.25x floor.
   Several runs, alternating, because the machine is shared and timings wander.
2. Encoder setting chosen by measurement, not by ear: each LAME quality level encodes the
   same speech; the decoded MP3 is compared with the PCM it came from (SNR and
   log-spectral distance) and timed.
3. Joining, linear (ours) vs repeated `AudioSegment +`.

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
import statistics
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


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg): on a shared machine
    this wanders less than wall time, which waits for other people's work too."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


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

    rate = audio.track_sample_rate(clip for _, _, clip in lines)
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
        mp3 = audio.encode_mp3(pcm_path, title=title, artist=artist, sample_rate=rate)
    duration = audio.mp3_duration(mp3)
    return audio.AssembledAudio(mp3, duration, audio.fit_segments(timeline, duration))


def _concat_ours(decoded: list[tuple[str, str, bytes]], path: str) -> None:
    with open(path, "wb") as out:
        audio.write_timeline(out, decoded)


def _concat_naive(decoded: list[tuple[str, str, bytes]], path: str) -> None:
    from pydub import AudioSegment

    rate = audio.COMMON_SAMPLE_RATE  # the joining benchmark decodes at the default rate
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
    if phase == "floor":
        return floor_worker(lines, result)
    if phase == "total":
        assemble = audio.audio_assemble if method == "ours" else naive_assemble
        baseline = _rss_mb()
        started, cpu = time.perf_counter(), _cpu_seconds()
        episode = assemble(lines=lines, title="Benchmark")
        result["seconds"] = time.perf_counter() - started
        result["cpu_seconds"] = _cpu_seconds() - cpu
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


def _encode_alone(pcm_path: str, sample_rate: int, mp3_path: str) -> None:
    """The floor: the episode's encoder settings on the finished PCM, nothing else."""
    audio._ffmpeg(
        ["-v", "error", *audio._raw_input(pcm_path, sample_rate)]
        + ["-ar", str(audio.OUTPUT_SAMPLE_RATE), "-ac", "1", *audio.mp3_encoder_args()]
        + ["-id3v2_version", "3", "-y", mp3_path]
    )


def floor_worker(lines: list, result: dict) -> dict:
    """Time the floor on the PCM the assembly builds, and the assembly's own stages."""
    with tempfile.TemporaryDirectory() as tmp:
        pcm_path, mp3_path = os.path.join(tmp, "speech.pcm"), os.path.join(tmp, "floor.mp3")
        started = time.perf_counter()
        with open(pcm_path, "wb") as out:
            timeline = audio.speech_track(out, lines)
        result["track_seconds"] = time.perf_counter() - started
        rate = timeline.sample_rate
        started = time.perf_counter()
        audio.loudness_chain(pcm_path, sample_rate=rate, speech_level=timeline.speech_level())
        result["measure_seconds"] = time.perf_counter() - started
        started, cpu = time.perf_counter(), _cpu_seconds()
        _encode_alone(pcm_path, rate, mp3_path)
        result["seconds"] = time.perf_counter() - started
        result["cpu_seconds"] = _cpu_seconds() - cpu
        # LAME alone, with the PCM already at 44.1 kHz: the resampler's share of the floor.
        pcm44 = os.path.join(tmp, "speech44.pcm")
        audio._ffmpeg([*audio._raw_input(pcm_path, rate), "-ar", "44100", "-f", "s16le", pcm44])
        started = time.perf_counter()
        _encode_alone(pcm44, audio.OUTPUT_SAMPLE_RATE, mp3_path)
        result["lame_only_seconds"] = time.perf_counter() - started
        result["audio_seconds"] = timeline.duration
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


def joining_report(clip_dir: str) -> None:
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


ENCODER_SEGMENTS = 60  # ~4 minutes of speech
# (label, ffmpeg arguments): LAME's quality levels at the episode bitrate, plus the
# neighbouring bitrates for scale. "default" leaves LAME's own quality setting.
ENCODER_CANDIDATES = [
    ("64k default", ["-b:a", "64k"]),
    *[
        (f"64k q{level}", ["-b:a", "64k", "-compression_level", str(level)])
        for level in (0, 2, 5, 7, 9)
    ],
    ("48k q7", ["-b:a", "48k", "-compression_level", "7"]),
    ("96k q7", ["-b:a", "96k", "-compression_level", "7"]),
]


def _pcm44(path: str):
    import numpy

    return numpy.fromfile(path, dtype="<i2").astype(numpy.float64)


def _compare(reference, decoded) -> tuple[float, float]:
    """SNR (dB) of the decoded MP3 against the PCM it was made from, and the log-spectral
    distance (dB, 2048-point frames up to 11 kHz, bins within 40 dB of each frame's peak,
    frames that are not silence)."""
    import numpy

    length = min(len(reference), len(decoded))
    reference, decoded = reference[:length], decoded[:length]
    snr = 10 * numpy.log10(numpy.sum(reference**2) / max(numpy.sum((reference - decoded) ** 2), 1))
    size, hop = 2048, 1024
    window = numpy.hanning(size)
    frames = (length - size) // hop
    index = numpy.arange(size)[None, :] + hop * numpy.arange(frames)[:, None]
    top = int(11000 / 44100 * size)
    power_ref = numpy.abs(numpy.fft.rfft(reference[index] * window))[:, :top] ** 2 + 1e-9
    power_dec = numpy.abs(numpy.fft.rfft(decoded[index] * window))[:, :top] ** 2 + 1e-9
    loud = power_ref.sum(axis=1) > power_ref.sum(axis=1).max() * 1e-6
    power_ref, power_dec = power_ref[loud], power_dec[loud]
    # Only bins within 40 dB of the frame's strongest: weaker ones are masked, and an
    # encoder may drop them without anyone hearing it.
    audible = power_ref >= power_ref.max(axis=1, keepdims=True) * 1e-4
    difference = (10 * numpy.log10(power_ref) - 10 * numpy.log10(power_dec)) ** 2
    lsd = numpy.sqrt((difference * audible).sum(axis=1) / audible.sum(axis=1))
    return float(snr), float(numpy.mean(lsd))


def encoder_report(clip_dir: str) -> None:
    """Encode the same normalised 44.1 kHz speech with each candidate and measure it."""
    lines = _load_lines(clip_dir, ENCODER_SEGMENTS)
    with tempfile.TemporaryDirectory() as tmp:
        pcm_path, ref_path = os.path.join(tmp, "speech.pcm"), os.path.join(tmp, "ref44.pcm")
        with open(pcm_path, "wb") as out:
            timeline = audio.speech_track(out, lines)
        chain = audio.loudness_chain(
            pcm_path, sample_rate=timeline.sample_rate, speech_level=timeline.speech_level()
        )
        # Exactly what the encoder is fed in an episode: normalised, limited, 44.1 kHz.
        audio._ffmpeg(
            [*audio._raw_input(pcm_path, timeline.sample_rate), "-af", chain]
            + ["-f", "s16le", "-ar", "44100", ref_path]
        )
        reference = _pcm44(ref_path)
        print(f"Encoder settings on {timeline.duration / 60:.1f} min of normalised speech")
        print(f"{'setting':>12} {'encode s':>9} {'SNR dB':>7} {'LSD dB':>7} {'kB':>6}")
        for label, args in ENCODER_CANDIDATES:
            mp3_path, back = os.path.join(tmp, "c.mp3"), os.path.join(tmp, "back.pcm")
            started = time.perf_counter()
            audio._ffmpeg(
                [*audio._raw_input(ref_path, 44100), "-c:a", "libmp3lame", *args, "-y", mp3_path]
            )
            seconds = time.perf_counter() - started
            audio._ffmpeg(["-i", mp3_path, "-f", "s16le", "-ac", "1", "-ar", "44100", "-y", back])
            snr, lsd = _compare(reference, _pcm44(back))
            size = os.path.getsize(mp3_path) / 1000
            print(f"{label:>12} {seconds:>9.2f} {snr:>7.2f} {lsd:>7.2f} {size:>6.0f}")
        print(
            f"chosen: {' '.join(audio.mp3_encoder_args())} (the fastest 64k setting, and the one"
            " with the best SNR and spectral distance at 64 kbps)\n"
        )


FLOOR_SEGMENTS = 200  # ~14 minutes of speech, a long episode
FLOOR_RUNS = 5


def floor_report(clip_dir: str) -> None:
    print(f"Assembly vs floor at {FLOOR_SEGMENTS} segments ({FLOOR_RUNS} runs, alternating)")
    print(
        f"{'run':>4} {'assembly s':>11} {'floor s':>8} {'ratio':>6} {'CPU ratio':>10}"
        f" {'track s':>8} {'measure s':>10} {'LAME alone s':>13}"
    )
    ratios, cpu_ratios, wholes, floors = [], [], [], []
    for run in range(1, FLOOR_RUNS + 1):
        floor = measure("ours", "floor", FLOOR_SEGMENTS, clip_dir)
        whole = measure("ours", "total", FLOOR_SEGMENTS, clip_dir)
        ratios.append(whole["seconds"] / floor["seconds"])
        wholes.append(whole["seconds"])
        floors.append(floor["seconds"])
        cpu_ratios.append(whole["cpu_seconds"] / floor["cpu_seconds"])
        print(
            f"{run:>4} {whole['seconds']:>11.2f} {floor['seconds']:>8.2f} {ratios[-1]:>5.2f}x"
            f" {cpu_ratios[-1]:>9.2f}x {floor['track_seconds']:>8.2f}"
            f" {floor['measure_seconds']:>10.2f} {floor['lame_only_seconds']:>13.2f}"
        )
    for name, values in [("wall time", ratios), ("CPU time", cpu_ratios)]:
        print(
            f"assembly/floor by {name}: median {statistics.median(values):.2f}x,"
            f" spread {min(values):.2f}-{max(values):.2f}x (target <= 1.25x)"
        )
    # The fastest run of each is the one least slowed by other work on the machine.
    print(
        f"fastest assembly / fastest floor: {min(wholes):.2f} s / {min(floors):.2f} s"
        f" = {min(wholes) / min(floors):.2f}x"
    )
    print(
        f"{floor['audio_seconds'] / 60:.1f} min of audio. floor = the same PCM encoded alone"
        " to the same 44.1 kHz MP3 (encoder settings"
        f" {' '.join(audio.mp3_encoder_args())}); track = decode + join; measure = the one"
        " loudness measurement\n"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="podnex-bench-") as clip_dir:
        synthesise(clip_dir)
        print(f"{len(SENTENCES)} eSpeak clips, reused in turn to make each episode\n")
        floor_report(clip_dir)
        encoder_report(clip_dir)
        joining_report(clip_dir)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        _, _, method, phase, count, clip_dir = sys.argv
        print(json.dumps(worker(method, phase, int(count), clip_dir)))
    else:
        main()
