"""Speakable text: markup turned into what a person would say aloud.

One normaliser sits between every source (pasted notes included) and the script writers.
Markdown is read through markdown-it-py's tokens (tables and footnotes on), reStructuredText
through docutils' document tree, HTML through BeautifulSoup; plain text is split into
paragraphs and lists. Whatever the format, the result is one `Document` of sections
(headings become their titles) holding blocks of plain sentences:

- code blocks are never read out: a block of kind "code" carries a one-line note instead;
- tables become their rows in words when small, a one-sentence summary when large, and
  version tables a range ("twelve releases, from 1.0 to 2.3");
- runs of release sections (a changelog) are summarised to the latest releases;
- images, badges, HTML comments, directives, roles, link targets and footnote markers go;
  a link keeps its words, a bare URL becomes its site name ("github.com");
- emphasis markers and stray markup characters are stripped.

Pure functions, no Django: the sources app and the writers both call it.
"""

from __future__ import annotations

import re
import unicodedata

from .md import parse_markdown, parse_plain
from .model import Block, Document, Section
from .rst import parse_rst
from .text import clean_text, spoken_series
from .web import parse_html

__all__ = [
    "Block",
    "Document",
    "Section",
    "guess_format",
    "speakable_document",
    "speakable_text",
    "clean_text",
    "spoken_series",
]

FORMATS = ("markdown", "plain", "html", "rst")
MAX_CHANGELOG_RELEASES = 2  # releases of a changelog kept in words; the rest are counted

_RST_HINTS = re.compile(
    r"^(\.\. [\w|-]+::|\.\. _[^:]+:|[=\-~^\"'`#*+]{3,}\s*$)|`_\b|::\s*$|^:\w[\w ]*: ", re.M
)
_MD_HINTS = re.compile(r"^(#{1,6} |```|~~~|\s*[-*] \S)|\]\(|!\[|\*\*\w", re.M)
_VERSION_TITLE = re.compile(
    r"^(?:v(?:ersion)?\s*|release\s+|\[)?\d+(?:\.\d+)+[\w.\-]*\]?"
    r"(?:\s*[-–—(:]\s*.*)?$|^unreleased$",
    re.I,
)
_CHANGELOG_TITLES = {"changelog", "change log", "changes", "history", "release notes", "news"}


def guess_format(text: str) -> str:
    """The likely markup of pasted text: HTML, reStructuredText, Markdown or plain."""
    sample = text[:20000]
    opening = r"\s*<(!doctype|html|head|body|div|p|h[1-6]|article|section|main)\b"
    if re.match(opening, sample, re.I):
        return "html"
    if re.search(r"^(#{1,6} \S|```)", sample, re.M):
        return "markdown"  # ATX headings and fences do not exist in reStructuredText
    if re.search(r"<(html|body)\b", sample, re.I):
        return "html"
    rst, md = len(_RST_HINTS.findall(sample)), len(_MD_HINTS.findall(sample))
    if rst > md and rst >= 2:
        return "rst"
    return "markdown"


def speakable_document(text: str, fmt: str = "markdown") -> Document:
    """Parse `text` written in `fmt` (markdown | plain | html | rst | auto)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Co") or ch == "\n")
    fmt = guess_format(text) if fmt == "auto" else fmt
    if fmt == "html":
        doc = parse_html(text)
    elif fmt == "rst":
        doc = parse_rst(text)
    elif fmt == "plain":
        doc = parse_plain(text)
    elif fmt == "markdown":
        doc = parse_markdown(text)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return _tidy(doc)


def speakable_text(doc: Document) -> str:
    """The clean text users see and writers read: "# Title" lines, then plain sentences.

    Lists are written as sentences (short items as one series, long ones one per line),
    never with bullet marks; a table as its summary and its rows in words.
    """
    parts: list[str] = []
    if doc.title:
        parts.append(f"# {doc.title}")
    for section in doc.sections:
        if section.title:
            parts.append(f"## {section.title}" if doc.title else f"# {section.title}")
        parts.extend(_block_text(block) for block in section.blocks)
    return "\n\n".join(part for part in parts if part.strip()) + "\n"


def _block_text(block: Block) -> str:
    if block.kind == "list":
        return list_sentences(block.items, block.text)
    if block.kind == "table":
        return "\n".join([block.text, *block.items]).strip()
    return block.text


def list_sentences(items: list[str], lead: str = "") -> str:
    """A list as prose: short items joined into one series, long items one per line."""
    if items and all(_is_short(item) for item in items):
        series = spoken_series([item.rstrip(".") for item in items])
        if lead:
            return _sentence(f"{lead.rstrip(':').rstrip()}: {series}")
        return _sentence(series[:1].upper() + series[1:])
    lines = [lead] if lead else []
    lines += [_sentence(_capitalised(item)) for item in items]
    return "\n".join(lines)


def _capitalised(text: str) -> str:
    """A line starts with a capital, unless its first word is a name such as "pyproject.toml"."""
    first = text.split(" ", 1)[0]
    return text[:1].upper() + text[1:] if first.isalpha() and first.islower() else text


def _is_short(item: str) -> bool:
    return len(item.split()) <= 6 and item.rstrip()[-1:] not in ".!?:"


def _sentence(text: str) -> str:
    text = text.strip().rstrip(",;:–—-").strip()
    return text if not text or text[-1] in ".!?…" else text + "."


# --------------------------------------------------------------------------- tidying


def _tidy(doc: Document) -> Document:
    """Drop empty blocks and sections, and summarise changelogs."""
    for section in doc.sections:
        section.blocks = [b for b in section.blocks if b.text.strip() or b.items]
    sections = _without_boilerplate(doc.sections)
    doc.sections = _summarise_changelogs([s for s in sections if s.blocks or s.title])
    doc.sections = [s for s in doc.sections if s.blocks]
    return doc


# Never content: a table of contents repeats the headings the listener is about to hear;
# sponsor and donation lists are adverts. Their subsections go with them.
BOILERPLATE_TITLES = {
    "contents", "table of contents", "toc", "sponsors", "sponsor", "donations", "donate",
    "backers", "funding", "support us", "badges", "for enterprise", "professional support",
}  # fmt: skip


def _without_boilerplate(sections: list[Section]) -> list[Section]:
    kept: list[Section] = []
    skip_below: int | None = None
    for section in sections:
        if skip_below is not None and section.title and section.level > skip_below:
            continue
        title = (section.title or "").strip().lower().rstrip(":")
        skip_below = section.level if title in BOILERPLATE_TITLES else None
        if skip_below is None:
            kept.append(section)
    return kept


def is_release_title(title: str | None) -> bool:
    return bool(title and _VERSION_TITLE.match(title.strip()))


def _summarise_changelogs(sections: list[Section]) -> list[Section]:
    """A run of sections titled by versions (with their "Fixed"/"Added" subsections)
    becomes one section that names the latest releases' changes and counts the rest:
    nobody listens to forty release notes."""
    kept: list[Section] = []
    run: list[Section] = []
    index = 0
    while index < len(sections):
        section = sections[index]
        if is_release_title(section.title):
            release, index = _release_with_subsections(sections, index)
            run.append(release)
            continue
        if run:
            kept.append(_changelog_section(run, kept))
            run = []
        kept.append(section)
        index += 1
    if run:
        kept.append(_changelog_section(run, kept))
    return kept


def _release_with_subsections(sections: list[Section], start: int) -> tuple[Section, int]:
    head = sections[start]
    release = Section(title=head.title, blocks=list(head.blocks), level=head.level)
    index = start + 1
    while index < len(sections) and sections[index].level > head.level:
        sub = sections[index]
        if is_release_title(sub.title):
            break
        for block in sub.blocks:
            lead = block.text or (sub.title or "")
            release.blocks.append(
                Block(block.kind, lead, block.items) if block.kind == "list" else block
            )
        index += 1
    return release, index


def _changelog_section(releases: list[Section], kept: list[Section]) -> Section:
    parent = kept.pop() if kept and _is_changelog_title(kept[-1].title) else None
    blocks = list(parent.blocks) if parent else []
    numbered = [_version_of(s.title or "") for s in releases if re.search(r"\d", s.title or "")]
    versions = sorted(numbered, key=_version_key) or ["the first", "the latest"]
    if len(releases) > MAX_CHANGELOG_RELEASES:
        oldest, newest = versions[0], versions[-1]
        blocks.append(
            Block(
                "paragraph",
                f"The notes list changes for {len(releases)} releases, "
                f"from {oldest} to {newest}. Here are the latest.",
            )
        )
    for release in releases[:MAX_CHANGELOG_RELEASES]:
        blocks.extend(_release_blocks(release))
    title = parent.title if parent else "Recent changes"
    return Section(title=title, blocks=blocks)


def _release_blocks(release: Section) -> list[Block]:
    version = _version_of(release.title or "")
    blocks: list[Block] = []
    for block in release.blocks:
        if block.kind == "list":
            lead = f"{block.text} in {version}" if block.text else f"Changes in {version}"
            blocks.append(Block("list", lead, items=block.items[:4]))
        elif block.kind == "paragraph":
            blocks.append(Block("paragraph", block.text))
    return blocks[:3]


def _version_of(title: str) -> str:
    match = re.search(r"\d+(?:\.\d+)+[\w.\-]*", title)
    return match.group(0).rstrip(".") if match else title.strip()


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:4])


def _is_changelog_title(title: str | None) -> bool:
    return bool(title) and title.strip().lower().rstrip(":") in _CHANGELOG_TITLES
