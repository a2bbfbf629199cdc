"""Markdown (CommonMark + tables + footnotes, through markdown-it-py) and plain text."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from .model import Block, Builder, Document
from .tables import table_block
from .text import CODE_GAP, clean_text, code_note, looks_like_code
from .web import parse_html_into

_PARSER = (
    MarkdownIt("commonmark", {"html": True})
    .enable(["table", "strikethrough"])
    .use(footnote_plugin)
    .use(front_matter_plugin)
)
_SKIPPED = {"hr", "front_matter", "footnote_block", "html_inline", "image", "footnote_ref"}
_PROSE_END = re.compile(r"[.!?:]\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+(.*)$")


def parse_markdown(text: str) -> Document:
    builder = Builder()
    root = SyntaxTreeNode(_PARSER.parse(text))
    for node in root.children:
        _block(node, builder)
    return builder.document()


def _block(node: SyntaxTreeNode, builder: Builder) -> None:
    kind = node.type
    if kind == "heading":
        builder.heading(int(node.tag[1]), _inline(node.children[0]))
    elif kind == "paragraph":
        _paragraph(node, builder)
    elif kind in ("bullet_list", "ordered_list"):
        builder.add(Block("list", "", items=_list_items(node)))
    elif kind == "table":
        builder.add(table_block(_table_rows(node)))
    elif kind in ("fence", "code_block"):
        _code(node, builder)
    elif kind == "html_block":
        parse_html_into(node.content, builder)
    elif kind == "blockquote":
        for child in node.children:
            _block(child, builder)


def _paragraph(node: SyntaxTreeNode, builder: Builder) -> None:
    inline = node.children[0]
    if _is_navigation(inline):
        return  # "Docs | Playground | Discord": a row of links, not something to say
    text = _inline(inline)
    if text and not looks_like_code(text):
        builder.add(Block("paragraph", text))


def _code(node: SyntaxTreeNode, builder: Builder) -> None:
    content = node.content.strip()
    if node.type == "code_block" and _is_prose(content):
        # Indented by accident (pasted notes often are): words, not code.
        builder.add(Block("paragraph", clean_text(content)))
        return
    builder.add(Block("code", code_note(node.info or "")))


def _is_prose(content: str) -> bool:
    lines = [line for line in content.splitlines() if line.strip()]
    return (
        bool(lines)
        and all(_PROSE_END.search(line) for line in lines)
        and not any(looks_like_code(line) for line in lines)
    )


def _list_items(node: SyntaxTreeNode) -> list[str]:
    """Each item's text; a nested list's items follow their parent item's."""
    items: list[str] = []
    for item in node.children:
        texts: list[str] = []
        nested: list[str] = []
        for child in item.children:
            if child.type == "paragraph":
                texts.append(_inline(child.children[0]))
            elif child.type in ("bullet_list", "ordered_list"):
                nested.extend(_list_items(child))
        text = " ".join(t for t in texts if t)
        if text and not looks_like_code(text):
            items.append(text)
        items.extend(nested)
    return items


def _table_rows(node: SyntaxTreeNode) -> list[list[str]]:
    rows: list[list[str]] = []
    for part in node.children:  # thead, tbody
        for row in part.children:
            rows.append(
                [_inline(cell.children[0]) if cell.children else "" for cell in row.children]
            )
    return rows


def _is_navigation(inline: SyntaxTreeNode) -> bool:
    links = [c for c in inline.children if c.type == "link"]
    loose = "".join(c.content for c in inline.children if c.type == "text")
    return len(links) >= 2 and not re.sub(r"[\s|·•,/\-–—]", "", loose)


def _inline(node: SyntaxTreeNode) -> str:
    return clean_text("".join(_inline_parts(node)))


def _inline_parts(node: SyntaxTreeNode) -> list[str]:
    parts: list[str] = []
    for child in node.children:
        kind = child.type
        if kind in _SKIPPED:
            continue
        if kind == "text":
            parts.append(child.content)
        elif kind == "code_inline":
            parts.append(_inline_code(child.content))
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "link":
            parts.append(_link(child))
        elif child.children:
            parts.extend(_inline_parts(child))  # em, strong, s: their words only
    return parts


def _link(node: SyntaxTreeNode) -> str:
    words = "".join(_inline_parts(node)).strip()
    if not words:
        return ""  # a badge: an image wrapped in a link
    return words


def _inline_code(code: str) -> str:
    """`pip install x` may be said; `for s in tomllib.loads(...)` may not."""
    return CODE_GAP if looks_like_code(code) else code


def parse_plain(text: str) -> Document:
    """Plain text: paragraphs split on blank lines; runs of bullet lines are lists."""
    builder = Builder()
    for chunk in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        bullets = [_BULLET.match(line) for line in lines]
        if lines and all(bullets):
            builder.add(Block("list", "", items=[clean_text(m.group(1)) for m in bullets]))
        elif lines:
            builder.add(Block("paragraph", clean_text(" ".join(lines))))
    return builder.document()
