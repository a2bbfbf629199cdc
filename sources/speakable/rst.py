"""reStructuredText through docutils' document tree; Sphinx-only roles and directives
(unknown to docutils) come out as "problematic" nodes and system messages, which are
reduced to their words or dropped."""

from __future__ import annotations

import re

from docutils import nodes
from docutils.core import publish_doctree
from docutils.utils import SystemMessage

from .md import parse_plain
from .model import Block, Builder, Document
from .tables import table_block
from .text import CODE_GAP, clean_text, code_note, looks_like_code

_SETTINGS = {
    "report_level": 5,  # quiet: a README with Sphinx roles is not an error here
    "halt_level": 5,
    "file_insertion_enabled": False,  # `.. include::` must never read the server's files
    "raw_enabled": False,
    "warning_stream": False,
    "syntax_highlight": "none",
}
_DROPPED = (
    nodes.comment, nodes.system_message, nodes.substitution_definition, nodes.target,
    nodes.image, nodes.figure, nodes.raw, nodes.footnote, nodes.citation, nodes.footnote_reference,
    nodes.citation_reference, nodes.substitution_reference, nodes.docinfo, nodes.meta,
    nodes.topic,  # tables of contents
)  # fmt: skip
_ROLE = re.compile(r":[\w:+-]+:`(?:[^`<]*<)?([^`>]*)>?`")


def parse_rst(text: str) -> Document:
    builder = Builder()
    try:
        tree = publish_doctree(text, settings_overrides=_SETTINGS)
    except (SystemMessage, Exception):  # docutils raises plain errors on malformed input
        return parse_plain(text)
    title = tree.get("title")
    if title:  # docutils lifts a lone top heading into the document's title
        builder.heading(1, clean_text(title))
    _walk(tree, builder, level=1 if title else 0)
    return builder.document()


def _walk(node: nodes.Node, builder: Builder, level: int) -> None:
    for child in node.children:
        if isinstance(child, _DROPPED):
            continue
        if isinstance(child, nodes.title) and node is not None and isinstance(node, nodes.document):
            continue  # already the document title
        _element(child, builder, level)


def _element(node: nodes.Node, builder: Builder, level: int) -> None:
    if isinstance(node, nodes.section):
        title = node.next_node(nodes.title)
        builder.heading(level + 1, _words(title) if title else "")
        _walk(node, builder, level + 1)
    elif isinstance(node, nodes.title):
        return  # a section's title, handled with its section
    elif isinstance(node, (nodes.paragraph, nodes.line_block)):
        text = _words(node)
        if text and not looks_like_code(text):
            builder.add(Block("paragraph", text))
    elif isinstance(node, (nodes.literal_block, nodes.doctest_block)):
        language = " ".join(c for c in node.get("classes", []) if c != "code")
        builder.add(
            Block(
                "code",
                code_note(language or ("python" if isinstance(node, nodes.doctest_block) else "")),
            )
        )
    elif isinstance(node, (nodes.bullet_list, nodes.enumerated_list)):
        builder.add(Block("list", "", items=_items(node)))
    elif isinstance(node, (nodes.definition_list, nodes.field_list, nodes.option_list)):
        builder.add(Block("list", "", items=_pairs(node)))
    elif isinstance(node, nodes.table):
        builder.add(table_block(_rows(node)))
    elif isinstance(node, nodes.Element):
        _walk(node, builder, level)  # block quotes, admonitions, containers


def _items(node: nodes.Element) -> list[str]:
    items: list[str] = []
    for item in node.children:
        if not isinstance(item, nodes.list_item):
            continue
        texts = [_words(p) for p in item.children if _visible_paragraph(p)]
        text = " ".join(t for t in texts if t)
        if text and not looks_like_code(text):
            items.append(text)
        for nested in item.children:
            if isinstance(nested, (nodes.bullet_list, nodes.enumerated_list)):
                items.extend(_items(nested))
    return items


def _pairs(node: nodes.Element) -> list[str]:
    """ "Term: definition" for definition lists and field lists (":Version: 5.7")."""
    pairs = []
    for entry in node.children:
        if not isinstance(entry, nodes.Element) or len(entry.children) < 2:
            continue
        term = _words(entry.children[0]).rstrip(":").strip()
        paragraphs = entry.children[-1].findall(nodes.paragraph)
        body = " ".join(_words(p) for p in paragraphs if _visible_paragraph(p))
        if term and body and not looks_like_code(body):
            pairs.append(f"{term}: {body}")
    return pairs


def _rows(node: nodes.table) -> list[list[str]]:
    return [
        [_words(entry) for entry in row.findall(nodes.entry)] for row in node.findall(nodes.row)
    ]


def _words(node: nodes.Node) -> str:
    """A node's visible words: references keep their text, roles their target's words."""
    parts: list[str] = []
    for child in node.findall(include_self=False, descend=True, siblings=False):
        if not isinstance(child, nodes.Text):
            continue
        if _inside_dropped(child, node):
            continue
        parent = child.parent
        text = str(child)
        if isinstance(parent, nodes.problematic):
            text = _ROLE.sub(r"\1", text)
        elif isinstance(parent, nodes.literal) and looks_like_code(text):
            text = CODE_GAP
        parts.append(text)
    return clean_text("".join(parts).replace("\n", " "))


def _visible_paragraph(node: nodes.Node) -> bool:
    """A paragraph a reader sees: not one of docutils' own messages about the input."""
    return isinstance(node, nodes.paragraph) and not _inside_dropped(node, None)


def _inside_dropped(text: nodes.Node, stop: nodes.Node | None) -> bool:
    parent = text.parent
    while parent is not None and parent is not stop:
        if isinstance(parent, _DROPPED):
            return True
        parent = parent.parent
    return False
