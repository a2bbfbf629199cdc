"""Reading a source: the worker's side (and the CLI's). Sniff, extract with the format's
library (`sources.extract`), clean into speakable text; URLs fetched through the guarded
`podnex.outbound.fetch`. `source_extract` always ends a pending source ready or failed."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from podnex import outbound
from sources import extract as extraction
from sources import sniff as sniffing
from sources.models import Source, SourceStatus, SourceType
from sources.text import ExtractionFailed, first_words, text_clean

logger = logging.getLogger(__name__)

# What a fetched URL may be; anything else (images, video, archives) is refused by type.
FETCH_ACCEPT = (
    "text/html,application/xhtml+xml,application/pdf,text/plain,text/markdown,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/epub+zip;q=0.9,*/*;q=0.1"
)


@dataclass
class Readable:
    """A document read and cleaned: what a Source keeps."""

    title: str | None
    text: str  # speakable
    content_type: str


# --- reading documents (also used by the CLI, without the database) -------------------------


def document_read(
    data: bytes,
    *,
    claimed: str | None = None,
    charset: str | None = None,
    strict: bool = True,
) -> Readable:
    """Sniff, extract and clean `data`. Raises sniff.UnsupportedType for a type we do not
    read (or one that contradicts the claim) and text.ExtractionFailed for a document
    we cannot read."""
    sniffed = sniffing.sniff(data, claimed=claimed, strict=strict)
    extracted = extraction.extract(data, sniffed, charset=charset)
    title, text = text_clean(extracted.text, extracted.fmt)
    return Readable(title=extracted.title or title, text=text, content_type=sniffed.content_type)


def source_extract(*, source_id: str) -> Source | None:
    """Read a pending source and end it ready or failed; never raises for a bad document
    or an unreachable URL (the source says why), and a source already final is left as is
    (a re-delivered task). Returns None when the source is gone."""
    source = Source.objects.filter(id=source_id).first()
    if source is None or source.status != SourceStatus.PENDING:
        return source
    try:
        readable, size = _read(source)
    except (
        sniffing.UnsupportedType,
        ExtractionFailed,
        outbound.FetchError,
    ) as exc:
        return _finish(source, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - whatever broke, the source must not stay pending
        logger.exception("extracting source %s failed", source_id)
        return _finish(source, error=f"The document could not be read ({type(exc).__name__})")
    return _finish(source, readable=readable, size=size)


def url_read(url: str) -> tuple[Readable, int]:
    """Fetch `url` (SSRF-guarded, size- and time-capped) and read it: (readable, bytes)."""
    fetched = outbound.fetch(
        url,
        max_bytes=settings.SOURCE_MAX_BYTES,
        timeout=settings.SOURCE_FETCH_TIMEOUT,
        accept=FETCH_ACCEPT,
    )
    if not fetched.body.strip():
        raise ExtractionFailed("The page is empty")
    claimed = sniffing.claimed_kind(
        media_type=fetched.content_type, filename=urlsplit(fetched.url).path
    )
    try:
        # Servers often send a wrong or generic Content-Type: the bytes decide.
        readable = document_read(
            fetched.body, claimed=claimed, charset=fetched.charset, strict=False
        )
    except sniffing.UnsupportedType as exc:
        shown = fetched.content_type or "no content type"
        raise sniffing.UnsupportedType(
            f"The URL does not point to a readable document ({shown}): {exc}"
        ) from None
    return readable, len(fetched.body)


def _read(source: Source) -> tuple[Readable, int]:
    if source.type == SourceType.URL:
        return url_read(source.url)
    with default_storage.open(source.file_key, "rb") as handle:
        data = handle.read(settings.SOURCE_MAX_BYTES + 1)
    claimed = sniffing.claimed_kind(filename=source.filename)
    return document_read(data, claimed=claimed), len(data)


def _finish(
    source: Source, *, readable: Readable | None = None, size: int | None = None, error=None
) -> Source:
    with transaction.atomic():
        # Lock: a re-delivered task may finish the same source at once; the first one wins.
        locked = Source.objects.select_for_update().filter(id=source.id).first()
        if locked is None or locked.status != SourceStatus.PENDING:
            return locked
        if readable is None:
            locked.status = SourceStatus.FAILED
            locked.error = error
        else:
            locked.status = SourceStatus.READY
            locked.error = None
            locked.title = locked.title or readable.title or _fallback_title(locked, readable)
            locked.text = readable.text
            locked.characters = len(readable.text)
            locked.content_type = readable.content_type
            locked.size = size
        locked.save()
    return locked


def _fallback_title(source: Source, readable: Readable) -> str:
    if source.filename:
        return re.sub(r"\.[A-Za-z0-9]{1,5}$", "", source.filename)[:300]
    if source.url:
        return urlsplit(source.url).hostname or source.url[:300]
    return first_words(readable.text)
