"""Clean speakable text from markup, and its limits: light enough for the web process
(the heavy document parsers live in `sources.extract`, loaded by the worker only)."""

from __future__ import annotations

from django.conf import settings

from sources.speakable import Document, speakable_document, speakable_text


class ExtractionFailed(Exception):
    """The document cannot be read; the message says why, in words a user can act on."""


def text_clean(text: str, fmt: str) -> tuple[str | None, str]:
    """(title, speakable text) of markup in `fmt`, cut to SOURCE_MAX_CHARS at a paragraph
    boundary. Raises ExtractionFailed when too little readable text is left."""
    document = speakable_document(text, fmt)
    # The title is kept apart (Source.title); the text holds the sections, "# " headed.
    clean = speakable_text(Document(title=None, sections=document.sections)).strip()
    if len(clean) > settings.SOURCE_MAX_CHARS:
        clean = text_cut(clean, settings.SOURCE_MAX_CHARS)
    if len(clean) < settings.SOURCE_MIN_CHARS:
        raise ExtractionFailed(
            f"Too little readable text ({len(clean)} characters, at least "
            f"{settings.SOURCE_MIN_CHARS}): the document may be empty, or a page may need "
            "JavaScript or sit behind a login or paywall"
        )
    return document.title, clean


def text_cut(text: str, limit: int) -> str:
    """`text` to at most `limit` characters, ending at a paragraph (else sentence) break."""
    head = text[:limit]
    for mark in ("\n\n", ". ", "\n", " "):
        at = head.rfind(mark)
        if at > limit // 2:
            return head[: at + (1 if mark == ". " else 0)].rstrip()
    return head


def first_words(text: str, words: int = 8) -> str:
    return " ".join(text.split()[:words])[:300] or "Untitled"
