"""Notes -> an outline of topics holding the guest's points, through the one normaliser
(sources.speakable), so nothing of the notes' markup ever reaches a line."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from sources.speakable import Block, Document, Section, speakable_document
from sources.speakable.text import clean_text

from .chunker import CLOSED, PhraseIndex, tokens

MAX_TURN_WORDS = 45  # one spoken turn: about fifteen seconds
SHORT_ITEM_WORDS = 8  # list items this short are said as one series
PARAGRAPHS_PER_TOPIC = 4  # notes without headings: a topic every few paragraphs
SKIPPED_SECTIONS = {
    "sponsors", "sponsor", "donations", "donate", "backers", "funding", "support us",
    "contributors", "authors", "badges", "table of contents", "contents", "credits",
    "acknowledgements", "acknowledgments", "license", "licence", "copyright",
}  # fmt: skip
INTRO_TITLES = {"introduction", "intro", "overview", "background", "about", "abstract", "tl;dr"}
CLOSING_TITLES = {"conclusion", "conclusions", "summary", "in summary", "wrap-up", "recap",
                  "takeaways", "key takeaways", "final thoughts", "closing thoughts"}  # fmt: skip
_ABBREVIATIONS = re.compile(
    r"\b(?:e\.g|i\.e|etc|vs|mr|mrs|ms|dr|prof|st|no|fig|approx|cf)\.$", re.I
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


@dataclass
class Point:
    """One thing the guest says: a sentence (or a clause of a long one), a list, a note."""

    kind: str  # "sentence" | "list" | "code"
    text: str = ""
    items: list[str] = field(default_factory=list)
    order: int = 0
    score: float = 0.0

    @property
    def words(self) -> int:
        return len(self.text.split()) + sum(len(i.split()) for i in self.items)


@dataclass
class Topic:
    title: str | None
    kind: str = "topic"  # "intro" | "topic" | "closing"
    points: list[Point] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)  # key noun phrases, best first

    @property
    def text(self) -> str:
        return " ".join(_point_text(p) for p in self.points)


def _point_text(point: Point) -> str:
    items = ", ".join(point.items)
    return " ".join(part for part in (point.text, f"{items}." if items else "") if part)


@dataclass
class Outline:
    title: str
    topics: list[Topic]
    lower_words: set[str]  # words the notes write in lower case: not names
    names: set[str] = field(default_factory=set)  # capitalised mid-sentence: maybe names

    def points(self) -> list[Point]:
        return [p for topic in self.topics for p in topic.points]


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, not broken after "e.g." or an initial."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()].rstrip()
        if _ABBREVIATIONS.search(before) or re.search(r"\b[A-Z]\.$", before):
            continue
        sentences.append(text[start : match.start()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if re.search(r"[A-Za-z]", s)]


def spoken_pieces(sentence: str, limit: int = MAX_TURN_WORDS) -> list[str]:
    """A run-on sentence cut at clause boundaries into pieces of at most `limit` words."""
    if len(sentence.split()) <= limit:
        return [_finish(sentence)]
    pieces: list[str] = []
    current: list[str] = []
    for clause in re.split(r"(?<=[,;:—–])\s+", sentence):
        words = clause.split()
        if current and len(current) + len(words) > limit:
            pieces.append(" ".join(current))
            current = []
        while len(words) > limit:  # a clause with no break at all
            pieces.append(" ".join(words[:limit]))
            words = words[limit:]
        current.extend(words)
    if current:
        pieces.append(" ".join(current))
    return [_finish(p[:1].upper() + p[1:]) for p in pieces if p.strip()]


def _finish(text: str) -> str:
    """End punctuation for a piece; a lead-in keeps its colon until we know what follows."""
    text = text.strip().rstrip(",;–—-").strip()
    return text if text[-1:] in ".!?…:" else text + "."


def parse(notes: str) -> Outline:
    doc = speakable_document(notes or "", "auto")
    sections = _without_skipped(doc.sections)
    topics, counter = _topics(_groups(sections))
    lower = _lower_words(topics)
    _score(topics, counter)
    index = PhraseIndex([t.text for t in topics])
    for position, topic in enumerate(topics):
        topic.kind = _kind(topic.title, position, len(topics))
        avoid = {topic.title.lower()} if topic.title else set()
        topic.phrases = [p.text for p in index.key_phrases(topic.text, avoid=avoid)]
    names = _name_words(topics)
    return Outline(title=_title(doc, topics, lower), topics=topics, lower_words=lower, names=names)


def _without_skipped(sections: list[Section]) -> list[Section]:
    """Drop sponsor lists, licences and the like, with their subsections."""
    kept: list[Section] = []
    skip_below: int | None = None
    for section in sections:
        if skip_below is not None and section.title and section.level > skip_below:
            continue
        skip_below = section.level if _skipped(section.title) else None
        if skip_below is None:
            kept.append(section)
    return kept


def _skipped(title: str | None) -> bool:
    return bool(title) and title.strip().lower().rstrip(":") in SKIPPED_SECTIONS


def _groups(sections: list[Section]) -> list[tuple[str | None, list[Block]]]:
    """A group per titled section; untitled text is cut into groups of a few paragraphs."""
    groups: list[tuple[str | None, list[Block]]] = []
    for section in sections:
        blocks = section.blocks
        if section.title or (not groups and len(blocks) <= PARAGRAPHS_PER_TOPIC):
            groups.append((section.title, blocks))
            continue
        for start in range(0, len(blocks), PARAGRAPHS_PER_TOPIC):
            groups.append((None, blocks[start : start + PARAGRAPHS_PER_TOPIC]))
    return groups


def _topics(groups: list[tuple[str | None, list[Block]]]) -> tuple[list[Topic], Counter]:
    """Each group's blocks as points, in document order; and the notes' word counts."""
    order = 0
    counter: Counter = Counter()
    seen: set[str] = set()
    topics: list[Topic] = []
    for title, blocks in groups:
        topic = Topic(title=title)
        for point in (p for block in blocks for p in _block_points(block)):
            key = point.text.lower() + "|".join(point.items).lower()
            if key in seen:
                continue  # notes repeat themselves; the episode does not
            seen.add(key)
            point.order = order
            order += 1
            topic.points.append(point)
            counter.update(_content(point.text + " " + " ".join(point.items)))
        _drop_dangling_leads(topic)
        if any(p.kind != "code" for p in topic.points):
            topics.append(topic)
    return topics, counter


def _block_points(block: Block) -> list[Point]:
    if block.kind == "code":
        return [Point("code")]
    if block.kind == "list":
        return _list_points(block.text, block.items)
    if block.kind == "table":
        texts = [block.text, *block.items]
        return [Point("sentence", piece) for text in texts if text for piece in spoken_pieces(text)]
    return [
        Point("sentence", piece)
        for sentence in split_sentences(block.text)
        for piece in spoken_pieces(sentence)
    ]


_ITEM_MARK = re.compile(r"^(?:[a-z]{1,3}|\d{1,3})[.)]\s+")  # "nn. Shells..." (bash NEWS)


def _list_points(lead: str, items: list[str]) -> list[Point]:
    items = [_ITEM_MARK.sub("", clean_text(i)).rstrip(".") for i in items if clean_text(i)]
    if not items:
        return []
    points = [Point("sentence", piece) for piece in spoken_pieces(lead)] if lead else []
    if len(items) == 1:
        return [*points, *(Point("sentence", p) for p in spoken_pieces(items[0]))]
    short = all(len(i.split()) <= SHORT_ITEM_WORDS for i in items)
    if short:
        return [*points, Point("list", items=items[:10])]
    # Long items: a spoken enumeration of at most five points, each a turn of its own.
    return [*points, Point("list", items=[spoken_pieces(i)[0].rstrip(".") for i in items[:5]])]


def _drop_dangling_leads(topic: Topic) -> None:
    """ "Install it with:" before a code block we do not read says nothing alone."""
    kept = []
    for index, point in enumerate(topic.points):
        following = topic.points[index + 1] if index + 1 < len(topic.points) else None
        before_code = following is None or following.kind == "code"
        dangling = point.text.rstrip().endswith(":") and before_code
        if point.kind == "sentence" and dangling and len(point.text.split()) <= 12:
            continue
        if point.kind == "sentence" and point.text.endswith(":"):
            point.text = point.text[:-1] + "."
        kept.append(point)
    topic.points = kept


def _content(text: str) -> list[str]:
    words = (w.lower() for w in tokens(text) if w[:1].isalpha())
    return [w for w in words if w not in CLOSED and len(w) > 2]


def _score(topics: list[Topic], counter: Counter) -> None:
    """How central a point is to the notes: its words' frequency, mildly favouring length."""
    for topic in topics:
        for point in topic.points:
            words = _content(point.text + " " + " ".join(point.items))
            if point.kind == "code":
                point.score = 0.01
            elif words:
                point.score = sum(math.log1p(counter[w]) for w in set(words)) / math.sqrt(
                    max(point.words, 1)
                )


def _lower_words(topics: list[Topic]) -> set[str]:
    lower: set[str] = set()
    for topic in topics:
        for word in tokens(topic.text):
            if word[:1].islower():
                lower.add(word.lower())
    return lower


def _name_words(topics: list[Topic]) -> set[str]:
    """Words written with a capital inside a sentence ("Flake8", "Guido"): maybe names."""
    names: set[str] = set()
    texts = (t for topic in topics for p in topic.points for t in [p.text, *p.items])
    for sentence in (s for text in texts for s in split_sentences(text)):
        words = tokens(sentence)
        names.update(w.lower() for w in words[1:] if w[:1].isupper())
    return names


def _kind(title: str | None, position: int, count: int) -> str:
    name = (title or "").strip().lower().rstrip(".!?:")
    if name in INTRO_TITLES or (position == 0 and not title):
        return "intro"
    if name in CLOSING_TITLES and position == count - 1 and position > 0:
        return "closing"
    return "topic"


def sentence_case(title: str, lower_words: set[str]) -> str:
    """ "What's a Task Queue?" -> "What's a task queue?": capitals kept only for names
    and acronyms (words the notes never write in lower case)."""
    words = title.split()
    out = []
    for index, word in enumerate(words):
        bare = re.sub(r"[^\w'-]", "", word)
        plain = bare[:1].isupper() and bare[1:].islower()
        if index and plain and bare.lower() in lower_words:
            word = word[:1].lower() + word[1:]
        out.append(word)
    return " ".join(out)


def _title(doc: Document, topics: list[Topic], lower: set[str]) -> str:
    """The notes' own title, else their first heading, else the subject of their opening
    sentence: never a phrase glued from two headings."""
    for candidate in (doc.title, *(t.title for t in topics)):
        if candidate:
            return sentence_case(candidate, lower)
    first = next((p.text for t in topics for p in t.points if p.kind == "sentence"), "")
    index = PhraseIndex([first])
    phrases = index.key_phrases(first, limit=1)
    if phrases:
        return phrases[0].text[:1].upper() + phrases[0].text[1:]
    return "Your notes"
