"""Episode quality over real documents: the real offline pipeline (offline writer, eSpeak
NG, assembly) for both durations, and per episode:

- minutes of audio and whether they are in the band (short 3-5, long 8-10), or warned;
- the most uses of one host phrasing (the writer's own record; must be <= 2) and the
  number of host lines said word for word more than twice (cross-check; must be 0);
- the share of host turns inside a topic that name something of that topic: its heading
  or one of its specific noun phrases;
- markup tokens heard in the transcript (must be 0);
- integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's ebur128.

    python bench/episode_quality.py            # all documents, both durations
    python bench/episode_quality.py --quick    # short episodes only
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter

from _corpus import corpus, loudness, produce, setup

setup()

from podcasts.providers.offline_script import episode_plan  # noqa: E402
from podcasts.providers.offline_script.chunker import is_specific, noun_phrases  # noqa: E402
from podnex import durations  # noqa: E402

MARKUP = re.compile(
    r"```|~~~|\|\s*-{3,}|\+-{3,}\+|(^|\s)\.\. |<!--|-->|\]\(|!\[|https?://|www\.|\*\*|__\w"
    r"|::|`|</?[a-zA-Z][^>]*>|\[\^|\{\{|&[a-z]+;"
)
HOST_KEYS = (
    "open", "preview", "introduce_guest", "introduce_panel", "first_question", "ask_about",
    "ask_how", "segue", "react_phrase", "react_plain", "hand_off", "wrap", "wrap_single",
    "last_word_ask", "sign_off", "generic", "react_topic",
)  # fmt: skip


def naming_share(plan, outline) -> float:
    """Host lines within a topic that name its heading or one of its noun phrases."""
    named = total = 0
    for line, number in zip(plan.lines, plan.topics, strict=True):
        if number < 0 or line.speaker != "host":
            continue
        topic = outline.topics[number]
        names = {p.lower() for p in noun_phrases(topic.text) if is_specific(p)}
        if topic.title:
            names.add(topic.title.lower().rstrip("?"))
        total += 1
        named += any(name in line.text.lower() for name in names)
    return named / total if total else float("nan")


def measure(document, duration: str) -> dict:
    plan, outline, warnings = episode_plan(notes=document.text, duration=duration)
    host_uses = [n for k, n in plan.template_uses.items() if k.split(":")[0] in HOST_KEYS]
    repeated = Counter(line.text for line in plan.lines if line.speaker == "host")
    episode = produce(document.text, duration)
    assert [line.text for line in episode.script.lines] == [line.text for line in plan.lines]
    heard = [segment["text"] for segment in episode.audio.segments]
    lufs, peak = loudness(episode.audio.mp3)
    minutes = episode.audio.duration / 60
    return {
        "minutes": minutes,
        "band": "yes" if durations.in_band(duration, minutes) else ("warned" if warnings else "NO"),
        "max_uses": max(host_uses, default=0),
        "said_3x": sum(1 for n in repeated.values() if n > 2),
        "naming": naming_share(plan, outline),
        "markup": sum(len(MARKUP.findall(text)) for text in heard),
        "lufs": lufs,
        "peak": peak,
    }


def main() -> None:
    kinds = ("short",) if "--quick" in sys.argv else ("short", "long")
    print(
        f"{'document':26} {'kind':26} {'dur':5} {'min':>5} {'band':>6} {'tmpl':>4} "
        f"{'3x':>3} {'naming':>6} {'markup':>6} {'LUFS':>6} {'dBTP':>5}"
    )
    results = []
    for document in corpus():
        for duration in kinds:
            started = time.perf_counter()
            row = measure(document, duration)
            results.append(row)
            print(
                f"{document.name:26} {document.kind[:26]:26} {duration:5} {row['minutes']:5.2f} "
                f"{row['band']:>6} {row['max_uses']:>4} {row['said_3x']:>3} "
                f"{row['naming']:>6.0%} {row['markup']:>6} {row['lufs']:>6.1f} {row['peak']:>5.1f}"
                f"  ({time.perf_counter() - started:.0f} s)"
            )
    honest = sum(1 for r in results if r["band"] != "NO")
    naming = sum(r["naming"] for r in results) / len(results)
    print(
        f"\n{honest}/{len(results)} in band or warned; max host phrasing uses "
        f"{max(r['max_uses'] for r in results)}; markup tokens heard "
        f"{sum(r['markup'] for r in results)}; mean naming share {naming:.0%}; loudness "
        f"{min(r['lufs'] for r in results):.1f} to {max(r['lufs'] for r in results):.1f} LUFS; "
        f"highest true peak {max(r['peak'] for r in results):.1f} dBTP"
    )


if __name__ == "__main__":
    main()
