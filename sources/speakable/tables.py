"""Tables as speech: a few rows in words, a big table or a version table summarised."""

from __future__ import annotations

import re

from .model import Block
from .text import number_word, spoken_series

MAX_SPOKEN_ROWS = 6
MAX_SPOKEN_COLUMNS = 4
_VERSION = re.compile(r"^v?\d+(\.\d+)+\S*$|^\d+\.x$", re.I)


def table_block(rows: list[list[str]]) -> Block:
    rows = [[cell.strip() for cell in row] for row in rows if any(c.strip() for c in row)]
    if not rows:
        return Block("table", "")
    header, body = rows[0], rows[1:]
    if not body:
        return Block("table", "", items=[spoken_series([c for c in header if c]) + "."])
    if _is_version_table(body):
        return Block("table", _version_summary(header, body))
    if len(body) > MAX_SPOKEN_ROWS or len(header) > MAX_SPOKEN_COLUMNS:
        return Block("table", _summary(header, body))
    return Block("table", "", items=[_row_in_words(header, row) for row in body])


def _row_in_words(header: list[str], row: list[str]) -> str:
    """ "Redis: broker yes, result backend yes." from a row and its column names."""
    first, rest = (row[0], row[1:]) if row else ("", [])
    pairs = [
        f"{name.lower()} {cell}" if name else cell
        for name, cell in zip(header[1:], rest, strict=False)
        if cell
    ]
    if not pairs:
        return f"{first}."
    return f"{first}: {', '.join(pairs)}." if first else f"{', '.join(pairs)}."


def _summary(header: list[str], body: list[list[str]]) -> str:
    names = [name.lower() for name in header if name][:MAX_SPOKEN_COLUMNS]
    firsts = [row[0] for row in body if row and row[0]][:3]
    about = f" giving {spoken_series(names)}" if names else ""
    examples = f", among them {spoken_series(firsts)}" if firsts else ""
    return f"The notes have a table of {number_word(len(body))} rows{about}{examples}."


def _is_version_table(body: list[list[str]]) -> bool:
    firsts = [row[0] for row in body if row]
    versions = [cell for cell in firsts if _VERSION.match(cell.split()[0] if cell else "")]
    return len(body) >= 3 and len(versions) >= len(firsts) * 0.6


def _version_summary(header: list[str], body: list[list[str]]) -> str:
    versions = sorted(
        (row[0].split()[0] for row in body if row and row[0]),
        key=lambda v: tuple(int(n) for n in re.findall(r"\d+", v)[:4]),
        reverse=True,
    )
    about = spoken_series([name.lower() for name in header[1:] if name][:2])
    tail = f", with {about} for each" if about else ""
    return (
        f"The notes have a table of {number_word(len(versions))} versions, "
        f"from {versions[-1]} to {versions[0]}{tail}."
    )
