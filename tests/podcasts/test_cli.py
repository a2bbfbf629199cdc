"""`manage.py generate_podcast`: the same pipeline from the command line."""

import json

import pytest
from django.core.management import CommandError, call_command

from tests.audio_check import decoded_seconds
from tests.factories import SAMPLE_NOTES


def test_it_writes_an_mp3_and_its_transcript(tmp_path, capsys):
    notes = tmp_path / "notes.md"
    notes.write_text(SAMPLE_NOTES)
    out = tmp_path / "out" / "episode.mp3"
    call_command("generate_podcast", str(notes), "--duration", "short", "--out", str(out))

    seconds = decoded_seconds(out.read_bytes())
    transcript = json.loads(out.with_suffix(".json").read_text())
    assert transcript["title"] == "Honeybees"
    assert abs(transcript["duration"] - seconds) < 0.1
    assert abs(transcript["segments"][-1]["end"] - seconds) < 0.1
    assert out.with_suffix(".srt").read_text().startswith("1\n00:00:")
    assert "100%" in capsys.readouterr().err  # the progress bar reached the end


def test_it_refuses_a_missing_or_empty_file_and_unknown_voices(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("generate_podcast", str(tmp_path / "missing.md"))
    empty = tmp_path / "empty.md"
    empty.write_text("  \n")
    with pytest.raises(CommandError, match="empty"):
        call_command("generate_podcast", str(empty))
    notes = tmp_path / "notes.md"
    notes.write_text(SAMPLE_NOTES)
    with pytest.raises(CommandError, match="Unknown voice"):
        call_command("generate_podcast", str(notes), "--host-voice", "robot")
