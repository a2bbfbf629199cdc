"""The speakable-text normaliser: real READMEs in, nothing of their markup out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sources.speakable import (
    Block,
    guess_format,
    speakable_document,
    speakable_text,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "readmes"
FORMATS = {".md": "markdown", ".rst": "rst", ".html": "html"}
DOCUMENTS = sorted(p for p in FIXTURES.iterdir() if p.suffix in FORMATS)

# Tokens of markup that must never reach a listener.
MARKUP = re.compile(
    r"```|~~~|\|\s*-{3,}|\+-{3,}\+|^\s*\.\. |<!--|-->|\]\(|!\[|https?://|www\.|\*\*|__\w"
    r"|::|`|</?[a-zA-Z][^>]*>|\[\^|^\s*[-*+] |^\s*\d+\. |\{\{|\}\}|&[a-z]+;|\|[^|]*\|"
)


def spoken_lines(doc) -> list[str]:
    """Every line a writer may speak: speakable_text without its "#" title marks."""
    return [line.lstrip("#").strip() for line in speakable_text(doc).splitlines()]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_no_markup_survives_in_a_real_readme(path):
    doc = speakable_document(path.read_text(encoding="utf-8"), FORMATS[path.suffix])
    lines = [line for line in spoken_lines(doc) if line]
    assert len(" ".join(lines).split()) > 150, "the document's words must come through"
    leaks = [line for line in lines if MARKUP.search(line)]
    assert leaks == []


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_section_of_a_real_readme_has_something_to_say(path):
    doc = speakable_document(path.read_text(encoding="utf-8"), FORMATS[path.suffix])
    assert doc.sections
    for section in doc.sections:
        assert section.blocks
        for block in section.blocks:
            assert block.kind in ("paragraph", "list", "table", "code")


def test_the_format_of_a_readme_is_guessed_from_its_markup():
    assert guess_format((FIXTURES / "celery.rst").read_text()) == "rst"
    assert guess_format((FIXTURES / "ruff.md").read_text()) == "markdown"
    assert guess_format((FIXTURES / "redis_rendered.html").read_text()) == "html"


def test_code_is_never_read_but_its_presence_is_noted():
    doc = speakable_document(
        "Install it:\n\n```python\nfor s in tomllib.loads(x):\n    pass\n```\n"
    )
    kinds = [b.kind for s in doc.sections for b in s.blocks]
    assert kinds == ["paragraph", "code"]
    text = speakable_text(doc)
    assert "tomllib" not in text
    assert "Python example" in text


def test_badges_images_and_html_comments_are_dropped():
    notes = (
        "<!-- Begin section -->\n# Tool\n\n"
        "[![PyPI](https://img.shields.io/pypi/v/x.svg)](https://pypi.org/project/x)\n"
        '<p align="center"><img src="chart.svg" alt="A chart"></p>\n\n'
        "Tool is fast ![logo](logo.png).\n"
    )
    doc = speakable_document(notes)
    assert doc.title == "Tool"
    assert speakable_text(doc).strip() == "# Tool\n\nTool is fast."


def test_links_keep_their_words_and_bare_urls_become_the_site_name():
    notes = "Read [the guide](https://docs.example.com/guide) or see https://www.github.com/a/b.\n"
    text = speakable_text(speakable_document(notes))
    assert text.strip() == "Read the guide or see github.com."


def test_footnote_markers_and_issue_references_go():
    notes = "Water boils at 100 degrees[^1] at sea level (#812).\n\n[^1]: Celsius.\n"
    text = speakable_text(speakable_document(notes))
    assert text.strip() == "Water boils at 100 degrees at sea level."


def test_emphasis_markers_are_stripped_but_identifiers_keep_their_underscores():
    text = speakable_text(speakable_document("It is **very** _fast_, see max_retries.\n"))
    assert text.strip() == "It is very fast, see max_retries."


def test_a_small_table_becomes_its_rows_in_words():
    notes = "| Broker | Stable |\n|---|---|\n| RabbitMQ | yes |\n| Redis | yes |\n"
    block = speakable_document(notes).sections[0].blocks[0]
    assert block == Block("table", "", items=["RabbitMQ: stable yes.", "Redis: stable yes."])


def test_a_version_table_is_summarised_not_read_row_by_row():
    rows = "\n".join(f"| 1.{n}.0 | 2024-0{n % 9 + 1}-01 |" for n in range(8))
    doc = speakable_document(f"| Version | Released |\n|---|---|\n{rows}\n")
    block = doc.sections[0].blocks[0]
    assert block.text == (
        "The notes have a table of eight versions, from 1.0.0 to 1.7.0, with released for each."
    )
    assert block.items == []


def test_a_large_table_is_summarised():
    rows = "\n".join(f"| Item {n} | {n} | ok |" for n in range(12))
    doc = speakable_document(f"| Name | Count | State |\n|---|---|---|\n{rows}\n")
    assert doc.sections[0].blocks[0].text.startswith("The notes have a table of 12 rows")


def test_a_changelog_keeps_the_latest_releases_and_counts_the_rest():
    releases = "\n".join(
        f"## {v}.0 (2024-01-0{v})\n\n### Fixed\n\n- Bug {v} fixed.\n" for v in range(9, 0, -1)
    )
    doc = speakable_document(f"# Changelog\n\nAll changes.\n\n{releases}")
    assert doc.title == "Changelog"
    assert [s.title for s in doc.sections] == [None, "Recent changes"]
    text = speakable_text(doc)
    assert "nine releases" in text or "9 releases" in text
    assert "from 1.0 to 9.0" in text
    assert "Bug 9 fixed" in text and "Bug 8 fixed" in text
    assert "Bug 3 fixed" not in text


def test_rst_roles_directives_and_targets_are_reduced_to_words():
    notes = (
        "Title\n=====\n\n.. image:: https://x.org/badge.svg\n\n"
        "Use :func:`celery.shared_task` with `Redis`_.\n\n"
        ".. code-block:: python\n\n    app = Celery()\n\n"
        ".. _Redis: https://redis.io\n"
    )
    doc = speakable_document(notes, "rst")
    assert doc.title == "Title"
    text = speakable_text(doc)
    assert "Use celery.shared_task with Redis." in text
    assert "Celery()" not in text and "redis.io" not in text and ".." not in text


def test_rst_include_directives_never_read_local_files():
    text = speakable_text(speakable_document(".. include:: /etc/passwd\n\nHello.\n", "rst"))
    assert "root" not in text
    assert "Hello." in text


def test_html_keeps_the_main_content_only():
    page = (
        "<html><head><title>T</title><script>var x = 1;</script></head><body>"
        "<nav><a href='/'>Home</a></nav><h1>Guide</h1><p>First <b>bold</b> point.</p>"
        "<ul><li>one</li><li>two<ul><li>two a</li></ul></li></ul>"
        "<pre><code class='language-python'>print(1)</code></pre>"
        "<footer>(c) me</footer></body></html>"
    )
    doc = speakable_document(page, "html")
    assert doc.title == "Guide"
    assert [b.kind for b in doc.sections[0].blocks] == ["paragraph", "list", "code"]
    assert doc.sections[0].blocks[1].items == ["one", "two", "two a"]
    text = speakable_text(doc)
    assert "Home" not in text and "(c) me" not in text and "var x" not in text


def test_lists_are_rendered_as_sentences_not_bullets():
    text = speakable_text(speakable_document("Forms:\n\n- Rain\n- Snow\n- Hail\n"))
    assert "Rain, Snow and Hail." in text
    assert "- " not in text


def test_plain_text_is_paragraphs_and_lists():
    doc = speakable_document("One line\nand more.\n\n- a thing\n- another thing\n", "plain")
    assert [b.kind for b in doc.sections[0].blocks] == ["paragraph", "list"]
    assert doc.sections[0].blocks[0].text == "One line and more."


def test_speakable_text_parses_back_to_the_same_sections():
    doc = speakable_document((FIXTURES / "ruff.md").read_text(encoding="utf-8"))
    again = speakable_document(speakable_text(doc))
    assert again.title == doc.title
    assert [s.title for s in again.sections] == [s.title for s in doc.sections]


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError):
        speakable_document("x", "docx")


def test_inline_code_that_ends_a_clause_leaves_a_word_not_a_hole():
    notes = "Call it on the client returned by `redis.Sentinel(x)`; then set `a = 1` in it.\n"
    text = speakable_text(speakable_document(notes)).strip()
    assert text == "Call it on the client returned by this; then set in it."


def test_shouted_headings_and_paragraphs_are_said_in_sentence_case():
    notes = "# A. HISTORY OF THE SOFTWARE\n\nTHE PSF DISCLAIMS ALL WARRANTIES OF ANY KIND.\n"
    doc = speakable_document(notes)
    assert doc.title == "History of the software"
    assert doc.sections[0].blocks[0].text == "The PSF disclaims all warranties of any kind."
