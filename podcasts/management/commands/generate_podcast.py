"""`manage.py generate_podcast INPUT... --duration short --out episode.mp3`: the same
pipeline as the worker, in-process, without the database or a queue.

An input is a notes file (Markdown or text, used as written), or a document (PDF, DOCX,
EPUB, HTML, reStructuredText...) or an http(s) URL, read as a source is; several inputs
make one episode with a section per input."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from podcasts.languages import LANGUAGES
from podcasts.pipeline.generate import EpisodeRequest, episode_produce
from podcasts.providers import registry
from podcasts.providers.base import ProviderError
from podcasts.serializers import MAX_INSTRUCTIONS_CHARS, duration_of
from podcasts.transcripts import transcript_srt
from podnex import outbound
from sources import extract, sniff
from sources.services import document_read, notes_compose, url_read

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Turn notes, documents (PDF, DOCX, EPUB, HTML, ...) or URLs into an MP3 episode plus "
        "its transcript (.json and .srt)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "inputs", nargs="+", metavar="INPUT", help="notes file, document, or http(s) URL"
        )
        parser.add_argument("--duration", choices=["short", "long"], default="short")
        parser.add_argument("--out", type=Path, default=Path("episode.mp3"))
        parser.add_argument("--title", default=None)
        parser.add_argument("--host-voice", default="host")
        parser.add_argument("--guest-voice", default="guest")
        parser.add_argument("--provider", default=None, help="speech provider (default: setting)")
        parser.add_argument("--language", default="en", help="ISO 639-1 code (default: en)")
        parser.add_argument("--instructions", default="", help="tone and focus for the writer")

    def handle(
        self,
        *args,
        inputs: list[str],
        duration: str,
        out: Path,
        title,
        host_voice,
        guest_voice,
        provider,
        language,
        instructions,
        **options,
    ):
        notes = _inputs_notes(inputs)
        if language not in LANGUAGES:
            raise CommandError(f"Unknown language {language!r}; use an ISO 639-1 code")
        provider = provider or registry.default_speech_provider_name()
        if provider not in registry.speech_provider_names():
            raise CommandError(
                f"Unknown provider {provider!r}; available: "
                f"{', '.join(registry.speech_provider_names())}"
            )
        for voice in (host_voice, guest_voice):
            if not registry.voice_is_known(provider_name=provider, voice=voice):
                raise CommandError(
                    f"Unknown voice {voice!r}; available: host, guest, "
                    f"{', '.join(registry.voice_ids(provider))}"
                )
        request = EpisodeRequest(
            notes=notes,
            duration=duration_of(duration),
            title=title,
            host_voice=host_voice,
            guest_voice=guest_voice,
            tts_provider=provider,
            language=language,
            instructions=instructions[:MAX_INSTRUCTIONS_CHARS],
        )
        try:
            episode = episode_produce(request, progress=_progress_bar)
        except ProviderError as exc:
            raise CommandError(f"Generation failed: {exc.message}") from exc
        _progress_bar(100, "Done")
        sys.stderr.write("\n")
        self._write(episode, out)

    def _write(self, episode, out: Path) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(episode.audio.mp3)
        segments = episode.audio.segments
        out.with_suffix(".json").write_text(
            json.dumps(
                {"title": episode.title, "duration": episode.audio.duration, "segments": segments},
                indent=2,
                ensure_ascii=False,
            )
        )
        out.with_suffix(".srt").write_text(transcript_srt(segments))
        minutes, seconds = divmod(round(episode.audio.duration), 60)
        self.stdout.write(
            self.style.SUCCESS(
                f"{episode.title!r}: {minutes}:{seconds:02d}, {len(segments)} lines -> {out} "
                f"(+ {out.with_suffix('.json').name}, {out.with_suffix('.srt').name})"
            )
        )


_NOTES_SUFFIXES = (".md", ".markdown", ".txt", ".text", "")


def _inputs_notes(inputs: list[str]) -> str:
    """One notes file is used as written (as before); anything else is read as sources."""
    if len(inputs) == 1 and not _is_url(inputs[0]):
        path = Path(inputs[0])
        if path.suffix.lower() in _NOTES_SUFFIXES:
            return _read_notes(path)
    return notes_compose([_read_source(item) for item in inputs])


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _read_source(item: str) -> tuple[str | None, str]:
    try:
        if _is_url(item):
            readable, _ = url_read(item)
            readable.title = readable.title or urlsplit(item).hostname
        else:
            path = Path(item)
            readable = document_read(
                path.read_bytes(), claimed=sniff.claimed_kind(filename=path.name)
            )
            readable.title = readable.title or path.stem
    except OSError as exc:
        raise CommandError(f"Cannot read {item}: {exc}") from exc
    except (sniff.UnsupportedType, extract.ExtractionFailed, outbound.FetchError) as exc:
        raise CommandError(f"Cannot read {item}: {exc}") from exc
    return readable.title, readable.text


def _read_notes(path: Path) -> str:
    try:
        notes = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Cannot read {path}: {exc}") from exc
    if not notes:
        raise CommandError(f"{path} is empty")
    return notes


def _progress_bar(percent: int, step: str) -> None:
    filled = BAR_WIDTH * percent // 100
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    sys.stderr.write(f"\r[{bar}] {percent:3d}% {step[:40]:<40}")
    sys.stderr.flush()
