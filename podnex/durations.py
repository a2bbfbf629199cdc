"""The one duration rule: what `short` and `long` mean, in minutes and in words.

`short` is 3-5 minutes of speech and `long` 8-10 (the plan's bands); words per minute come
from SPEAKING_RATE_WPM. The script writers size their scripts with it, billing reserves
minutes with it and the API estimates job times with it. It lives in the ground floor
because every layer above (billing, podcasts, ops) needs the same answer.
"""

from __future__ import annotations

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
