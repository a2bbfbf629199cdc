"""Offline script writer: a conversation built from the notes alone, no language model.

The notes go through the one normaliser (sources.speakable), so code, tables, badges and
links never reach a line. `parsing` turns them into an outline of topics holding the
guest's points (sentences cut to spoken length, lists, code notes) and key noun phrases;
`composing` writes the episode for 1-4 speakers: a host who asks about each topic and
reacts to what was just said, guests or a panel who answer in turns of at most ~45
words, or a narrator alone; `phrases` holds the words around the notes in English,
Spanish, German and French and makes sure no phrasing comes back more than twice.

Length: the duration rule (podnex.durations) gives a word budget; the writer keeps the
most informative points that fit the middle of the band. Notes too thin for the band give
the longest honest episode and a `notes_too_short_for_duration` warning. Output is
reproducible: the same notes, duration and speakers give the same script; different
notes or durations are phrased differently.
"""

from __future__ import annotations

import zlib

from podcasts.providers.base import ProviderError, Script
from podnex import durations

from .composing import Composer, Plan, cast
from .parsing import Outline, parse, split_sentences
from .phrases import Phrasebook, phrases_for

__all__ = ["OfflineScriptWriter", "split_sentences", "episode_plan"]


class OfflineScriptWriter:
    """ScriptWriter that needs no network or model: see the module docstring."""

    name = "offline"

    def write(
        self,
        *,
        notes: str,
        duration: str,
        title: str | None = None,
        language: str = "en",
        instructions: str = "",
        speakers: list[dict] | None = None,
    ) -> Script:
        plan, outline, warnings = episode_plan(
            notes=notes, duration=duration, title=title, language=language, speakers=speakers
        )
        return Script(title=outline.title, lines=plan.lines, warnings=warnings)


def episode_plan(
    *,
    notes: str,
    duration: str,
    title: str | None = None,
    language: str = "en",
    speakers: list[dict] | None = None,
) -> tuple[Plan, Outline, list[dict]]:
    """The plan (lines with their topics), the outline and the warnings: the writer's
    whole work, exposed for the benchmarks that measure it."""
    try:
        budget = durations.word_budget(duration)
    except ValueError as error:
        raise ProviderError(str(error), permanent=True) from error
    outline = parse(notes or "")
    if not any(p.kind != "code" for p in outline.points()):
        raise ProviderError("The notes contain no text to talk about", permanent=True)
    if title and title.strip():
        outline.title = title.strip()
    seed = zlib.crc32(f"{notes}\0{duration}\0{speakers}\0{language}".encode())
    composer = Composer(outline, cast(speakers), Phrasebook(phrases_for(language), seed))
    plan = _fit(composer, outline, budget)
    words = sum(len(line.text.split()) for line in plan.lines)
    return plan, outline, _warnings(duration, words, budget)


def _priority(outline: Outline) -> list[int]:
    """Point orders in the order they earn a place: each topic's best point first (so every
    topic that fits is heard), then the rest by score."""
    firsts = [max(t.points, key=lambda p: (p.score, -p.order)) for t in outline.topics if t.points]
    firsts.sort(key=lambda p: (-p.score, p.order))
    chosen = {p.order for p in firsts}
    rest = [p for p in outline.points() if p.order not in chosen]
    rest.sort(key=lambda p: (-p.score, p.order))
    return [p.order for p in firsts + rest]


def _fit(composer: Composer, outline: Outline, budget: durations.WordBudget) -> Plan:
    """The plan with as many top points as fit the middle of the band (binary search on a
    prefix of the priority list: words grow with each point added)."""
    priority = _priority(outline)
    aim = budget.target

    def attempt(count: int) -> tuple[int, Plan]:
        plan = composer.compose(set(priority[:count]))
        return sum(len(line.text.split()) for line in plan.lines), plan

    total, plan = attempt(len(priority))
    if total <= aim:
        return plan
    lo, hi = 1, len(priority)
    best = attempt(1)[1]
    while lo < hi:
        middle = (lo + hi + 1) // 2
        words, candidate = attempt(middle)
        if words <= aim:
            lo, best = middle, candidate
        else:
            hi = middle - 1
    return best


def _warnings(duration: str, words: int, budget: durations.WordBudget) -> list[dict]:
    if words >= budget.low:
        return []
    low, high = durations.band_minutes(duration)
    minutes = durations.minutes_of(words)
    return [
        {
            "code": "notes_too_short_for_duration",
            "message": (
                f"The notes hold about {minutes:.1f} minutes of conversation; a "
                f"{durations.duration_key(duration)} episode aims at {low}-{high} minutes. "
                "Add more notes for a fuller episode."
            ),
        }
    ]
