"""Assembly of one episode without and with an intro, an outro and a music bed.

The same eSpeak lines (a ~4-minute episode) are assembled twice in one run, alternating,
through the real `audio_assemble`: once as is, once with the `music_hook` (a 6 s MP3 intro,
a 4 s WAV outro, a 20 s OGG bed looped and ducked under the voices). Prints the median time
of each, their ratio, and the loudness and true peak of both results (ffmpeg ebur128).

    python bench/music_mix.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")
os.environ.setdefault("PODNEX_VAR_DIR", tempfile.mkdtemp(prefix="podnex-bench-"))

import django  # noqa: E402

django.setup()

from podcasts.pipeline.audio import audio_assemble  # noqa: E402
from podcasts.pipeline.music import MusicSet, music_hook  # noqa: E402
from podcasts.providers.base import GUEST, HOST, SpeechClip  # noqa: E402
from podcasts.providers.espeak import EspeakSpeech  # noqa: E402
from tests.media_samples import loudness, tone  # noqa: E402

SENTENCES = [
    "A colony has one queen, thousands of female workers and a few hundred male drones.",
    "Workers change jobs as they age: they clean cells, feed larvae and build comb.",
    "A forager who finds flowers performs a waggle dance on the comb.",
    "The angle of the dance points to the food relative to the sun.",
]
LINES = 40
ROUNDS = 3


def main() -> None:
    speech = EspeakSpeech()
    voices = speech.default_voices()
    lines = []
    for n in range(LINES):
        who = HOST if n % 2 == 0 else GUEST
        text = SENTENCES[n % len(SENTENCES)]
        lines.append((who, text, speech.synthesize(text=text, voice=voices[who])))
    clips = MusicSet(
        intro=SpeechClip(tone(6.0, "mp3", frequency=523, volume_db=-3), "mp3"),
        outro=SpeechClip(tone(4.0, "wav", frequency=392), "wav"),
        bed=SpeechClip(tone(20.0, "ogg", frequency=220, extra="tremolo=f=2"), "ogg"),
    )
    times: dict[str, list[float]] = {"plain": [], "music": []}
    results = {}
    for _ in range(ROUNDS):
        for name, hook in (("plain", None), ("music", music_hook(clips))):
            start = time.perf_counter()
            results[name] = audio_assemble(lines=lines, title="Bench", pcm_hook=hook)
            times[name].append(time.perf_counter() - start)
    plain, music = (statistics.median(times[k]) for k in ("plain", "music"))
    print(f"episode: {results['plain'].duration:.1f} s of speech, {LINES} lines")
    for name in ("plain", "music"):
        integrated, peak = loudness(results[name].mp3)
        print(
            f"{name:>5}: median {statistics.median(times[name]):.2f} s over {ROUNDS} runs, "
            f"{results[name].duration:.1f} s long, {integrated:.1f} LUFS, {peak:.1f} dBTP"
        )
    print(f"with music / without: {music / plain:.2f}x the assembly time")


if __name__ == "__main__":
    main()
