"""The offline script writer: a real host/guest dialogue made of the notes' own content."""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import pytest

from podcasts.providers.base import GUEST, HOST, ProviderError
from podcasts.providers.offline_script import OfflineScriptWriter, episode_plan, split_sentences
from podnex.durations import spoken_minutes, word_budget

WORDS_PER_MINUTE = 150
SHORT_WORD_TARGET = (word_budget("short").low, word_budget("short").high)
LONG_WORD_TARGET = (word_budget("long").low, word_budget("long").high)

WATER = """# The Water Cycle

The water cycle describes how water moves between the oceans, the atmosphere and the land.
It has no real starting point, but the **sun** drives every part of it.
See https://www.usgs.gov/special-topics/water-science-school for more.

## Evaporation

- Heat from the sun evaporates water from oceans, lakes and rivers.
- About 90% of the moisture in the atmosphere comes from evaporation.
- Sublimation turns snow and ice directly into water vapour without melting first.

## How clouds form

As moist air rises, it cools. Cooler air holds less vapour, so the vapour condenses onto
tiny particles of dust, salt or smoke. Billions of these droplets together make a cloud.
Fog is simply a cloud that forms at ground level.

## Precipitation

The main forms are:
- Rain
- Snow
- Sleet
- Hail

Droplets collide and merge until they are too heavy to stay aloft. Whether they reach the
ground as rain or snow depends on the temperature of the air they fall through.

## Runoff and groundwater

Some water runs off the surface into streams and rivers, and eventually returns to the sea.
The rest soaks into the soil and recharges groundwater stored in [aquifers](https://x.org/a).
Groundwater can stay underground for thousands of years before it reaches a spring or a well.

## Summary

The water cycle is a closed loop powered by the sun.
"""

SUBJECTS = ["Bees", "Soil microbes", "Earthworms", "Mycorrhizal fungi", "Hedgerows", "Moss"]
VERBS = ["support", "protect", "feed", "shelter", "enrich", "stabilise", "cool", "drain"]
OBJECTS = ["young seedlings", "ground beetles", "the upper soil", "migrating birds", "roots"]
WHEN = ["in early spring", "during summer droughts", "after autumn rain", "through winter"]


def garden_notes(sections: int = 12, per_section: int = 14) -> str:
    """About 2,600 words of distinct sentences under a dozen headings."""
    lines = ["# Garden Ecology Field Notes", ""]
    for s in range(sections):
        lines += [f"## Plot {chr(65 + s)}: {SUBJECTS[s % 6]} and {OBJECTS[s % 5]}", ""]
        for i in range(per_section):
            lines.append(
                f"{SUBJECTS[(s + i) % 6]} {VERBS[(3 * i + s) % 8]} {OBJECTS[(5 * i + s) % 5]} "
                f"{WHEN[(i + s) % 4]}, according to observation {s * per_section + i + 1} "
                f"in plot {chr(65 + s)}{i}."
            )
        lines.append("")
    return "\n".join(lines)


def write(notes: str, duration: str = "short", **kwargs):
    return OfflineScriptWriter().write(notes=notes, duration=duration, **kwargs)


README_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "readmes"
READMES = sorted(p for p in README_DIR.iterdir() if p.suffix in (".md", ".rst"))
MARKUP = re.compile(r"```|\|-{3,}|\+-{3,}|^\.\. |<!--|\]\(|!\[|https?://|\*\*|::|`|</?[a-z]+>")


@functools.cache
def long_script(path: Path):
    return write(path.read_text(encoding="utf-8"), "long")


def words(text: str) -> int:
    return len(text.split())


def test_the_length_budget_follows_the_speaking_rate():
    assert SHORT_WORD_TARGET == (3 * WORDS_PER_MINUTE, 5 * WORDS_PER_MINUTE)
    assert LONG_WORD_TARGET == (8 * WORDS_PER_MINUTE, 10 * WORDS_PER_MINUTE)


def test_the_title_is_the_notes_heading_in_sentence_case():
    assert write(WATER).title == "The water cycle"
    assert write("# What's a Task Queue?\n\nA task queue hands work to workers.").title == (
        "What's a task queue?"
    )


def test_a_given_title_wins_over_the_heading():
    assert write(WATER, title="Rain and rivers").title == "Rain and rivers"


def test_the_title_is_never_glued_from_two_headings():
    notes = "## Brokers\n\nRabbitMQ moves messages.\n\n## Workers\n\nWorkers run tasks."
    assert write(notes).title == "Brokers"


@pytest.mark.parametrize("path", READMES, ids=lambda p: p.name)
def test_no_markup_reaches_a_line_of_a_real_readme(path):
    script = long_script(path)
    leaks = [line.text for line in script.lines if MARKUP.search(line.text)]
    assert leaks == []


@pytest.mark.parametrize("path", READMES, ids=lambda p: p.name)
def test_no_host_phrasing_is_used_more_than_twice(path):
    script = long_script(path)
    host = Counter(line.text for line in script.lines if line.speaker == HOST)
    assert max(host.values()) <= 2


@pytest.mark.parametrize("path", READMES, ids=lambda p: p.name)
def test_guest_turns_are_of_spoken_length(path):
    script = long_script(path)
    guest = [words(line.text) for line in script.lines if line.speaker == GUEST]
    assert max(guest) <= 60  # a 45-word turn plus its lead-in
    assert sum(guest) / len(guest) <= 45


def test_the_host_asks_about_sections_by_their_headings_and_reacts_to_what_was_said():
    script = write(garden_notes(), "long")
    host = [line.text for line in script.lines if line.speaker == HOST]
    assert sum("?" in text for text in host) >= 8
    section_words = {"bees", "soil microbes", "earthworms", "hedgerows", "moss", "roots"}
    naming = [t for t in host if any(w in t.lower() for w in section_words)]
    assert len(naming) >= len(host) // 3


def test_questions_are_never_built_from_a_lone_common_word():
    for path in READMES:
        script = long_script(path)
        for line in script.lines:
            if line.speaker != HOST:
                continue
            assert not re.search(
                r"\b(?:the|about) (?:python|simple|comes|code|thing)\b[?.]", line.text
            )


def test_lists_become_spoken_enumerations():
    script = write(WATER)
    text = " ".join(line.text for line in script.lines)
    assert re.search(r"(four|4)\b[^.]*: rain, snow, sleet and hail", text, re.I)


def test_code_is_never_read_aloud():
    notes = "# Tool\n\nTool runs tasks.\n\n```python\nfor s in tomllib.loads(x):\n    run(s)\n```\n"
    text = " ".join(line.text for line in write(notes).lines)
    assert "tomllib" not in text and "run(s)" not in text


def test_rich_notes_land_inside_each_band_and_long_is_longer():
    notes = garden_notes()
    short, long = write(notes, "short"), write(notes, "long")
    assert 3 <= spoken_minutes(line.text for line in short.lines) <= 5
    assert 8 <= spoken_minutes(line.text for line in long.lines) <= 10
    assert short.warnings == [] and long.warnings == []


def test_thin_notes_give_an_honest_episode_and_a_warning():
    script = write(WATER, "long")
    assert script.word_count() < LONG_WORD_TARGET[0]
    assert [w["code"] for w in script.warnings] == ["notes_too_short_for_duration"]
    assert "8-10 minutes" in script.warnings[0]["message"]


def test_long_is_not_the_same_episode_as_short_when_the_notes_allow_more():
    notes = (README_DIR / "redis.md").read_text(encoding="utf-8")
    short, long = write(notes, "short"), write(notes, "long")
    assert long.word_count() > short.word_count() * 1.5


def test_the_same_notes_give_the_same_script_and_other_notes_open_differently():
    assert write(WATER) == write(WATER)
    openings = {
        write(p.read_text(encoding="utf-8")).lines[0].text.split(".")[0].split(",")[0]
        for p in READMES
    }
    assert len(openings) >= 3


def test_one_speaker_gives_a_narrated_monologue():
    script = write(WATER, speakers=[{"name": "Ada", "role": "narrator"}])
    assert {line.speaker for line in script.lines} == {"narrator"}
    assert "brief" in script.lines[0].text.lower()


def test_four_speakers_give_a_panel_with_named_hand_offs():
    speakers = [
        {"name": "Ana", "role": "host"},
        {"name": "Bo", "role": "expert"},
        {"name": "Cy", "role": "guest"},
        {"name": "Di", "role": "cohost"},
    ]
    script = write(garden_notes(), "long", speakers=speakers)
    assert {line.speaker for line in script.lines} == {"host", "expert", "guest", "cohost"}
    text = " ".join(line.text for line in script.lines)
    assert "Bo" in text and "Cy" in text
    answerers = [line.speaker for line in script.lines if line.speaker in ("expert", "guest")]
    alternations = sum(a != b for a, b in zip(answerers, answerers[1:]))
    assert 0 < alternations < len(answerers) - 1  # not a fixed round-robin


@pytest.mark.parametrize(
    ("language", "phrase"),
    [("es", "PodNex"), ("de", "PodNex"), ("fr", "PodNex")],
)
def test_other_languages_get_their_own_phrases(language, phrase):
    english = write(WATER)
    other = write(WATER, language=language)
    assert other.lines[0].text != english.lines[0].text
    assert phrase in other.lines[0].text
    assert not any("Welcome" in line.text for line in other.lines)


def test_the_plan_records_each_lines_topic_for_the_benchmarks():
    plan, outline, warnings = episode_plan(notes=garden_notes(), duration="short")
    assert len(plan.topics) == len(plan.lines)
    assert plan.topics[0] == -1 and max(plan.topics) < len(outline.topics)


def test_sentences_do_not_break_after_abbreviations_or_initials():
    text = "Rivers, e.g. the Nile, flood. J. Smith measured it. Then it rained."
    assert split_sentences(text) == [
        "Rivers, e.g. the Nile, flood.",
        "J. Smith measured it.",
        "Then it rained.",
    ]


def test_empty_notes_and_unknown_durations_are_permanent_errors():
    with pytest.raises(ProviderError) as empty:
        write("   \n```\ncode only\n```\n")
    assert empty.value.permanent
    with pytest.raises(ProviderError) as unknown:
        write(WATER, "medium")
    assert unknown.value.permanent
