"""`manage.py generate_podcast`: the same pipeline from the command line."""

import json

import pytest
from django.core.management import CommandError, call_command

from tests.audio_check import decoded_seconds
from tests.factories import SAMPLE_NOTES
from tests.sources import documents as docs
from tests.sources.site import Page, Site


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


def test_it_makes_one_episode_from_a_pdf_and_a_docx(tmp_path):
    dotenv, redis = docs.real_text("python_dotenv.md", sections=2), docs.real_text("redis.md")
    pdf = tmp_path / "redis.pdf"
    pdf.write_bytes(docs.make_pdf(redis, metadata_title="About Redis"))
    word = tmp_path / "dotenv.docx"
    word.write_bytes(docs.make_docx(dotenv, core_title="About dotenv"))
    out = tmp_path / "both.mp3"
    call_command("generate_podcast", str(pdf), str(word), "--out", str(out))

    segments = json.loads(out.with_suffix(".json").read_text())["segments"]
    spoken = " ".join(s["text"] for s in segments)
    assert "Redis" in spoken and "dotenv" in spoken.lower()
    assert not [s for s in segments if docs.MARKUP.search(s["text"]) or "#" in s["text"]]


def test_it_reads_a_url(tmp_path, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True  # the site is on loopback
    text = docs.real_text()
    site = Site()
    try:
        site.routes["/post"] = Page(docs.make_html_page(text).encode())
        out = tmp_path / "web.mp3"
        call_command("generate_podcast", site.url("/post"), "--out", str(out))
    finally:
        site.close()
    assert json.loads(out.with_suffix(".json").read_text())["segments"]


def test_it_names_the_input_it_cannot_read(tmp_path, settings):
    image = tmp_path / "photo.pdf"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(CommandError, match="photo.pdf: The file is a PNG image"):
        call_command("generate_podcast", str(image))
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = False
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(CommandError, match="Refused"):
        call_command("generate_podcast", "http://127.0.0.1:9/notes")
