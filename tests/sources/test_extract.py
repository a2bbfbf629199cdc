"""Reading each format: real documents made from real READMEs, read back through the same
code a source uses (sniff -> extract -> speakable text), and the documents we must refuse."""

from __future__ import annotations

import pytest

from sources import sniff
from sources.extract import ExtractionFailed
from sources.services import document_read, fair_shares, notes_compose
from tests.sources import documents as docs


@pytest.fixture(scope="module")
def text() -> docs.Text:
    return docs.real_text()


def assert_speakable(readable, text: docs.Text) -> None:
    leaks = [line for line in readable.text.splitlines() if docs.MARKUP.search(line.lstrip("#"))]
    assert leaks == []
    # The document's own words come through: its first paragraph's opening words at least.
    opening = " ".join(text.sections[0][1][0].split()[:6])
    assert opening in " ".join(readable.text.split())


def test_a_docx_is_read_with_its_headings_and_core_title(text):
    readable = document_read(docs.make_docx(text, core_title="Dotenv, explained"), claimed="docx")
    assert readable.title == "Dotenv, explained"
    assert readable.content_type == sniff.CONTENT_TYPES["docx"]
    assert_speakable(readable, text)
    for heading, _ in text.sections:
        assert f"# {heading}" in readable.text  # headings became section titles
    assert "Load the file first" in readable.text  # list items are spoken
    assert "|" not in readable.text  # the table is told in words, not drawn


def test_a_docx_without_core_title_takes_its_first_heading(text):
    readable = document_read(docs.make_docx(text), claimed="docx")
    assert readable.title == text.title


def test_a_pdf_is_read_with_its_metadata_title(text):
    readable = document_read(docs.make_pdf(text, metadata_title="Dotenv from a PDF"))
    assert readable.title == "Dotenv from a PDF"
    assert readable.content_type == "application/pdf"
    assert_speakable(readable, text)


def test_a_pdf_without_metadata_takes_its_first_line_as_title(text):
    readable = document_read(docs.make_pdf(text))
    assert readable.title == text.title


def test_an_epub_is_read_in_spine_order_with_its_title(text):
    readable = document_read(docs.make_epub(text))
    assert readable.title == text.title
    assert_speakable(readable, text)
    positions = [readable.text.index(heading) for heading, _ in text.sections]
    assert positions == sorted(positions)  # the spine's order, not the manifest's


def test_an_html_page_keeps_the_article_and_drops_the_furniture(text):
    readable = document_read(docs.make_html_page(text).encode())
    assert readable.title == text.title
    assert_speakable(readable, text)
    for furniture in ("cookies", "Copyright", "Blog", "Privacy"):
        assert furniture not in readable.text


@pytest.mark.parametrize(
    "name,fmt", [("celery.rst", "rst"), ("redis.md", "markdown"), ("openai.md", "markdown")]
)
def test_real_readmes_uploaded_as_files_lose_their_markup(name, fmt):
    data = (docs.READMES / name).read_bytes()
    readable = document_read(data, claimed=sniff.claimed_kind(filename=name))
    assert readable.content_type == sniff.CONTENT_TYPES[fmt]
    leaks = [line for line in readable.text.splitlines() if docs.MARKUP.search(line.lstrip("#"))]
    assert leaks == []
    assert len(readable.text.split()) > 200


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "latin-1", "cp1252", "utf-8-sig"])
def test_plain_text_in_any_common_encoding(encoding):
    prose = ("Café society in Zürich: a naïve façade, crème brûlée and smørrebrød. " * 6).strip()
    readable = document_read(prose.encode(encoding), claimed="plain")
    assert "Café society in Zürich" in readable.text
    assert "smørrebrød" in readable.text


def test_markdown_and_rst_are_told_apart_without_a_name():
    rst = (docs.READMES / "kombu.rst").read_bytes()
    md = (docs.READMES / "ruff.md").read_bytes()
    assert sniff.sniff(rst).kind == "rst"
    assert sniff.sniff(md).kind == "markdown"


# --- what we refuse ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,claimed,reason",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), None, "PNG image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "docx", "old Microsoft Office"),
        (bytes(range(256)) * 20, None, "binary data of an unknown type"),
        (b"PK\x03\x04" + b"just a zip" + bytes(100), None, "ZIP archive"),
    ],
)
def test_unknown_types_are_refused_by_their_bytes(data, claimed, reason):
    with pytest.raises(sniff.UnsupportedType, match=reason):
        sniff.sniff(data, claimed=claimed)


def test_a_name_that_contradicts_the_bytes_is_refused(text):
    pdf = docs.make_pdf(text)
    with pytest.raises(sniff.UnsupportedType, match="name says a Word document"):
        sniff.sniff(pdf, claimed=sniff.claimed_kind(filename="report.docx"))
    with pytest.raises(sniff.UnsupportedType, match="content is a PDF"):
        sniff.sniff(pdf, claimed=sniff.claimed_kind(filename="notes.txt"))
    # A text file named .md but holding HTML is still text: read as HTML.
    assert sniff.sniff(b"<!doctype html><p>hi there</p>", claimed="markdown").kind == "html"


def test_an_encrypted_pdf_fails_naming_the_password(text):
    with pytest.raises(ExtractionFailed, match="encrypted"):
        document_read(docs.make_pdf(text, password="s3cret"))


def test_an_image_only_pdf_fails_naming_the_missing_text_layer():
    with pytest.raises(ExtractionFailed, match="no text layer"):
        document_read(docs.make_image_pdf())


def test_a_corrupt_docx_fails_as_damaged(text):
    data = docs.corrupt_docx(text)
    assert sniff.sniff(data).kind == "docx"  # still recognised by its parts' names
    with pytest.raises(ExtractionFailed, match="DOCX file is damaged"):
        document_read(data)


def test_a_zip_bomb_inside_a_docx_fails_before_it_is_unpacked(text, settings):
    settings.SOURCE_MAX_UNZIPPED_BYTES = 50_000_000
    with pytest.raises(ExtractionFailed, match="zip bomb"):
        document_read(docs.zip_bomb_docx(text, megabytes=60))


def test_a_zip_bomb_inside_an_epub_fails_too(text):
    import io
    import zipfile

    data = io.BytesIO(docs.make_epub(text))
    with zipfile.ZipFile(data, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("OEBPS/images/huge.bin", "w") as member:
            for _ in range(40):
                member.write(bytes(1024 * 1024))
    with pytest.raises(ExtractionFailed, match="zip bomb"):
        document_read(data.getvalue())


def test_a_page_with_no_article_fails_as_unreadable():
    page = (
        b"<!doctype html><html><head><title>Subscribe</title></head>"
        b"<body><nav>Home</nav></body></html>"
    )
    with pytest.raises(ExtractionFailed, match="paywall"):
        document_read(page)


# --- notes of several sources --------------------------------------------------------------


def test_fair_shares_keep_short_sources_whole_and_split_the_rest():
    assert fair_shares([100, 5000, 9000], 4100) == [100, 2000, 2000]
    assert fair_shares([10, 20], 1000) == [10, 20]


def test_notes_compose_heads_each_source_and_stays_within_budget(settings):
    settings.SOURCE_NOTES_MAX_CHARS = 3000
    long_text = "# Part\n\n" + ("A sentence about bees and their dances. " * 400)
    notes = notes_compose(
        [("Short one", "Bees dance to show where flowers are."), ("Long one", long_text)],
        notes="My own notes.",
    )
    assert notes.startswith("My own notes.\n\n# Short one\n\nBees dance")
    assert "\n# Long one\n\n## Part\n\n" in notes  # its headings moved one level down
    assert len(notes) < 3000 + 200


def test_the_same_page_read_twice_gives_the_same_text(text):
    # trafilatura can drop text it has seen before in the process (its deduplication):
    # two users adding the same page must both get all of it.
    page = docs.make_html_page(text).encode()
    assert document_read(page).text == document_read(page).text
