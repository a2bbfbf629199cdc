"""Chapters of an episode, from the script's sections as the transcript records them.

A transcript segment carries the title of its script section under the optional key
`section`; a chapter starts where that title changes, at the line's start in the real
audio (segments without the key continue the chapter they are in). The first chapter
always starts at 0 (an intro clip belongs to it), so players show a chapter throughout.
An episode whose script named no sections has one chapter: its title.
"""

from __future__ import annotations

from dataclasses import dataclass

CHAPTERS_VERSION = "1.2.0"  # Podcasting 2.0 JSON chapters
CHAPTERS_CONTENT_TYPE = "application/json+chapters"


@dataclass(frozen=True)
class Chapter:
    title: str
    start: float  # seconds
    end: float


def chapters_of(segments: list[dict] | None, *, duration: float, title: str) -> list[Chapter]:
    starts: list[tuple[float, str]] = []
    for segment in segments or []:
        section = segment.get("section")
        if not section or (starts and section == starts[-1][1]):
            continue
        if starts and segment["start"] <= starts[-1][0]:
            starts[-1] = (starts[-1][0], str(section))  # two titles at one instant: the later
        else:
            starts.append((float(segment["start"]), str(section)))
    if not starts:
        starts = [(0.0, title or "Episode")]
    starts[0] = (0.0, starts[0][1])
    ends = [start for start, _ in starts[1:]] + [duration]
    return [
        Chapter(title=name, start=round(start, 3), end=round(max(end, start), 3))
        for (start, name), end in zip(starts, ends)
    ]


def chapters_json(chapters: list[Chapter]) -> dict:
    return {
        "version": CHAPTERS_VERSION,
        "chapters": [{"startTime": c.start, "title": c.title} for c in chapters],
    }
