"""Chapters from transcript segments, whichever way a writer marks its sections."""

from podcasts.chapters import chapters_json, chapters_of


def _segments(*sections):
    return [
        {"speaker": "host", "text": f"line {n}", "start": 1.0 + 2 * n, "end": 2.5 + 2 * n}
        | ({"section": section} if section else {})
        for n, section in enumerate(sections)
    ]


def test_a_chapter_starts_where_the_section_changes_and_the_first_at_zero():
    every_line = _segments("Intro", "Intro", "Bees", "Bees", "Wrap-up")
    only_openings = _segments("Intro", None, "Bees", None, "Wrap-up")
    for segments in (every_line, only_openings):
        chapters = chapters_of(segments, duration=12.0, title="T")
        assert [(c.title, c.start, c.end) for c in chapters] == [
            ("Intro", 0.0, 5.0),
            ("Bees", 5.0, 9.0),
            ("Wrap-up", 9.0, 12.0),
        ]


def test_without_sections_the_episode_is_one_chapter_named_by_its_title():
    chapters = chapters_of(_segments(None, None), duration=6.0, title="Bees")
    assert chapters_json(chapters) == {
        "version": "1.2.0",
        "chapters": [{"startTime": 0.0, "title": "Bees"}],
    }
    assert chapters_of(None, duration=0, title="")[0].title == "Episode"
