"""Re-render by splicing MP3 frames: the spliced episode must play like one assembled from
scratch (same line times, same length, decodable, same loudness) for edits anywhere."""

from __future__ import annotations

import copy

import pytest

from podcasts import storage
from podcasts.pipeline import generate, splice
from podcasts.pipeline.audio import measure_loudness
from podcasts.providers.espeak import EspeakSpeech
from podcasts.scripts import new_line_id, new_section_id
from tests.audio_check import decoded_seconds

TEXTS = [
    "Welcome to the show about bees.",
    "Thanks, happy to be here.",
    "How does a hive decide where to forage?",
    "Scouts dance on the comb to point at flowers.",
    "And how far away are those flowers?",
    "The length of the waggle run tells the distance.",
    "That is remarkable.",
    "It is, and the angle of the run points relative to the sun.",
]


def document() -> dict:
    lines = [
        {"id": new_line_id(), "speaker": ("host", "guest")[n % 2], "text": text}
        for n, text in enumerate(TEXTS)
    ]
    speakers = [
        {"id": "host", "name": "Host", "role": "host", "voice": "en-us+f3"},
        {"id": "guest", "name": "Guest", "role": "guest", "voice": "en-us+m3"},
    ]
    return {
        "title": "Bees",
        "speakers": speakers,
        "sections": [{"id": new_section_id(), "title": "All", "lines": lines}],
    }


def render(doc, previous=None):
    return generate.episode_render(
        doc, tts_provider="espeak", title=doc["title"], progress=lambda *a: None, previous=previous
    )


def edit_middle(lines):
    lines[3]["text"] = "Scouts perform a dance on the comb that points at good flowers."


def edit_first_and_last(lines):
    lines[0]["text"] = "Hello and welcome."
    lines[-1]["text"] = "Yes, relative to the sun."


def insert_and_delete(lines):
    lines.insert(2, {"id": new_line_id(), "speaker": "host", "text": "A quick aside."})
    del lines[6]


def change_speaker(lines):
    lines[4]["speaker"] = "guest"  # same text, another voice: it must be voiced again


def append(lines):
    lines.append({"id": new_line_id(), "speaker": "host", "text": "Thanks for listening."})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "edit", [edit_middle, edit_first_and_last, insert_and_delete, change_speaker, append]
)
def test_a_spliced_re_render_plays_like_a_full_assembly(edit, caplog, monkeypatch):
    caplog.set_level("INFO", logger="podcasts.pipeline.generate")
    # The reference assembly must hear the very same clips (eSpeak's timing varies a
    # little between runs of one sentence), so the line cache is on here.
    monkeypatch.setattr(EspeakSpeech, "cache_lines", True)
    doc = document()
    first = render(doc)
    key = storage.audio_upload(key="podcasts/test/episode.mp3", data=first.audio.mp3)

    edited = copy.deepcopy(doc)
    edit(edited["sections"][0]["lines"])
    spliced = render(edited, previous={"key": key, "manifest": first.manifest})
    assert "spliced" in caplog.text, "the re-render kept the old frames"
    whole = render(edited)  # the same script assembled from scratch

    changed = splice.lines_to_voice(
        [line["sound"] for line in first.manifest["lines"]],
        [line["sound"] for line in spliced.manifest["lines"]],
    )
    assert spliced.lines_voiced == len(changed) >= 1  # only the edited lines were voiced
    assert spliced.lines_voiced + spliced.lines_reused == len(whole.audio.segments)
    assert spliced.audio.duration == pytest.approx(whole.audio.duration, abs=0.08)
    assert decoded_seconds(spliced.audio.mp3) == pytest.approx(spliced.audio.duration, abs=0.05)
    for ours, reference in zip(spliced.audio.segments, whole.audio.segments):
        assert (ours["text"], ours["speaker"], ours["lineId"]) == (
            reference["text"], reference["speaker"], reference["lineId"]
        )  # fmt: skip
        assert ours["start"] == pytest.approx(reference["start"], abs=0.06), ours
        assert ours["end"] == pytest.approx(reference["end"], abs=0.06), ours
    assert measure_loudness(spliced.audio.mp3) == pytest.approx(
        measure_loudness(whole.audio.mp3), abs=1.0
    )


@pytest.mark.django_db
def test_only_changed_lines_need_clips():
    old = ["a", "b", "c", "d"]
    assert splice.lines_to_voice(old, ["a", "B", "c", "d"]) == [1]
    assert splice.lines_to_voice(old, ["a", "b", "x", "c", "d"]) == [2]
    assert splice.lines_to_voice(old, ["a", "c", "d"]) == []
    assert splice.lines_to_voice(old, old) == []


@pytest.mark.django_db
def test_without_a_usable_old_mp3_it_assembles_the_whole_episode(caplog):
    caplog.set_level("INFO", logger="podcasts.pipeline.generate")
    doc = document()
    first = render(doc)
    edited = copy.deepcopy(doc)
    edit_middle(edited["sections"][0]["lines"])
    again = render(edited, previous={"key": "podcasts/gone.mp3", "manifest": first.manifest})
    assert "spliced" not in caplog.text
    # eSpeak keeps no line cache (it is free): a whole assembly voices every line again.
    assert again.lines_voiced == len(TEXTS) and decoded_seconds(again.audio.mp3) > 5
