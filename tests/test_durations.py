"""The one duration rule: bands in minutes, budgets in words at the speaking rate."""

from __future__ import annotations

import pytest

from podnex import durations


def test_the_bands_are_the_plans():
    assert durations.band_minutes("short") == (3, 5)
    assert durations.band_minutes("LONG") == (8, 10)


def test_word_budgets_follow_the_speaking_rate(settings):
    settings.SPEAKING_RATE_WPM = 150
    assert durations.word_budget("short") == durations.WordBudget(450, 750)
    assert durations.word_budget("long") == durations.WordBudget(1200, 1500)
    settings.SPEAKING_RATE_WPM = 120
    assert durations.word_budget("short") == durations.WordBudget(360, 600)


def test_minutes_and_band_membership(settings):
    settings.SPEAKING_RATE_WPM = 150
    assert durations.minutes_of(600) == 4.0
    assert durations.in_band("short", 4.0)
    assert not durations.in_band("short", 5.5)
    assert not durations.in_band("long", 5.0)


def test_estimates_come_from_settings(settings):
    settings.ESTIMATED_MINUTES_LONG = 12
    settings.ESTIMATED_TIME_SHORT = 33
    assert durations.estimated_minutes("LONG") == 12
    assert durations.estimated_job_seconds("short") == 33


def test_an_unknown_duration_is_refused():
    with pytest.raises(ValueError):
        durations.word_budget("medium")


def test_numbers_and_acronyms_take_longer_to_say_than_words(settings):
    settings.SPEAKING_RATE_WPM = 150
    prose = "the cat sat on the mat and looked at the dog"
    versions = "version 3.5.3 of 2024-01-09 fixed HTTP and TLS bugs"
    assert durations.spoken_units(versions) > durations.spoken_units(prose)
    assert len(versions.split()) < len(prose.split())


def test_spoken_minutes_count_a_pause_per_line(settings):
    settings.SPEAKING_RATE_WPM = 150
    one = durations.spoken_minutes(["word " * 100])
    two = durations.spoken_minutes(["word " * 50, "word " * 50])
    assert two > one
    assert 0.5 < one < 0.7  # 100 plain words at 150 words of prose a minute
