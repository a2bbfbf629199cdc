"""The script as a document its owner edits: building it from a writer's Script, checking
an edited one, and the line operations. Pure functions on plain dicts; services.py loads,
locks and saves.

Document: {"title", "speakers": [{id, name, role, voice}],
           "sections": [{id, title, lines: [{id, speaker, text}]}]}.
Line and section ids are minted once and never change, so a client can PATCH a line it
read earlier, and a render can tell which lines it voiced before.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import secrets

from django.conf import settings

from podcasts.models import PodcastScript
from podcasts.providers import registry
from podcasts.providers.base import Script, ScriptLine
from podnex.api.errors import InvalidInput, NotFound

MAX_LINE_CHARS = 2000  # one turn; the providers split longer text, but no turn is that long


def new_line_id() -> str:
    return f"ln_{secrets.token_hex(5)}"


def new_section_id() -> str:
    return f"sec_{secrets.token_hex(4)}"


def document_from_script(script: Script, *, speakers: list[dict]) -> dict:
    """A writer's Script as a document: consecutive lines of one section title form one
    section (a writer that names no sections gives one untitled section)."""
    sections: list[dict] = []
    current = object()
    for line in script.lines:
        title = getattr(line, "section", None) or ""
        if not sections or title != current:
            sections.append({"id": new_section_id(), "title": title, "lines": []})
            current = title
        sections[-1]["lines"].append(
            {"id": new_line_id(), "speaker": line.speaker, "text": line.text}
        )
    return {"title": script.title, "speakers": speakers, "sections": sections}


def script_from_document(document: dict) -> Script:
    return Script(
        title=document["title"],
        lines=[
            ScriptLine(speaker=line["speaker"], text=line["text"])
            for section in document["sections"]
            for line in section["lines"]
        ],
    )


def document_lines(document: dict) -> list[dict]:
    return [line for section in document["sections"] for line in section["lines"]]


# --- Checking what the owner sends ----------------------------------------------------------


def speaker_id_of(value: str, speakers: list[dict]) -> str:
    """A speaker given by id or by name (case-insensitive) as its id, or InvalidInput."""
    wanted = value.strip().casefold()
    for speaker in speakers:
        if wanted in (speaker["id"].casefold(), speaker["name"].casefold()):
            return speaker["id"]
    known = ", ".join(f"{s['id']} ({s['name']})" for s in speakers)
    raise InvalidInput(
        f"Unknown speaker {value!r}; the script's speakers are {known}",
        code="unknown_speaker",
    )


def line_text_clean(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidInput("A line needs some text", code="empty_line")
    if len(cleaned) > MAX_LINE_CHARS:
        raise InvalidInput(
            f"A line may hold at most {MAX_LINE_CHARS} characters", code="line_too_long"
        )
    return cleaned


def document_check(document: dict) -> dict:
    """The document with speakers resolved to ids and text cleaned, or InvalidInput: known
    speakers only, non-empty lines, at least one line, at most SCRIPT_MAX_CHARS in all,
    and no id used twice (unknown or missing ids get new ones)."""
    speakers = document["speakers"]
    seen: set[str] = set()
    sections = []
    for section in document["sections"]:
        lines = []
        for line in section["lines"]:
            line_id = line.get("id") or ""
            if not line_id.startswith("ln_") or line_id in seen:
                line_id = new_line_id()
            seen.add(line_id)
            lines.append(
                {
                    "id": line_id,
                    "speaker": speaker_id_of(line["speaker"], speakers),
                    "text": line_text_clean(line["text"]),
                }
            )
        if lines:
            section_id = section.get("id") or ""
            if not section_id.startswith("sec_") or section_id in seen:
                section_id = new_section_id()
            seen.add(section_id)
            sections.append({"id": section_id, "title": section.get("title") or "", "lines": lines})
    checked = {**document, "sections": sections}
    if not sections:
        raise InvalidInput("A script needs at least one line", code="empty_script")
    length_check(checked)
    return checked


def length_check(document: dict) -> None:
    total = sum(len(line["text"]) for line in document_lines(document))
    if total > settings.SCRIPT_MAX_CHARS:
        raise InvalidInput(
            f"The script is {total} characters long; at most {settings.SCRIPT_MAX_CHARS} "
            "are allowed",
            code="script_too_long",
            length=total,
            limit=settings.SCRIPT_MAX_CHARS,
        )


# --- Line operations --------------------------------------------------------------------------


def _find(document: dict, line_id: str) -> tuple[dict, int]:
    for section in document["sections"]:
        for index, line in enumerate(section["lines"]):
            if line["id"] == line_id:
                return section, index
    raise NotFound("Line not found")


def line_update(document: dict, line_id: str, *, text=None, speaker=None) -> dict:
    section, index = _find(document, line_id)
    line = dict(section["lines"][index])
    if text is not None:
        line["text"] = line_text_clean(text)
    if speaker is not None:
        line["speaker"] = speaker_id_of(speaker, document["speakers"])
    section["lines"][index] = line
    length_check(document)
    return line


def line_insert(
    document: dict, *, speaker: str, text: str, after: str | None, position: int | None
) -> dict:
    """Insert after the line `after`, or at `position` (0 = first line of the script,
    counted over all sections), or at the end."""
    line = {
        "id": new_line_id(),
        "speaker": speaker_id_of(speaker, document["speakers"]),
        "text": line_text_clean(text),
    }
    if after is not None:
        section, index = _find(document, after)
        section["lines"].insert(index + 1, line)
    elif position is not None and position < len(document_lines(document)):
        remaining = position
        for section in document["sections"]:
            if remaining <= len(section["lines"]) - 1:
                section["lines"].insert(remaining, line)
                break
            remaining -= len(section["lines"])
    else:
        document["sections"][-1]["lines"].append(line)
    length_check(document)
    return line


def line_delete(document: dict, line_id: str) -> None:
    section, index = _find(document, line_id)
    if len(document_lines(document)) == 1:
        raise InvalidInput("A script needs at least one line", code="empty_script")
    del section["lines"][index]
    if not section["lines"]:
        document["sections"].remove(section)


# --- What a render voices ---------------------------------------------------------------------


def document_of(stored: PodcastScript) -> dict:
    return {"title": stored.title, "speakers": stored.speakers, "sections": stored.sections}


def line_sound(*, speaker: str, voice: str, text: str) -> str:
    """What a line sounds like: two lines with the same sound share their audio."""
    body = json.dumps([speaker, voice, text], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def lines_to_voice(old_sounds: list[str], new_sounds: list[str]) -> list[int]:
    """Indices of the new lines that a splice needs clips for (the others keep frames)."""
    matcher = difflib.SequenceMatcher(None, old_sounds, new_sounds, False)
    return [
        j for tag, _, _, j1, j2 in matcher.get_opcodes() if tag != "equal" for j in range(j1, j2)
    ]


def provider_identity(name: str) -> str:
    """The provider and every setting that shapes its audio besides voice and text."""
    provider = registry.speech_provider(name)
    settings_of = getattr(provider, "cache_identity", dict)()
    return json.dumps([name, settings_of], sort_keys=True, default=str)


def sounding_lines(document: dict) -> list[dict]:
    """The document's lines with their voice, section title and what they sound like."""
    voices = {speaker["id"]: speaker["voice"] for speaker in document["speakers"]}
    lines = []
    for section in document["sections"]:
        for line in section["lines"]:
            voice = voices[line["speaker"]]
            sound = line_sound(speaker=line["speaker"], voice=voice, text=line["text"])
            lines.append({**line, "voice": voice, "sound": sound, "section": section["title"]})
    return lines


def render_plan(*, tts_provider: str, document: dict, manifest: dict | None) -> tuple[int, int]:
    """(lines to voice, words to voice) for rendering `document` over the last render's
    `manifest`: every line whose sound the episode lacks (all, without a manifest). What
    the job really sends to the provider can be less (its line cache); it says so."""
    lines = sounding_lines(document)
    needed: list[int] | range = range(len(lines))
    if manifest and manifest.get("provider") == provider_identity(tts_provider):
        old = [line["sound"] for line in manifest.get("lines", [])]
        needed = lines_to_voice(old, [line["sound"] for line in lines])
    return len(needed), sum(len(lines[index]["text"].split()) for index in needed)
