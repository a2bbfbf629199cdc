"""The one duration rule: what `short` and `long` mean, in minutes and in words.

`short` is 3-5 minutes of speech and `long` 8-10 (the plan's bands); words per minute come
from SPEAKING_RATE_WPM. The script writers size their scripts with it, billing reserves
minutes with it and the API estimates job times with it. It lives in the ground floor
because every layer above (billing, podcasts, ops) needs the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

BANDS: dict[str, tuple[int, int]] = {"short": (3, 5), "long": (8, 10)}  # minutes of speech
DURATIONS = tuple(BANDS)
LENGTH_TOLERANCE = 0.1  # a script within 10% outside its word range is close enough


def duration_key(duration: str) -> str:
    """ "short"/"long" from the API's or the database's spelling ("SHORT")."""
    key = (duration or "").strip().lower()
    if key not in BANDS:
        raise ValueError(f"Unknown duration {duration!r}; expected one of {', '.join(BANDS)}")
    return key


def words_per_minute() -> int:
    return settings.SPEAKING_RATE_WPM


@dataclass(frozen=True)
class WordBudget:
    low: int
    high: int

    @property
    def target(self) -> int:
        return (self.low + self.high) // 2

    def accepts(self, words: int) -> bool:
        return self.low * (1 - LENGTH_TOLERANCE) <= words <= self.high * (1 + LENGTH_TOLERANCE)

    def contains(self, words: int) -> bool:
        return self.low <= words <= self.high


def band_minutes(duration: str) -> tuple[int, int]:
    return BANDS[duration_key(duration)]


def word_budget(duration: str, *, wpm: int | None = None) -> WordBudget:
    """The band in words at the speaking rate: short 450-750, long 1200-1500 at 150 wpm."""
    wpm = wpm or words_per_minute()
    low, high = band_minutes(duration)
    return WordBudget(low=low * wpm, high=high * wpm)


def minutes_of(words: int, *, wpm: int | None = None) -> float:
    """Minutes of speech for a script of `words` words."""
    return words / (wpm or words_per_minute())


# How long text takes to say, in word-equivalents ("units"). Calibrated on 24 offline
# episodes of 12 real documents (bench/lengths.py): numbers take longer than a word per
# token ("3.5.3" is five), acronyms are spelled ("HTTP"), long words are slower, and each
# line ends in a pause. With these weights minutes are predicted within about 3.5% (plain
# word counts: 6.5%); prose runs at about UNITS_PER_WORD units per word. Recalibrated when
# the offline voices changed (host en-us+f2 at 150 wpm, guest en-us+m1): those episodes ran
# 7% longer than the estimate (mean of 24, bench/episode_quality.py vs lengths.py --script).
_DIGITS = re.compile(r"\d+")
_ACRONYM = re.compile(r"[A-Z]{2,6}s?[.,;:!?)]?")
UNITS_PER_WORD = 1.08
UNITS_PER_LINE = 1.0  # the pause between two lines


def _token_units(token: str) -> float:
    if any(ch.isdigit() for ch in token):
        groups = _DIGITS.findall(token)
        said = sum(1 if len(g) <= 2 else 2 if len(g) == 3 else 2.5 for g in groups)
        return said * 1.6 + (len(groups) - 1)  # the separators: "point", "dash"
    if _ACRONYM.fullmatch(token):
        return 0.4 * sum(ch.isupper() for ch in token)
    letters = sum(ch.isalnum() for ch in token)
    return 1 + max(0, letters - 6) / 4


def spoken_units(text: str) -> float:
    return sum(_token_units(token) for token in text.split())


def spoken_minutes(lines: Iterable[str], *, wpm: int | None = None) -> float:
    """Minutes of speech for a script's lines, at SPEAKING_RATE_WPM words of prose a minute."""
    units = sum(spoken_units(line) + UNITS_PER_LINE for line in lines)
    return units / ((wpm or words_per_minute()) * UNITS_PER_WORD)


def in_band(duration: str, minutes: float) -> bool:
    low, high = band_minutes(duration)
    return low <= minutes <= high


def estimated_minutes(duration: str) -> int:
    """Minutes a queued podcast holds against the plan until its real length is known."""
    if duration_key(duration) == "long":
        return settings.ESTIMATED_MINUTES_LONG
    return settings.ESTIMATED_MINUTES_SHORT


def estimated_job_seconds(duration: str) -> int:
    """Seconds a job of this length usually takes, end to end."""
    if duration_key(duration) == "long":
        return settings.ESTIMATED_TIME_LONG
    return settings.ESTIMATED_TIME_SHORT
