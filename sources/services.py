"""Source writes and business rules: create (text, URL, upload), extract, delete, clean up,
and the notes a podcast's script writer gets from its sources.

Views, tasks, the admin, the cleanup schedule and the CLI call these functions. Text sources
are ready at once; URLs and uploads are read by the `sources.extract` task (sent by name),
which always ends a source `ready` or `failed` with the reason.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from podnex import outbound
from podnex.api.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from podnex.api.pagination import Page, paginate
from podnex.celery import task_send
from sources import extract as extraction
from sources import sniff as sniffing
from sources.models import Source, SourceStatus, SourceType, storage_key, storage_prefix
from sources.speakable import Document, speakable_document, speakable_text

logger = logging.getLogger(__name__)

EXTRACT_TASK = "sources.extract"
_HEADING = re.compile(r"^(#{1,5}) ", re.M)
SNIFF_BYTES = 8 * 1024 * 1024  # enough of an upload to tell its type (ZIP names included)
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
    read (or one that contradicts the claim) and extract.ExtractionFailed for a document
    we cannot read."""
    sniffed = sniffing.sniff(data, claimed=claimed, strict=strict)
    extracted = extraction.extract(data, sniffed, charset=charset)
    title, text = text_clean(extracted.text, extracted.fmt)
    return Readable(title=extracted.title or title, text=text, content_type=sniffed.content_type)


def text_clean(text: str, fmt: str) -> tuple[str | None, str]:
    """(title, speakable text) of markup in `fmt`, cut to SOURCE_MAX_CHARS at a paragraph
    boundary. Raises ExtractionFailed when too little readable text is left."""
    document = speakable_document(text, fmt)
    # The title is kept apart (Source.title); the text holds the sections, "# " headed.
    clean = speakable_text(Document(title=None, sections=document.sections)).strip()
    if len(clean) > settings.SOURCE_MAX_CHARS:
        clean = _cut(clean, settings.SOURCE_MAX_CHARS)
    if len(clean) < settings.SOURCE_MIN_CHARS:
        raise extraction.ExtractionFailed(
            f"Too little readable text ({len(clean)} characters, at least "
            f"{settings.SOURCE_MIN_CHARS}): the document may be empty, or a page may need "
            "JavaScript or sit behind a login or paywall"
        )
    return document.title, clean


def _cut(text: str, limit: int) -> str:
    """`text` to at most `limit` characters, ending at a paragraph (else sentence) break."""
    head = text[:limit]
    for mark in ("\n\n", ". ", "\n", " "):
        at = head.rfind(mark)
        if at > limit // 2:
            return head[: at + (1 if mark == ". " else 0)].rstrip()
    return head


# --- reads ---------------------------------------------------------------------------------


def source_get(*, user, source_id: str) -> Source:
    """A user's own source; anyone else's is simply not found."""
    source = Source.objects.filter(id=source_id, user=user).first()
    if source is None:
        raise NotFound("Source not found")
    return source


def source_list(
    *, user, page: int, limit: int, status: str | None = None, type: str | None = None
) -> Page:
    queryset = Source.objects.filter(user=user).defer("text")
    if status:
        queryset = queryset.filter(status=status.upper())
    if type:
        queryset = queryset.filter(type=type.upper())
    return paginate(queryset.order_by("-created_at", "-id"), page=page, limit=limit)


# --- creating ------------------------------------------------------------------------------


def source_create_text(*, user, text: str, fmt: str, title: str | None = None) -> Source:
    """Pasted text is cleaned at once: the source is ready (or the request is a 400)."""
    try:
        found_title, clean = text_clean(text, fmt)
    except extraction.ExtractionFailed as exc:
        raise InvalidInput(str(exc), code="validation_error", details={"text": [str(exc)]})
    return Source.objects.create(
        user=user,
        type=SourceType.TEXT,
        title=title or found_title or _first_words(clean),
        status=SourceStatus.READY,
        content_type=sniffing.CONTENT_TYPES[fmt],
        size=len(text.encode()),
        text=clean,
        characters=len(clean),
    )


def source_create_url(*, user, url: str, title: str | None = None) -> Source:
    """Checked now (scheme, host, addresses) and read by the worker, which checks again."""
    try:
        outbound.url_check(url)
    except outbound.UnsafeUrl as exc:
        raise InvalidInput(str(exc), code="validation_error", details={"url": [str(exc)]})
    with transaction.atomic():
        source = Source.objects.create(user=user, type=SourceType.URL, url=url, title=title)
        _extract_enqueue(source)
    return source


def source_create_upload(*, user, upload, title: str | None = None) -> Source:
    """An uploaded file: refused with 413 over SOURCE_MAX_BYTES and 415 for a type we do not
    read or one its name contradicts, before anything is stored; else stored under the
    user's prefix and read by the worker."""
    if upload.size > settings.SOURCE_MAX_BYTES:
        raise PayloadTooLarge(
            f"The file is {upload.size} bytes; at most {settings.SOURCE_MAX_BYTES} are accepted",
            maxBytes=settings.SOURCE_MAX_BYTES,
        )
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    claimed = sniffing.claimed_kind(
        filename=upload.name,
        media_type=None if "." in (upload.name or "") else upload.content_type,
    )
    try:
        sniffed = sniffing.sniff(head, claimed=claimed)
    except sniffing.UnsupportedType as exc:
        raise UnsupportedMediaType(str(exc))
    with transaction.atomic():
        source = Source.objects.create(
            user=user,
            type=SourceType.FILE,
            title=title,
            filename=(upload.name or "upload")[-255:],
            content_type=sniffed.content_type,
            size=upload.size,
        )
        key = storage_key(
            user_id=user.id, source_id=source.id, extension=sniffing.EXTENSIONS[sniffed.kind]
        )
        source.file_key = default_storage.save(key, upload)
        source.save(update_fields=["file_key", "updated_at"])
        _extract_enqueue(source)
    return source


def _extract_enqueue(source: Source) -> None:
    source_id = source.id
    transaction.on_commit(lambda: _extract_send(source_id))


def _extract_send(source_id: str) -> None:
    try:
        task_send(EXTRACT_TASK, args=[source_id])
    except Exception:  # noqa: BLE001 - kombu raises several types for "no broker"
        # The source stays pending; the cleanup fails it after SOURCE_PENDING_TIMEOUT.
        logger.exception("broker unreachable: source %s not sent for extraction", source_id)


# --- extraction (the task's body) ----------------------------------------------------------


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
        extraction.ExtractionFailed,
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
        raise extraction.ExtractionFailed("The page is empty")
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
    return _first_words(readable.text)


def _first_words(text: str, words: int = 8) -> str:
    return " ".join(text.split()[:words])[:300] or "Untitled"


# --- deleting and cleaning up --------------------------------------------------------------


def source_delete(*, user, source_id: str) -> None:
    """Remove the source, then its stored file. A file that cannot
    be removed now (storage down) is an orphan the cleanup removes later."""
    with transaction.atomic():
        source = Source.objects.select_for_update().filter(id=source_id, user=user).first()
        if source is None:
            raise NotFound("Source not found")
        key = source.file_key
        source.delete()
    if key:
        _file_delete(key)


def _file_delete(key: str) -> bool:
    try:
        default_storage.delete(key)
    except Exception:  # noqa: BLE001 - any storage error: the cleanup retries
        logger.exception("could not delete source file %s; the cleanup will", key)
        return False
    return True


def sources_fail_stuck(*, now: datetime | None = None) -> int:
    """Fail sources pending longer than SOURCE_PENDING_TIMEOUT: their worker died or their
    message was lost, and a source must never stay pending. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SOURCE_PENDING_TIMEOUT)
    return Source.objects.filter(status=SourceStatus.PENDING, created_at__lt=cutoff).update(
        status=SourceStatus.FAILED,
        error="Reading the document did not finish in time; add it again",
        updated_at=now,
    )


def sources_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """The daily cleanup: fail stuck sources, and remove stored files that no source points
    at (their delete could not reach the storage, or their upload never committed)."""
    now = now or timezone.now()
    stuck = sources_fail_stuck(now=now)
    cutoff = now - timedelta(seconds=settings.SOURCE_PENDING_TIMEOUT)
    orphans = 0
    known = set(Source.objects.exclude(file_key=None).values_list("file_key", flat=True))
    for key in _stored_keys(storage_prefix(user_id="")):
        if key not in known and _older_than(key, cutoff) and _file_delete(key):
            orphans += 1
    report = {"failed_pending": stuck, "orphan_files": orphans}
    logger.info("sources cleanup finished", extra={"cleanup": report})
    return report


def _stored_keys(prefix: str) -> list[str]:
    """Every stored key under `prefix` (`sources/`), through Django's storage API, which
    lists local folders and S3 prefixes alike."""
    keys = []
    folders = [prefix.rstrip("/")]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = default_storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        keys.extend(f"{folder}/{name}" for name in files)
        folders.extend(f"{folder}/{name}" for name in subfolders)
    return keys


def _older_than(key: str, cutoff: datetime) -> bool:
    # A file just saved by an upload whose row is not committed yet is no orphan.
    try:
        return default_storage.get_modified_time(key) < cutoff
    except (NotImplementedError, OSError):
        return True


# --- sources of a podcast ------------------------------------------------------------------


def sources_for_podcast(*, user, source_ids: list[str]) -> list[Source]:
    """The caller's sources in the order given: 404 naming ids that are not theirs or do
    not exist (as everywhere, another user's source is simply not found), 409 naming
    sources not ready."""
    found = {s.id: s for s in Source.objects.filter(user=user, id__in=source_ids)}
    missing = [source_id for source_id in source_ids if source_id not in found]
    if missing:
        raise NotFound(
            f"Sources not found: {', '.join(missing)}",
            code="source_not_found",
            sourceIds=missing,
        )
    sources = [found[source_id] for source_id in source_ids]
    not_ready = [s for s in sources if s.status != SourceStatus.READY]
    if not_ready:
        raise Conflict(
            "Sources not ready: " + ", ".join(f"{s.id} ({s.status.lower()})" for s in not_ready),
            code="source_not_ready",
            sourceIds=[s.id for s in not_ready],
        )
    return sources


def sources_notes(sources: list[Source], *, notes: str = "") -> str:
    """The notes a podcast's writer gets from its sources (see `notes_compose`)."""
    return notes_compose([(s.title, s.text) for s in sources], notes=notes)


def notes_compose(documents: list[tuple[str | None, str]], *, notes: str = "") -> str:
    """The pasted notes (if any), then each document as a section headed by its title.
    Together they hold at most SOURCE_NOTES_MAX_CHARS of document text, shared fairly:
    short documents whole, long ones cut to an equal share (the writer then summarises in
    parts whatever exceeds its own budget)."""
    shares = fair_shares([len(text) for _, text in documents], settings.SOURCE_NOTES_MAX_CHARS)
    parts = [notes.strip()] if notes.strip() else []
    for (title, text), share in zip(documents, shares):
        text = text if len(text) <= share else _cut(text, share)
        title = re.sub(r"\s+", " ", title or "Untitled source").strip()
        # The document's title heads its section; its own headings go one level down.
        body = _HEADING.sub(r"#\1 ", text)
        parts.append(f"# {title}\n\n{body}")
    return "\n\n".join(parts)


def fair_shares(sizes: list[int], budget: int) -> list[int]:
    """Split `budget` so that items smaller than an equal share keep their size and the
    rest share what is left equally (water-filling)."""
    shares = [0] * len(sizes)
    left = budget
    pending = sorted(range(len(sizes)), key=lambda i: sizes[i])
    while pending:
        equal = left // len(pending)
        index = pending[0]
        if sizes[index] <= equal:
            shares[index] = sizes[index]
            left -= sizes[index]
            pending.pop(0)
            continue
        for index in pending:
            shares[index] = equal
        break
    return shares


def source_summary(source: Source) -> dict:
    """What a podcast records about each source it was written from."""
    return {
        "id": source.id,
        "type": source.type.lower(),
        "title": source.title,
        "characters": source.characters,
    }
