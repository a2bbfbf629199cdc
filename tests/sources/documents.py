"""Real documents made at test time from real text: the READMEs of installed packages
(tests/fixtures/readmes, see SOURCES.txt there) written out as DOCX (python-docx), PDF
(fpdf2), EPUB (zipfile, as the EPUB 3 spec lays it out) and HTML pages."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

import docx
from fpdf import FPDF
from PIL import Image, ImageDraw

from sources.speakable import speakable_document

READMES = Path(__file__).resolve().parent.parent / "fixtures" / "readmes"

# Tokens of markup that must never reach a listener (as in test_speakable).
MARKUP = re.compile(
    r"```|~~~|\|\s*-{3,}|\+-{3,}\+|^\s*\.\. |<!--|-->|\]\(|!\[|https?://|www\.|\*\*|__\w"
    r"|::|`|</?[a-zA-Z][^>]*>|\[\^|^\s*[-*+] |^\s*\d+\. |\{\{|\}\}|&[a-z]+;|\|[^|]*\|"
)


@dataclass
class Text:
    title: str
    sections: list[tuple[str, list[str]]]  # (heading, paragraphs)

    @property
    def sentences(self) -> list[str]:
        return [p for _, paragraphs in self.sections for p in paragraphs]


def real_text(name: str = "python_dotenv.md", fmt: str = "markdown", sections: int = 4) -> Text:
    """Headings and prose paragraphs of a real README (its own words, markup removed)."""
    document = speakable_document((READMES / name).read_text(encoding="utf-8"), fmt)
    picked = []
    for section in document.sections:
        paragraphs = [b.text for b in section.blocks if b.kind == "paragraph" and len(b.text) > 60]
        if section.title and paragraphs:
            picked.append((section.title, paragraphs[:3]))
        if len(picked) == sections:
            break
    return Text(title=document.title or name, sections=picked)


def make_docx(text: Text, *, core_title: str | None = None) -> bytes:
    document = docx.Document()
    if core_title:
        document.core_properties.title = core_title
    document.add_heading(text.title, 0)
    for heading, paragraphs in text.sections:
        document.add_heading(heading, 1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    document.add_paragraph("Load the file first", style="List Bullet")
    document.add_paragraph("Then read the variables", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    for row, cells in enumerate([("Variable", "Meaning"), ("DEBUG", "on"), ("PORT", "8000")]):
        for column, value in enumerate(cells):
            table.cell(row, column).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _latin1(value: str) -> str:
    # The PDF core fonts speak Latin-1; the READMEs are nearly all ASCII anyway.
    value = value.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return value.replace("\u2014", "-").encode("latin-1", "replace").decode("latin-1")


def make_pdf(text: Text, *, metadata_title: str | None = None, password: str | None = None):
    pdf = FPDF()
    if metadata_title:
        pdf.set_title(metadata_title)
    if password:
        pdf.set_encryption(owner_password="owner-secret", user_password=password)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.multi_cell(0, 10, _latin1(text.title), new_x="LMARGIN", new_y="NEXT")
    for heading, paragraphs in text.sections:
        pdf.ln(4)
        pdf.set_font("helvetica", "B", 14)
        pdf.multi_cell(0, 8, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, _latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())


def make_image_pdf() -> bytes:
    """A 'scan': a page that is only a picture of text, no text layer."""
    image = Image.new("RGB", (800, 400), "white")
    ImageDraw.Draw(image).text((40, 40), "Scanned page: the words are pixels", fill="black")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=180)
    return bytes(pdf.output())


def make_epub(text: Text, *, chapters_reversed_in_manifest: bool = True) -> bytes:
    """An EPUB 3 with one chapter per section. The manifest lists the chapters in reverse
    so that only the spine gives the reading order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # stored, first
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items, spine = [], []
        for number, (heading, paragraphs) in enumerate(text.sections, 1):
            body = f"<h1>{escape(heading)}</h1>" + "".join(
                f"<p>{escape(p)}</p>" for p in paragraphs
            )
            archive.writestr(
                f"OEBPS/text/ch{number}.xhtml",
                '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>{escape(heading)}</title></head><body>{body}</body></html>",
            )
            items.append(
                f'<item id="ch{number}" href="text/ch{number}.xhtml" '
                'media-type="application/xhtml+xml"/>'
            )
            spine.append(f'<itemref idref="ch{number}"/>')
        if chapters_reversed_in_manifest:
            items.reverse()
        archive.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" '
            'version="3.0" unique-identifier="id"><metadata '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:identifier id="id">urn:test:1</dc:identifier><dc:title>{escape(text.title)}'
            "</dc:title><dc:language>en</dc:language></metadata>"
            f"<manifest>{''.join(items)}</manifest><spine>{''.join(spine)}</spine></package>",
        )
    return out.getvalue()


def make_html_page(text: Text) -> str:
    """An article page with the furniture real sites have around it."""
    article = "".join(
        f"<h2>{escape(h)}</h2>" + "".join(f"<p>{escape(p)}</p>" for p in ps)
        for h, ps in text.sections
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{escape(text.title)} | Example Docs</title>"
        f"<meta property='og:title' content='{escape(text.title)}'></head><body>"
        "<nav><a href='/'>Home</a> <a href='/docs'>Docs</a> <a href='/blog'>Blog</a></nav>"
        "<div class='cookie-banner'>We use cookies to improve your experience. Accept all "
        "cookies?</div>"
        f"<main><article><h1>{escape(text.title)}</h1>{article}</article></main>"
        "<footer>Copyright 2026 Example Docs Ltd. All rights reserved. Privacy. Terms.</footer>"
        "</body></html>"
    )


def zip_bomb_docx(text: Text, *, megabytes: int = 60) -> bytes:
    """A real DOCX with one more member: `megabytes` of zeros deflated to almost nothing."""
    out = io.BytesIO(make_docx(text))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/media/padding.bin", "w") as member:
            block = bytes(1024 * 1024)
            for _ in range(megabytes):
                member.write(block)
    return out.getvalue()


def corrupt_docx(text: Text) -> bytes:
    """A DOCX cut short (a broken download): its names are there, its directory is not."""
    data = make_docx(text)
    return data[: len(data) // 2]
