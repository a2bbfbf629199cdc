"""Offline script writer: a conversation built from the notes alone, no language model.

The notes go through the one normaliser (sources.speakable), so code, tables, badges and
links never reach a line. `parsing` turns them into an outline of topics holding the
guest's points (sentences cut to spoken length, lists, code notes) and key noun phrases;
`composing` writes the episode for 1-4 speakers: a host who asks about each topic and
reacts to what was just said, guests or a panel who answer in turns of at most ~45
words, or a narrator alone; `phrases` holds the words around the notes in English,
Spanish, German and French and makes sure no phrasing comes back more than twice.

Length: the duration rule (podnex.durations) estimates the minutes a script takes to say;
the writer keeps the most informative points that fit the middle of the band. Notes too
thin for the band give the longest honest episode and a `notes_too_short_for_duration`
warning. Output is
reproducible: the same notes, duration and speakers give the same script; different
notes or durations are phrased differently.
"""

from __future__ import annotations

import zlib

from podcasts.providers.base import ProviderError, Script, ScriptLine
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
        lines = with_sections(plan, outline)
        return Script(title=outline.title, lines=lines, warnings=warnings)


INTRO_SECTION = "Introduction"  # chapter titles of the opening and the closing
WRAP_UP_SECTION = "Wrap-up"


def with_sections(plan: Plan, outline: Outline) -> list[ScriptLine]:
    """Every line with the title of the section it belongs to (chapters come from these):
    the topic's title, or before the first topic the opening, after the last the wrap-up."""
    lines: list[ScriptLine] = []
    seen_topic = False
    for line, number in zip(plan.lines, plan.topics):
        if number >= 0:
            seen_topic = True
            topic = outline.topics[number]
            section = topic.title or (topic.phrases[0] if topic.phrases else "")
            section = section[:1].upper() + section[1:]
        else:
            section = WRAP_UP_SECTION if seen_topic else INTRO_SECTION
        lines.append(ScriptLine(line.speaker, line.text, section))
    return lines


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
        durations.duration_key(duration)
    except ValueError as error:
        raise ProviderError(str(error), permanent=True) from error
    outline = parse(notes or "")
    if not any(p.kind != "code" for p in outline.points()):
        raise ProviderError("The notes contain no text to talk about", permanent=True)
    if title and title.strip():
        outline.title = title.strip()
    seed = zlib.crc32(f"{notes}\0{duration}\0{speakers}\0{language}".encode())
    composer = Composer(outline, cast(speakers), Phrasebook(phrases_for(language), seed))
    plan, whole = _fit(composer, outline, duration)
    minutes = durations.spoken_minutes(line.text for line in plan.lines)
    return plan, outline, _warnings(duration, minutes) if whole else []


TOPICS_PER_MINUTE = 1.2  # depth over breadth: about six topics in a short episode


def _priority(outline: Outline, duration: str) -> list[int]:
    """Point orders in the order they earn a place. The strongest topics come first (the
    opening one always), each with its best point, then the rest of their points by
    score; only then the other topics. A short episode goes deeper into fewer topics
    instead of one sentence on each."""
    topics = [t for t in outline.topics if t.points]
    limit = max(2, round(durations.band_minutes(duration)[1] * TOPICS_PER_MINUTE))
    ranked = sorted(topics, key=lambda t: -_strength(t))
    chosen = [t for t in topics if t.kind == "intro"][:1]
    chosen += [t for t in ranked if t not in chosen][: limit - len(chosen)]
    others = [t for t in topics if t not in chosen]
    return _ranked_points(chosen) + _ranked_points(others)


def _strength(topic) -> float:
    return sum(sorted((p.score for p in topic.points), reverse=True)[:3])


def _ranked_points(topics: list) -> list[int]:
    firsts = [max(t.points, key=lambda p: (p.score, -p.order)) for t in topics]
    firsts.sort(key=lambda p: (-p.score, p.order))
    taken = {p.order for p in firsts}
    rest = [p for t in topics for p in t.points if p.order not in taken]
    rest.sort(key=lambda p: (-p.score, p.order))
    return [p.order for p in firsts + rest]


GREEDY_TRIES = 40  # points tried one by one after the prefix search, to fill the gap


def _fit(composer: Composer, outline: Outline, duration: str) -> tuple[Plan, bool]:
    """The plan with as many top points as fit the middle of the band, and whether it
    holds every point of the notes (then a short episode is all the notes allow).

    A binary search finds the longest prefix of the priority list that fits (the spoken
    length grows with each point added); then the next points are tried one by one, since
    one long point (a big list) must not keep the smaller ones after it out.
    """
    priority = _priority(outline, duration)
    low, high = durations.band_minutes(duration)
    aim = (low + high) / 2

    def attempt(chosen: set[int]) -> tuple[float, Plan]:
        plan = composer.compose(chosen)
        return durations.spoken_minutes(line.text for line in plan.lines), plan

    total, plan = attempt(set(priority))
    if total <= aim:
        return plan, True
    lo, hi = 1, len(priority)
    while lo < hi:
        middle = (lo + hi + 1) // 2
        if attempt(set(priority[:middle]))[0] <= aim:
            lo = middle
        else:
            hi = middle - 1
    chosen = set(priority[:lo])
    for order in priority[lo : lo + GREEDY_TRIES]:
        if attempt(chosen | {order})[0] <= aim:
            chosen.add(order)
    return attempt(chosen)[1], False


def _warnings(duration: str, minutes: float) -> list[dict]:
    low, high = durations.band_minutes(duration)
    if minutes >= low:
        return []
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
