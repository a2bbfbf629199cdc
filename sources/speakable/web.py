"""HTML through BeautifulSoup (the standard library's parser): the readable blocks only."""

from __future__ import annotations

from bs4 import (
    BeautifulSoup,
    Comment,
    Declaration,
    Doctype,
    NavigableString,
    ProcessingInstruction,
    Tag,
)

from .model import Block, Builder, Document
from .tables import table_block
from .text import CODE_GAP, clean_text, code_note, looks_like_code

# Never spoken: page furniture, scripts, media.
_DROPPED = {
    "script", "style", "noscript", "template", "svg", "canvas", "img", "picture", "video",
    "audio", "iframe", "object", "embed", "nav", "footer", "header", "aside", "form",
    "button", "input", "select", "textarea", "head", "title", "meta", "link", "figure",
    "map", "sup",
}  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {"p", "pre", "ul", "ol", "dl", "table", "blockquote", "div", "section", "article",
           "main", "body", "html", "center", "details", "li", "dd", "dt", "address"}  # fmt: skip


def parse_html(text: str) -> Document:
    builder = Builder()
    parse_html_into(text, builder)
    return builder.document()


def parse_html_into(text: str, builder: Builder) -> None:
    soup = BeautifulSoup(text, "html.parser")
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(_DROPPED):
        tag.decompose()
    _walk(soup, builder)


def _walk(node: Tag, builder: Builder) -> None:
    loose: list[str] = []  # text directly inside a container, between blocks
    for child in node.children:
        if isinstance(child, (Doctype, Declaration, ProcessingInstruction)):
            continue
        if isinstance(child, NavigableString):
            loose.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        if child.name not in _HEADINGS and child.name not in _BLOCKS:
            loose.append(_text(child))
            continue
        _flush(loose, builder)
        _element(child, builder)
    _flush(loose, builder)


def _flush(loose: list[str], builder: Builder) -> None:
    text = clean_text(" ".join(loose))
    loose.clear()
    if text and not looks_like_code(text):
        builder.add(Block("paragraph", text))


def _element(tag: Tag, builder: Builder) -> None:
    name = tag.name
    if name in _HEADINGS:
        builder.heading(_HEADINGS[name], clean_text(_text(tag)))
    elif name == "pre":
        code = tag.find("code")
        classes = " ".join((code or tag).get("class") or [])
        builder.add(
            Block("code", code_note(classes.replace("language-", "").replace("highlight-", "")))
        )
    elif name in ("ul", "ol"):
        builder.add(Block("list", "", items=_list_items(tag)))
    elif name == "dl":
        builder.add(Block("list", "", items=_definitions(tag)))
    elif name == "table":
        rows = [
            [clean_text(_text(c)) for c in tr.find_all(["th", "td"])] for tr in tag.find_all("tr")
        ]
        builder.add(table_block(rows))
    elif name == "p":
        _flush([_text(tag)], builder)
    else:
        _walk(tag, builder)


def _list_items(tag: Tag) -> list[str]:
    """Each item's own words, then its nested list's items."""
    items: list[str] = []
    for li in tag.find_all("li", recursive=False):
        nested = [sub.extract() for sub in li.find_all(["ul", "ol"], recursive=False)]
        text = clean_text(_text(li))
        if text and not looks_like_code(text):
            items.append(text)
        for sub in nested:
            items.extend(_list_items(sub))
    return items


def _definitions(tag: Tag) -> list[str]:
    items, term = [], ""
    for child in tag.find_all(["dt", "dd"]):
        text = clean_text(_text(child))
        if child.name == "dt":
            term = text.rstrip(":").strip()
        elif text:
            items.append(f"{term}: {text}" if term else text)
    return items


def _text(tag: Tag) -> str:
    """The words of an inline element; inline code that is code goes."""
    for code in tag.find_all(["code", "kbd", "samp"]):
        if looks_like_code(code.get_text()):
            code.replace_with(CODE_GAP)
    return tag.get_text(" ")
