"""The shape every format is parsed into: a document of titled sections of plain blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# "1. Install", "2.3 Configure", "Step 4: Run": the number is for the eye.
_NUMBERING = re.compile(
    r"^(?:(?:step|part|chapter)\s+)?(?:\d+(?:\.\d+)*[.):]?|[A-Z][.)])\s+(?=[A-Za-z])", re.I
)


@dataclass
class Block:
    """One unit of speech, already free of markup.

    kind: "paragraph" (text), "list" (items; text is an optional lead-in), "table" (text is a
    one-sentence summary, items its rows in words when small), "code" (text is a short note
    that the notes hold a code example; the code itself is never kept).
    """

    kind: str
    text: str = ""
    items: list[str] = field(default_factory=list)


@dataclass
class Section:
    title: str | None
    blocks: list[Block] = field(default_factory=list)
    level: int = 1  # heading depth in the source (1 = top); 0 for text before any heading


@dataclass
class Document:
    title: str | None
    sections: list[Section] = field(default_factory=list)


class Builder:
    """Collects sections and blocks while a parser walks its tree, and picks the title:
    a single top-level heading that opens the document is its title, not a section."""

    def __init__(self) -> None:
        self.sections: list[Section] = [Section(title=None, level=0)]
        self.headings: list[tuple[int, str]] = []

    def heading(self, level: int, title: str) -> None:
        title = unshout(_NUMBERING.sub("", title.strip()).rstrip(":").strip())
        if not title:
            return
        self.headings.append((level, title))
        self.sections.append(Section(title=title, level=level))

    def add(self, block: Block) -> None:
        if block.kind == "paragraph":
            block.text = unshout(block.text)
        if block.text.strip() or block.items:
            self.sections[-1].blocks.append(block)

    def document(self) -> Document:
        sections = self.sections
        title = None
        if self.headings and not sections[0].blocks:
            top = min(level for level, _ in self.headings)
            first_level, first_title = self.headings[0]
            if first_level == top and sum(1 for lv, _ in self.headings if lv == top) == 1:
                title = first_title
                opening = sections[1]
                sections = [Section(title=None, blocks=opening.blocks, level=0), *sections[2:]]
        return Document(title=title, sections=sections)


def unshout(text: str) -> str:
    """ "HISTORY OF THE SOFTWARE" -> "History of the software": text in capitals (legal
    disclaimers, shouted headings) is said like any other text. Words of two or three
    letters that are not common words (PSF, BSD) stay in capitals: likely acronyms."""
    letters = [ch for ch in text if ch.isalpha()]
    words = text.split()
    if len(words) < 3 or sum(ch.isupper() for ch in letters) < 0.8 * len(letters):
        return text
    out = []
    for index, word in enumerate(words):
        bare = re.sub(r"[^A-Za-z]", "", word)
        vowels = sum(ch in "AEIOU" for ch in bare)
        short = 2 <= len(bare) <= 3 or (len(bare) == 4 and vowels == 0)
        acronym = short and bare.lower() not in _SHORT_WORDS
        if not acronym:
            word = word.lower()
            if index == 0 or out and out[-1][-1:] in ".!?":
                word = word[:1].upper() + word[1:]
        out.append(word)
    return " ".join(out)


_SHORT_WORDS = set(
    """a an the of to in on at by for and or nor but not no is are was be as it its this
    that with from into onto off out up all any each per than then when what who how why
    use used uses over under some such only also very may can will shall must here there
    they them their our your you we he she his her him has had have does did done do
    made make more most less many much well good ever even both same other else free
    fee fees sole part year date term terms law laws""".split()
)
