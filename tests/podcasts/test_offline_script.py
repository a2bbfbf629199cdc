"""The offline script writer: a real host/guest dialogue made of the notes' own content."""

from __future__ import annotations

import re

import pytest

from podcasts.providers.base import GUEST, HOST, ProviderError
from podcasts.providers.offline_script import OfflineScriptWriter, split_sentences
from podnex.durations import word_budget

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


def spoken(script) -> str:
    return " ".join(line.text for line in script.lines)


def normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9%]+", text.lower()))


def test_the_length_targets_follow_the_speaking_rate():
    assert WORDS_PER_MINUTE == 150
    assert SHORT_WORD_TARGET == (3 * 150, 5 * 150)
    assert LONG_WORD_TARGET == (8 * 150, 10 * 150)


def test_it_takes_the_title_from_the_notes_heading():
    assert write(WATER).title == "The Water Cycle"


def test_a_given_title_wins_over_the_heading():
    script = write(WATER, title="Where Rain Comes From")

    assert script.title == "Where Rain Comes From"
    assert "Where Rain Comes From" in script.lines[0].text


def test_without_headings_the_title_comes_from_the_notes_key_words():
    notes = "\n".join(line for line in WATER.splitlines() if not line.startswith("#"))

    title = write(notes).title

    assert title
    assert set(title.lower().split()) <= set(normalised(notes).split())


def test_the_host_opens_and_closes_and_the_speakers_take_turns():
    script = write(WATER)

    assert script.lines[0].speaker == HOST
    assert "The Water Cycle" in script.lines[0].text
    assert script.lines[1].speaker == GUEST
    assert script.lines[-1].speaker == HOST
    for previous, line in zip(script.lines, script.lines[1:], strict=False):
        assert previous.speaker != line.speaker
    assert all(line.text.strip() for line in script.lines)


def test_the_guest_speaks_the_notes_own_sentences():
    script = write(WATER)
    guest = [line.text for line in script.lines if line.speaker == GUEST]
    guest_words = normalised(" ".join(guest))

    for sentence in [
        "Heat from the sun evaporates water from oceans, lakes and rivers.",
        "Fog is simply a cloud that forms at ground level.",
        "Groundwater can stay underground for thousands of years before it reaches a spring",
        "The water cycle is a closed loop powered by the sun.",
    ]:
        assert normalised(sentence) in guest_words


def test_the_host_asks_about_each_section_and_sums_them_up():
    script = write(WATER)
    host_lines = [line.text.lower() for line in script.lines if line.speaker == HOST]

    for topic in ["evaporation", "how clouds form", "precipitation", "runoff and groundwater"]:
        assert any(topic in text for text in host_lines[1:-2]), topic
    summary = host_lines[-2]
    assert all(t in summary for t in ["evaporation", "precipitation", "runoff and groundwater"])


def test_questions_are_phrased_differently():
    script = write(garden_notes(sections=8, per_section=3), duration="long")
    questions = [line.text for line in script.lines if line.speaker == HOST][1:-2]
    # Strip the topic: what is left is the phrasing, which must vary.
    phrasings = [re.sub(r"plot [a-h]:[^.?]*", "TOPIC", q.lower()) for q in questions]

    assert len(set(phrasings)) >= 6


def test_markdown_syntax_is_stripped_and_links_shrink_to_their_domain():
    text = spoken(write(WATER))

    assert "usgs.gov" in text
    for syntax in ["**", "](", "http", "##", "special-topics"]:
        assert syntax not in text


def test_sentences_do_not_break_after_abbreviations_or_initials():
    text = "Pick a city, e.g. Paris or Rome. Dr. Smith agreed with J. Doe. Then it rained!"

    assert split_sentences(text) == [
        "Pick a city, e.g. Paris or Rome.",
        "Dr. Smith agreed with J. Doe.",
        "Then it rained!",
    ]


def test_short_bullets_become_one_list_sentence():
    assert "The main forms are: rain, snow, sleet, and hail." in spoken(write(WATER))


def test_no_line_or_sentence_is_repeated():
    notes = WATER + "\n\nFog is simply a cloud that forms at ground level.\n"
    script = write(notes, duration="long")
    texts = [line.text for line in script.lines]

    assert len(texts) == len(set(texts))
    assert normalised(spoken(script)).count(normalised("Fog is simply a cloud")) == 1


def test_long_notes_fill_the_short_target_range():
    words = write(garden_notes(), duration="short").word_count()

    assert SHORT_WORD_TARGET[0] <= words <= SHORT_WORD_TARGET[1]


def test_long_notes_fill_the_long_target_range():
    words = write(garden_notes(), duration="long").word_count()

    assert LONG_WORD_TARGET[0] <= words <= LONG_WORD_TARGET[1]


def test_cut_down_notes_keep_the_document_order():
    notes = garden_notes()
    script = write(notes, duration="short")
    numbers = [int(n) for n in re.findall(r"observation (\d+)", spoken(script))]

    assert len(numbers) >= 10
    assert numbers == sorted(numbers)
    assert len(numbers) < notes.count("observation")  # it did have to choose


def test_tiny_notes_make_a_short_episode_without_padding():
    notes = "Photosynthesis turns sunlight, water and carbon dioxide into sugar and oxygen."

    for duration in ("short", "long"):
        script = write(notes, duration=duration)
        assert script.word_count() < SHORT_WORD_TARGET[0] / 3
        assert spoken(script).count("carbon dioxide") == 1
        assert script.title == "Photosynthesis"


def test_medium_notes_are_used_whole_rather_than_padded():
    short, long = write(WATER, duration="short"), write(WATER, duration="long")

    assert short.word_count() == long.word_count() < SHORT_WORD_TARGET[1]


def test_the_same_notes_always_give_the_same_script():
    assert write(WATER) == write(WATER)
    assert write(garden_notes(), duration="long") == write(garden_notes(), duration="long")


def test_it_accepts_other_languages_and_instructions():
    script = write(WATER, language="fr", instructions="Keep it upbeat")

    assert script.lines


def test_empty_notes_and_unknown_durations_are_permanent_errors():
    for notes, duration in [("  \n# \n", "short"), (WATER, "medium")]:
        with pytest.raises(ProviderError) as error:
            write(notes, duration=duration)
        assert error.value.permanent


def test_reference_style_subsections_fold_into_their_parent_topic():
    notes = """# API

## Podcasts

### POST /podcasts
Creates a podcast.

### GET /podcasts
Lists your podcasts.

## Webhooks

Webhooks notify your server when an episode is ready. Each delivery is signed.
"""
    script = write(notes)
    questions = [line.text for line in script.lines if line.speaker == HOST]

    assert "POST /podcasts: Creates a podcast." in spoken(script)
    assert not any("POST /podcasts" in q for q in questions)
    assert any("podcasts" in q.lower() for q in questions[1:-2])


def test_very_large_notes_are_cut_to_the_long_budget():
    # How fast this runs is not asserted here: timings belong in bench/, not in tests.
    notes = garden_notes(sections=60, per_section=40)  # ~45,000 words
    script = write(notes, duration="long")

    assert script.word_count() <= LONG_WORD_TARGET[1]
