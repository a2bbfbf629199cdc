"""Honest lengths: per real document and duration, the words of the offline script, the
minutes of the episode the real offline pipeline produced, and whether it is in the band
(short 3-5, long 8-10 minutes) — or, when it is not, whether the podcast says why.

    python bench/lengths.py            # whole pipeline (eSpeak NG + assembly)
    python bench/lengths.py --script   # script only: minutes estimated by podnex.durations
"""

from __future__ import annotations

import sys
import time

from _corpus import corpus, produce, setup

setup()

from podcasts.providers.offline_script import OfflineScriptWriter  # noqa: E402
from podnex import durations  # noqa: E402


def main() -> None:
    script_only = "--script" in sys.argv
    rows = []
    print(f"{'document':28} {'chars':>7} {'dur':5} {'words':>6} {'minutes':>7}  in band?")
    for document in corpus():
        for duration in ("short", "long"):
            started = time.perf_counter()
            if script_only:
                script = OfflineScriptWriter().write(notes=document.text, duration=duration)
                minutes = durations.spoken_minutes(line.text for line in script.lines)
            else:
                episode = produce(document.text, duration)
                script, minutes = episode.script, episode.audio.duration / 60
            inside = durations.in_band(duration, minutes)
            warned = bool(script.warnings)
            verdict = "yes" if inside else ("no, warned" if warned else "NO")
            rows.append((inside, warned))
            print(
                f"{document.name:28} {len(document.text):>7} {duration:5} "
                f"{script.word_count():>6} {minutes:>7.2f}  {verdict}"
                f"   ({time.perf_counter() - started:.1f} s)"
            )
    inside = sum(1 for i, _ in rows if i)
    honest = sum(1 for i, warned in rows if i or warned)
    print(f"\n{inside}/{len(rows)} in band; {honest}/{len(rows)} in band or warned")


if __name__ == "__main__":
    main()
