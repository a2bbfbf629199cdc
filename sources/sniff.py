"""What a file really is, told from its bytes (magic numbers, ZIP contents, text decoding),
never from its name alone.

The name (or a server's Content-Type) is only a claim: when it names a supported type and
the bytes say another, the upload is refused as mismatched; among text formats it breaks the
tie (a `.md` file is read as Markdown, a `.rst` file as reStructuredText).
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from sources.speakable import guess_format

PDF, DOCX, EPUB = "pdf", "docx", "epub"
HTML, MARKDOWN, RST, PLAIN = "html", "markdown", "rst", "plain"
TEXT_KINDS = (HTML, MARKDOWN, RST, PLAIN)

CONTENT_TYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    EPUB: "application/epub+zip",
    HTML: "text/html",
    MARKDOWN: "text/markdown",
    RST: "text/x-rst",
    PLAIN: "text/plain",
}
EXTENSIONS = {PDF: "pdf", DOCX: "docx", EPUB: "epub", HTML: "html", MARKDOWN: "md"}
EXTENSIONS |= {RST: "rst", PLAIN: "txt"}
NAMES = {
    PDF: "a PDF document",
    DOCX: "a Word document (DOCX)",
    EPUB: "an EPUB book",
    HTML: "an HTML page",
    MARKDOWN: "Markdown text",
    RST: "reStructuredText",
    PLAIN: "plain text",
}

# What a file name or a Content-Type claims.
_BY_EXTENSION = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".epub": EPUB,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".rst": RST,
    ".rest": RST,
    ".txt": PLAIN,
    ".text": PLAIN,
}
_BY_MEDIA_TYPE = {media_type: kind for kind, media_type in CONTENT_TYPES.items()}
_BY_MEDIA_TYPE |= {"application/xhtml+xml": HTML, "text/x-markdown": MARKDOWN}

# Types we recognise but do not read, so the refusal can name them.
_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.doc/.xls/.ppt)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"\x7fELF", "a program (ELF)"),
    (b"MZ", "a Windows program"),
    (b"{\\rtf", "an RTF document"),
]


class UnsupportedType(ValueError):
    """The bytes are not a type we read, or not the type the name claims (415)."""


@dataclass(frozen=True)
class Sniffed:
    kind: str  # pdf | docx | epub | html | markdown | rst | plain

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]

    @property
    def is_text(self) -> bool:
        return self.kind in TEXT_KINDS


def claimed_kind(*, filename: str | None = None, media_type: str | None = None) -> str | None:
    """The kind a file name or a Content-Type claims, if it names a supported one."""
    if filename:
        extension = os.path.splitext(filename.lower())[1]
        if extension in _BY_EXTENSION:
            return _BY_EXTENSION[extension]
    if media_type:
        return _BY_MEDIA_TYPE.get(media_type.split(";")[0].strip().lower())
    return None


def sniff(data: bytes, *, claimed: str | None = None, strict: bool = True) -> Sniffed:
    """The kind of `data`. `claimed` (from `claimed_kind`) picks among text formats; with
    `strict`, a claim of another binary type than the bytes show is refused as mismatched."""
    if not data.strip():
        raise UnsupportedType("The file is empty")
    kind = _binary_kind(data)
    if kind is None:
        text = text_decode(data)
        if text is None:
            raise UnsupportedType(
                "The file is binary data of an unknown type; supported: PDF, DOCX, EPUB, "
                "HTML, Markdown, reStructuredText and plain text"
            )
        kind = _text_kind(text, claimed)
    if (
        strict
        and claimed
        and claimed != kind
        and not (claimed in TEXT_KINDS and kind in TEXT_KINDS)
    ):
        raise UnsupportedType(
            f"The name says {NAMES[claimed]} but the content is {NAMES[kind]}; "
            "rename the file or upload the right one"
        )
    return Sniffed(kind)


def _binary_kind(data: bytes) -> str | None:
    head = data[:1024]
    if b"%PDF-" in head:
        return PDF
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    for magic, name in _MAGIC:
        if data.startswith(magic):
            raise UnsupportedType(
                f"The file is {name}; supported: PDF, DOCX, EPUB, HTML, Markdown, "
                "reStructuredText and plain text"
            )
    return None


def _zip_kind(data: bytes) -> str:
    """DOCX or EPUB by the member names, read from the raw bytes (local headers and the
    central directory), so that a damaged archive is still recognised and then fails
    extraction with a clear reason instead of being refused as unknown."""
    if data[30:58] == b"mimetypeapplication/epub+zip" or (
        b"META-INF/container.xml" in data and b"application/epub+zip" in data
    ):
        return EPUB
    if b"word/document.xml" in data or (b"[Content_Types].xml" in data and b"word/" in data):
        return DOCX
    if b"[Content_Types].xml" in data:
        raise UnsupportedType(
            "The file is an Office document other than Word (e.g. a spreadsheet or slides); "
            "supported: PDF, DOCX, EPUB, HTML, Markdown, reStructuredText and plain text"
        )
    raise UnsupportedType("The file is a ZIP archive, not a DOCX or EPUB document")


_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def text_decode(data: bytes, declared_charset: str | None = None) -> str | None:
    """The text of `data` in whatever common encoding it is (BOM, declared charset, UTF-8,
    else charset-normalizer's best guess); None for binary data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    if b"\x00" in data[:4096]:
        return None  # text in an 8-bit or UTF-8 encoding has no NUL bytes
    for encoding in filter(None, (declared_charset, "utf-8")):
        try:
            return _if_text(data.decode(encoding))
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
                # A sample cut inside a multi-byte character is still text.
                return _if_text(data[: exc.start].decode(encoding))
        except LookupError:
            continue
    matches = list(from_bytes(data[:200_000]))
    if not matches:
        return None
    best = matches[0]
    # Short samples often fit several code pages equally well: prefer the most common.
    for match in matches:
        if (
            match.encoding in _COMMON
            and match.chaos <= best.chaos
            and match.coherence >= best.coherence
        ):
            best = match
            break
    try:
        return _if_text(data.decode(best.encoding, errors="replace"))
    except LookupError:
        return None


_COMMON = ("cp1252", "latin_1", "iso8859_15")


def _if_text(text: str) -> str | None:
    sample = text[:4096]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r\f")
    return None if controls > len(sample) // 100 else text


_HTML_START = re.compile(
    r"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S
)


def _text_kind(text: str, claimed: str | None) -> str:
    head = text[:20_000]
    if _HTML_START.match(head):
        return HTML
    if claimed in TEXT_KINDS:
        return claimed
    return guess_format(head)  # the normaliser's own reading of the markup
