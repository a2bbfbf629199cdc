"""Text out of each supported format, with the document's own title, ready for the
speakable-text normaliser (`sources.speakable`), which gets the text and its format.

Libraries: trafilatura (HTML main content: no navigation, footers or cookie banners),
pypdf (PDF), python-docx (DOCX), the standard zipfile + lxml for EPUB (its OPF spine gives
the reading order), charset-normalizer (plain text in any common encoding).

Every problem with the document itself raises ExtractionFailed with a message naming it.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
from dataclasses import dataclass

import docx
import lxml.etree
import lxml.html
import pypdf
import trafilatura
from django.conf import settings
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from sources import sniff as sniffing
from sources.sniff import DOCX, EPUB, HTML, MARKDOWN, PDF, PLAIN, Sniffed

logger = logging.getLogger(__name__)

# pypdf warns loudly about every small flaw of real-world PDFs.
logging.getLogger("pypdf").setLevel(logging.ERROR)
logging.getLogger("trafilatura").setLevel(logging.ERROR)

MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_RATIO = 1_000  # a deflated member this many times smaller than its content is a bomb


class ExtractionFailed(Exception):
    """The document cannot be read; the message says why, in words a user can act on."""


@dataclass
class Extracted:
    title: str | None
    text: str
    fmt: str  # what the normaliser reads: markdown | html | rst | plain


def extract(data: bytes, sniffed: Sniffed, *, charset: str | None = None) -> Extracted:
    if sniffed.kind == PDF:
        return pdf_extract(data)
    if sniffed.kind == DOCX:
        return docx_extract(data)
    if sniffed.kind == EPUB:
        return epub_extract(data)
    text = sniffing.text_decode(data, charset)
    if text is None:
        raise ExtractionFailed("The text could not be decoded (unknown character encoding)")
    if sniffed.kind == HTML:
        return html_extract(text)
    return Extracted(title=None, text=text, fmt=sniffed.kind)


# --- HTML ----------------------------------------------------------------------------------


def html_extract(html: str) -> Extracted:
    text = trafilatura.extract(
        html,
        output_format="markdown",
        include_formatting=True,
        include_tables=True,
        include_images=False,
        include_links=False,
        include_comments=False,
    )
    if not text or not text.strip():
        raise ExtractionFailed(
            "The page has no readable article text: it may be empty, need JavaScript, or "
            "sit behind a login or paywall"
        )
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata is not None else None
    return Extracted(title=_title(title), text=text, fmt=MARKDOWN)


# --- PDF -----------------------------------------------------------------------------------


def pdf_extract(data: bytes) -> Extracted:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            _pdf_decrypt(reader)
        pages = [page.extract_text() or "" for page in reader.pages]
        title = _pdf_title(reader)
    except ExtractionFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for broken files
        raise ExtractionFailed(f"The PDF is damaged and could not be read ({_short(exc)})")
    text = "\n\n".join(_reflow(page) for page in pages if page.strip())
    if len(text.strip()) < 20:
        if _pdf_has_images(reader):
            raise ExtractionFailed(
                "The PDF has no text layer: its pages are images (a scan?), and reading text "
                "from images (OCR) is not supported"
            )
        raise ExtractionFailed("The PDF contains no text")
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), None)
    return Extracted(title=title or _title(first_line), text=text, fmt=PLAIN)


def _pdf_decrypt(reader: pypdf.PdfReader) -> None:
    # Many PDFs are encrypted only against editing: they open with an empty password.
    try:
        opened = reader.decrypt("")
    except Exception:  # noqa: BLE001 - unsupported algorithms raise, like a wrong password
        opened = pypdf.PasswordType.NOT_DECRYPTED
    if opened == pypdf.PasswordType.NOT_DECRYPTED:
        raise ExtractionFailed(
            "The PDF is encrypted (password-protected); upload a copy without a password"
        )


def _pdf_title(reader: pypdf.PdfReader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # noqa: BLE001 - a broken info dictionary is no reason to fail
        return None
    if not title or re.fullmatch(
        r"(?i)\s*(untitled.*|.*\.(docx?|pdf|txt|tex)|microsoft word.*)", title
    ):
        return None
    return _title(title)


def _pdf_has_images(reader: pypdf.PdfReader) -> bool:
    for page in reader.pages[:20]:
        try:
            if page.images:
                return True
        except Exception:  # noqa: BLE001 - an unreadable image still is an image
            return True
    return False


_SENTENCE_END = re.compile(r"[.!?:;\"')\]]$")


def _reflow(page: str) -> str:
    """PDF text comes one printed line per line: join a paragraph's lines (undoing
    end-of-line hyphenation) and keep a paragraph break after a line that ends a sentence
    well short of the full line width."""
    lines = [line.rstrip() for line in page.splitlines()]
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        stripped = line.strip()
        if not stripped:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if not current and len(line) < 0.6 * width and not _SENTENCE_END.search(stripped):
            paragraphs.append(stripped)  # a short line of its own: a heading
            continue
        if current.endswith("-") and stripped[:1].islower():
            current = current[:-1] + stripped
        else:
            current = f"{current} {stripped}" if current else stripped
        if _SENTENCE_END.search(stripped) and len(line) < 0.8 * width:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)


# --- ZIP-based formats ---------------------------------------------------------------------


def zip_open(data: bytes, what: str) -> zipfile.ZipFile:
    """The archive, once its declared sizes show it is no zip bomb. (zipfile never returns
    more than a member's declared size, so the check on declared sizes holds.)"""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ExtractionFailed(f"The {what} file is damaged: not a readable ZIP archive ({exc})")
    limit = settings.SOURCE_MAX_UNZIPPED_BYTES
    total = sum(member.file_size for member in members)
    if len(members) > MAX_ZIP_MEMBERS:
        raise ExtractionFailed(
            f"The {what} file holds {len(members)} parts (at most {MAX_ZIP_MEMBERS}): "
            "it looks like a zip bomb"
        )
    bomb = any(
        member.file_size > 1_000_000
        and member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1)
        for member in members
    )
    if total > limit or bomb:
        raise ExtractionFailed(
            f"The {what} file would expand to {total / 1_000_000:,.0f} MB when unpacked "
            f"(limit {limit / 1_000_000:,.0f} MB, at most {MAX_ZIP_RATIO}x compression): "
            "it looks like a zip bomb"
        )
    return archive


# --- DOCX ----------------------------------------------------------------------------------


def docx_extract(data: bytes) -> Extracted:
    zip_open(data, "DOCX")
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_docx_blocks(document))
        core_title = document.core_properties.title
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ExtractionFailed(f"The DOCX file is damaged or not a Word document ({_short(exc)})")
    except lxml.etree.LxmlError as exc:
        raise ExtractionFailed(f"The DOCX file is damaged: its XML is broken ({_short(exc)})")
    text = "\n\n".join(block for block, _ in blocks if block.strip())
    if not text.strip():
        raise ExtractionFailed("The DOCX document contains no text")
    heading = next((title for _, title in blocks if title), None)
    return Extracted(title=_title(core_title) or _title(heading), text=text, fmt=MARKDOWN)


def _docx_blocks(document):
    """(markdown, heading text or None) for each paragraph and table, in document order."""
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            yield _docx_table(item), None
            continue
        text = item.text.strip()
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        level = _heading_level(style)
        if level:
            yield f"{'#' * level} {text}", text
        elif style.startswith("List") or item._p.pPr is not None and item._p.pPr.numPr is not None:
            yield f"- {text}", None
        else:
            yield text, None


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return min(int(match.group(1)), 6) if match else 0


def _docx_table(table) -> str:
    rows = []
    for row in table.rows:
        cells = [cell.text.strip().replace("\n", " ").replace("|", "/") for cell in row.cells]
        rows.append("| " + " | ".join(cells) + " |")
    if rows:
        width = rows[0].count("|") - 1
        rows.insert(1, "|" + "---|" * width)
    return "\n".join(rows)


# --- EPUB ----------------------------------------------------------------------------------

_XML = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
_CHAPTER_TYPES = ("application/xhtml+xml", "text/html", "application/x-dtbook+xml")


def epub_extract(data: bytes) -> Extracted:
    archive = zip_open(data, "EPUB")
    try:
        opf_path = _epub_rootfile(archive)
        opf = lxml.etree.fromstring(archive.read(opf_path), _XML)
        title = opf.findtext(".//dc:title", namespaces=_NS)
        chapters = _epub_spine(archive, opf, posixpath.dirname(opf_path))
    except ExtractionFailed:
        raise
    except (KeyError, lxml.etree.LxmlError, zipfile.BadZipFile, ValueError) as exc:
        raise ExtractionFailed(f"The EPUB file is damaged ({_short(exc)})")
    if _epub_is_protected(archive):
        raise ExtractionFailed("The EPUB is DRM-protected; its text cannot be read")
    html = "\n".join(chapters)
    if not html.strip():
        raise ExtractionFailed("The EPUB contains no chapters with text")
    return Extracted(title=_title(title), text=html, fmt=HTML)


def _epub_rootfile(archive: zipfile.ZipFile) -> str:
    try:
        container = lxml.etree.fromstring(archive.read("META-INF/container.xml"), _XML)
    except KeyError:
        raise ExtractionFailed("The EPUB file is damaged: META-INF/container.xml is missing")
    rootfile = container.find(".//c:rootfile", _NS)
    if rootfile is None or not rootfile.get("full-path"):
        raise ExtractionFailed("The EPUB file is damaged: it names no package document")
    return rootfile.get("full-path")


def _epub_spine(archive: zipfile.ZipFile, opf, base: str) -> list[str]:
    manifest = {
        item.get("id"): (item.get("href"), item.get("media-type"))
        for item in opf.iterfind(".//opf:manifest/opf:item", _NS)
    }
    chapters = []
    for itemref in opf.iterfind(".//opf:spine/opf:itemref", _NS):
        href, media_type = manifest.get(itemref.get("idref"), (None, None))
        if not href or media_type not in _CHAPTER_TYPES:
            continue
        path = posixpath.normpath(posixpath.join(base, href.split("#")[0]))
        try:
            raw = archive.read(path)
        except KeyError:
            continue  # a spine entry without its file: read the rest
        body = lxml.html.document_fromstring(raw).find(".//body")
        if body is not None:
            chapters.append(
                "".join(lxml.html.tostring(child, encoding="unicode") for child in body)
            )
    return chapters


def _epub_is_protected(archive: zipfile.ZipFile) -> bool:
    try:
        encryption = archive.read("META-INF/encryption.xml")
    except KeyError:
        return False
    # Font obfuscation also lives here; only encrypted content documents block reading.
    return b"xhtml" in encryption or b".html" in encryption


# --- helpers -------------------------------------------------------------------------------


def _title(value: str | None) -> str | None:
    if not value:
        return None
    value = re.sub(r"\s+", " ", value).strip().lstrip("#").strip()
    return value[:300] or None


def _short(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__)[:200]
