"""Offline script writer: a host/guest dialogue built from the notes alone, no LLM.

The notes are parsed into sections (markdown headings, or paragraphs when there are none)
of sentences (prose sentences, bullet items, table rows). The host opens by naming the
topic, asks one question per section, phrased from its heading or key phrase, and reacts
between the guest's turns; the guest answers with the notes' own sentences; the host
wraps up by listing the sections covered.

Length: `short` aims at 3-5 minutes and `long` at 8-10 minutes at WORDS_PER_MINUTE, as
far as the notes allow. Nothing is invented or repeated to pad short notes; long notes
are cut down to their most informative sentences (word-frequency scoring), kept in
document order. Output is deterministic: the same notes give the same script.

The connecting phrases are English whatever `language` says; the notes' sentences are
spoken as written. `instructions` are accepted for interface compatibility and ignored:
without a language model there is nothing to steer.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass, field

from podnex import durations

from .base import GUEST, HOST, ProviderError, Script, ScriptLine

MAX_TURN_WORDS = 55  # one guest turn: a few sentences, about 20 seconds of speech
MAX_SENTENCE_WORDS = 45  # longer run-on sentences are cut at clause boundaries
SHORT_ITEM_WORDS = 5  # bullets this short read better joined into one list sentence
MAX_PREVIEW_TOPICS = 4
MAX_SUMMARY_TOPICS = 5
FOLD_WORDS = 20  # a subsection this small joins its parent: "POST /podcasts: creates one."
SHOW_NAME = "PodNex"

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't
    do does doesn't doing don't down during each either else etc even ever every few for
    from further get gets got had hadn't has hasn't have haven't having he he'd he'll he's
    her here here's hers herself him himself his how how's however i i'd i'll i'm i've if
    in into is isn't it it's its itself just let's like made make makes many may me might
    more most much must mustn't my myself need needs no nor not now of off often on once
    one only or other others ought our ours ourselves out over own per rather really same
    say says shall shan't she she'd she'll she's should shouldn't since so some such than
    that that's the their theirs them themselves then there there's these they they'd
    they'll they're they've thing things this those though through thus to too under until
    up upon us use used uses using very via was wasn't we we'd we'll we're we've well were
    weren't what what's when when's where where's whether which while who who's whom whose
    why why's will with within without won't would wouldn't yet you you'd you'll you're
    you've your yours yourself yourselves""".split()
)
INTRO_HEADINGS = frozenset(
    "introduction intro overview background context abstract tl;dr tldr preface".split()
)
CLOSING_HEADINGS = frozenset(
    [
        "conclusion",
        "conclusions",
        "summary",
        "in summary",
        "wrap-up",
        "wrap up",
        "takeaways",
        "key takeaways",
        "final thoughts",
        "closing thoughts",
        "recap",
    ]
)
ABBREVIATIONS = frozenset(
    "e.g i.e etc vs mr mrs ms dr prof st jr sr inc ltd co no fig approx cf al dept est".split()
)
# Words that are usually followed by a noun: a cheap stand-in for part-of-speech tagging,
# so that talking points are things ("aquifers") rather than actions ("recharges").
NOUN_MARKERS = frozenset(
    """the a an this these those its their our your his her my of in into on onto from
    with about some many most each every any more less such""".split()
)
QUESTION_WORDS = ("how", "why", "what", "when", "where", "which", "who", "whether")

# Phrasings, used in turn so that no filler repeats before all have been used.
INTROS = (
    "Welcome to {show}. Today we're digging into {title}.",
    "Hello and welcome to {show}. This episode is all about {title}.",
    "Hi everyone, and welcome to {show}. Our topic today: {title}.",
)
PREVIEWS = (
    "We'll cover {topics}.",
    "On the agenda: {topics}.",
    "We'll talk through {topics}.",
)
GUEST_GREETINGS = ("Thanks for having me.", "Glad to be here.", "Happy to be here.")
GUEST_READY = ("Let's get into it.", "There's a lot to unpack.", "I'm looking forward to this.")
SOLO_ASKS = ("So, what should we know?", "Tell us what it's about.", "Where should we start?")
OVERVIEW_ASKS = (
    "Let's start with the big picture.",
    "Before we get into details, give us the overview.",
    "Set the scene for us first.",
)
FIRST_QUESTIONS = (
    "Let's begin with {topic}. What should listeners know?",
    "First up: {topic}. Where do we start?",
    "Let's kick off with {topic}. What's the idea?",
)
QUESTIONS = (
    "Tell me about {topic}.",
    "What's the story with {topic}?",
    "How would you explain {topic} to someone new to it?",
    "Next up: {topic}. Where do we begin?",
    "What matters most about {topic}?",
    "Can you walk us through {topic}?",
    "Let's turn to {topic}. What stands out?",
    "What do we need to understand about {topic}?",
    "Moving on to {topic}. What's the key idea?",
    "And {topic}? What should we know there?",
)
WH_QUESTIONS = (  # for headings such as "How clouds form" or "Why it matters"
    "Can you explain {topic}?",
    "Walk us through {topic}.",
    "Let's get into {topic}.",
    "I'd like to understand {topic}. Can you help?",
)
PREPOSITION_QUESTIONS = (  # for headings such as "With the frontend" or "In production"
    "And {topic}? What should we know?",
    "What happens {topic}?",
    "How does it work {topic}?",
)
PREPOSITIONS = frozenset(
    "with without for in on at by from to into under over after before".split()
)
OWN_QUESTION_LEADS = ("So,", "Next question:", "Here's one for you:", "")
REACTIONS = (
    "Interesting. And what about {next}?",
    "Okay, {prev}. Where does {next} come in?",
    "Got it. How does {next} fit into this?",
    "That makes sense. Tell me more about {next}.",
    "Right, {prev}. What else?",
    "Hmm, {prev}. Keep going.",
    "I see. And {next}?",
    "So, {prev}. What comes next?",
)
PLAIN_REACTIONS = ("What else?", "Go on.", "Say more about that.", "Anything else there?")
GUEST_OPENERS = ("Sure.", "", "Right.", "", "Good question.", "", "Absolutely.", "")
CONTINUATIONS = ("Also,", "", "On top of that,", "", "Beyond that,", "", "And", "")
WRAP_UPS = (
    "We've covered a lot today: {topics}.",
    "What a tour: {topics}.",
    "That was quite a run through {topics}.",
)
SINGLE_WRAP_UPS = (
    "That's a quick look at {title}.",
    "And that's {title} in a nutshell.",
    "That covers {title}.",
)
FINAL_ASKS = ("Any final thoughts?", "Anything to leave us with?", "Anything else before we wrap?")
SUMMARY_ASKS = (
    "How would you sum it up?",
    "What's the bottom line?",
    "So what's the big takeaway?",
)
GUEST_CLOSINGS = (
    "Just that it's worth coming back to these notes. Thanks for having me.",
    "Only that there's always more to learn. Thanks for having me.",
    "Nothing to add. It was a pleasure, thanks for having me.",
)
SUMMARY_LEADS = ("To sum up,", "In short,", "All in all,")
SIGN_OFFS = (
    "Thanks for listening to {show}. Until next time.",
    "That's it for this episode of {show}. Thanks for listening.",
    "Thanks for tuning in to {show}. See you next time.",
)


# --------------------------------------------------------------------------- parsing


@dataclass
class Sentence:
    text: str
    words: list[str]  # lower-case word tokens
    section: int
    position: int  # document order
    score: float = 0.0


@dataclass
class Section:
    heading: str | None
    level: int
    sentences: list[Sentence] = field(default_factory=list)
    kind: str = "topic"  # "topic" | "intro" | "closing"
    topic: str = ""


@dataclass
class Vocabulary:
    words: Counter  # how often each content word occurs in the notes
    pairs: Counter  # how often each two-word phrase of content words occurs
    spread: Counter  # in how many sections each content word occurs
    nounish: set[str]  # seen right after "the", "of", "in"...: likely nouns
    section_count: int
    proper: set[str]  # written capitalised mid-sentence and never in lower case: names
    lower: set[str]  # seen in lower case at least once


@dataclass
class Notes:
    heading_title: str | None
    sections: list[Section]
    vocabulary: Vocabulary


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)]|[a-zA-Z][.)])\s+(?:\[[ xX]\]\s+)?(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_HRULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]`'\"]+", re.IGNORECASE)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_FOOTNOTE = re.compile(r"\[\^[^\]]*\]")
_HTML_TAG = re.compile(r"<[^>\n]+>")
_EMPHASIS = re.compile(r"(\*\*|__|~~|\*|_)(?=\S)(.+?)(?<=\S)\1")
_CODE = re.compile(r"`+([^`]*)`+")
_NUMBERING = re.compile(
    r"^(?:(?:part|chapter|section|step)\s+)?(?:\d+(?:\.\d+)*|[ivxlc]+)[.):\-–—]?\s+",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"([.!?…]+[\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def _domain(match: re.Match) -> str:
    url = match.group(0).rstrip(".,;:!?")
    trailing = match.group(0)[len(url) :]
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    return host.split("/")[0].split("?")[0].split("#")[0] + trailing


def clean_inline(text: str) -> str:
    """Markdown inline syntax to plain speakable text; raw links shrink to their domain."""
    text = _HTML_TAG.sub(" ", text)
    text = html.unescape(text)  # after removing tags, so "&lt;tag&gt;" survives as text
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_REF_LINK.sub(r"\1", text)
    text = _FOOTNOTE.sub("", text)
    text = _CODE.sub(r"\1", text)
    text = _URL.sub(_domain, text)
    for _ in range(2):  # nested emphasis such as ***bold italic***
        text = _EMPHASIS.sub(r"\2", text)
    # Emoji and pictographs read badly in synthetic speech.
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Cc", "Co"))
    text = text.replace("\\", "")
    text = re.sub(r"\s+([.,;:!?])(?=\s|$)", r"\1", text)  # "with cake ." once the emoji is gone
    return " ".join(text.split())


def _tokens(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def _content(words: list[str]) -> list[str]:
    return [w for w in words if _is_content(w)]


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, not breaking after abbreviations such as "e.g."."""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()].split()
        last = before[-1].lower().rstrip(".") if before else ""
        if match.group(1) == "." and (last in ABBREVIATIONS or re.fullmatch(r"[a-z]", last)):
            continue  # "e.g. Paris" or an initial such as "J. Smith"
        sentences.append(text[start : match.end(1)].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if _WORD.search(s)]


def _finish(text: str) -> str:
    text = text.strip().rstrip(",;:–—-").strip()
    return text if text[-1:] in ".!?…" or text[-2:-1] in ".!?" else text + "."


def _split_long(sentence: str) -> list[str]:
    """Cut a run-on sentence at clause boundaries so no turn is one endless sentence."""
    if len(sentence.split()) <= MAX_SENTENCE_WORDS:
        return [sentence]
    clauses = re.split(r"(?<=[,;:—–])\s+", sentence)
    pieces, current = [], []
    for clause in clauses:
        words = clause.split()
        while len(words) > MAX_SENTENCE_WORDS:  # a clause without any break: hard cut
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(words[:MAX_SENTENCE_WORDS]))
            words = words[MAX_SENTENCE_WORDS:]
        if current and len(current) + len(words) > MAX_SENTENCE_WORDS:
            pieces.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        pieces.append(" ".join(current))
    return [_finish(piece) for piece in pieces if _WORD.search(piece)]


@dataclass
class _Block:
    """A run of lines that reads as one unit: a heading, a paragraph or a list."""

    kind: str  # "heading" | "paragraph" | "list"
    texts: list[str]
    level: int = 0


def _join_lines(lines: list[str]) -> str:
    """Join a paragraph's lines. Markdown treats a line break as a space, but notes often
    put one statement per line ("Current state: ...", "Target state: ..."): a short line
    without end punctuation followed by a capitalised line ends a sentence."""
    text = lines[0]
    for previous, line in zip(lines, lines[1:], strict=False):
        before, after = clean_inline(previous), clean_inline(line)
        label = re.match(r"^[A-Z][\w '-]{0,30}:\s", after)
        open_end = before[-1:] in ".!?:;,([{-–—"
        if not open_end and after[:1].isupper() and (len(before) < 60 or label):
            text += ". " + line
        else:
            text += " " + line
    return text


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|") if cell.strip()]


def _blocks(notes: str) -> list[_Block]:
    blocks: list[_Block] = []
    paragraph: list[str] = []
    items: list[str] = []
    header: list[str] = []
    in_fence = False

    def flush() -> None:
        nonlocal header
        header = []
        if paragraph:
            blocks.append(_Block("paragraph", [_join_lines(paragraph)]))
            paragraph.clear()
        if items:
            blocks.append(_Block("list", list(items)))
            items.clear()

    lines = notes.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, raw in enumerate(lines):
        if _FENCE.match(raw):
            in_fence = not in_fence  # code is not speakable: skip fenced blocks
            flush()
            continue
        line = raw.strip()
        if in_fence or line.startswith("<!--"):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        heading = _HEADING.match(raw)
        if not line or _HRULE.match(line):
            flush()
        elif heading:
            flush()
            blocks.append(_Block("heading", [heading.group(2)], len(heading.group(1))))
        elif _SETEXT.match(following) and not items and not paragraph and len(line) < 120:
            flush()
            level = 1 if following.strip().startswith("=") else 2
            blocks.append(_Block("heading", [line], level))
        elif _SETEXT.match(line) and blocks and blocks[-1].kind == "heading":
            continue  # the underline of a setext heading
        elif _TABLE_RULE.match(line):
            if items and lines[index - 1].strip().startswith("|"):
                header = _cells(lines[index - 1])  # the row above the rule names the columns
                items.pop()
        elif line.startswith("|"):
            cells = _cells(line)
            if header and len(cells) == len(header):
                cells = [f"{name}: {cell}" for name, cell in zip(header, cells, strict=True)]
            items.append(", ".join(cells) + ".")  # a row is a statement, not a list item
        elif bullet := _BULLET.match(raw):
            if paragraph:
                flush()
            items.append(bullet.group(1))
        elif items and raw[:1] in " \t":
            items[-1] += " " + line  # a wrapped bullet
        else:
            if items:
                flush()
            paragraph.append(line.lstrip("> ").strip())
    flush()
    return blocks


def _is_short_item(text: str) -> bool:
    return len(text.split()) <= SHORT_ITEM_WORDS and text[-1:] not in ".!?:"


def _join_list(items: list[str], cases: tuple[set[str], set[str]], mid_sentence: bool) -> str:
    """Short items as one series: "Rain, snow, sleet, and hail"."""
    proper, lower = cases
    # Lists mix words seen elsewhere in lower case ("rain") with words only ever written
    # as items ("Sleet"): if any item is a common word and none is a name, all are.
    firsts = [_WORD.search(item).group(0).lower() for item in items]
    common_list = any(w in lower for w in firsts) and not any(w in proper for w in firsts)
    spoken = []
    for index, item in enumerate(items):
        if index or mid_sentence:
            item = _lower_first(item, lower, force=common_list)
        spoken.append(item)
    return _series(spoken)


def _list_sentences(
    items: list[str], lead: str | None, cases: tuple[set[str], set[str]]
) -> tuple[list[str], bool]:
    """Bullets to sentences; a run of short items becomes one list sentence.

    Returns the sentences and whether `lead` (a sentence ending in ":") was merged in.
    """
    texts = [text for text in map(clean_inline, items) if _WORD.search(text)]
    if lead and len(texts) > 1 and all(map(_is_short_item, texts)):
        # "The main forms are:" + short bullets reads as one sentence.
        return [_finish(f"{lead.rstrip(':').rstrip()}: {_join_list(texts, cases, True)}")], True
    sentences: list[str] = []
    run: list[str] = []
    for text in texts + [""]:  # the empty sentinel closes the last run
        if text and _is_short_item(text):
            run.append(text)
            continue
        if run:
            sentences.append(_finish(_join_list(run, cases, False)))
            run = []
        sentences.extend(_finish(s) for s in split_sentences(text))
    return [_capitalise(s) for s in sentences], False


def _word_cases(blocks: list[_Block]) -> tuple[set[str], set[str]]:
    """Words written capitalised mid-sentence (proper nouns) and words seen in lower case."""
    proper, lower = set(), set()
    texts = [clean_inline(text) for b in blocks if b.kind != "heading" for text in b.texts]
    for sentence in (s for text in texts for s in split_sentences(text)):
        for index, word in enumerate(_WORD.findall(sentence)):
            if word[:1].islower():
                lower.add(word.lower())
            elif index > 0 and word[:1].isupper():
                proper.add(word.lower())
    return proper - lower, lower


def _is_plain_word(word: str) -> bool:
    # Not "I", an acronym ("NASA") or a mixed-case name ("iPhone", "McKinsey").
    return word != "I" and word.upper() != word and word[1:].lower() == word[1:]


def _can_lower(text: str, lower: set[str]) -> bool:
    """Whether the first word can be written in lower case mid-sentence."""
    match = _WORD.match(text)
    if not match or not _is_plain_word(match.group(0)):
        return False
    return match.group(0).lower() in lower or match.group(0).lower() in STOPWORDS


def _lower_first(text: str, lower: set[str], force: bool = False) -> str:
    """Lower-case the first letter for use mid-sentence, unless it may start a name.

    `force` lowers any plain capitalised word (still not "I", acronyms or mixed case).
    """
    match = _WORD.match(text)
    if not match:
        return text
    if not (_can_lower(text, lower) or force and _is_plain_word(match.group(0))):
        return text
    return text[: match.start()] + text[match.start()].lower() + text[match.start() + 1 :]


def _heading_text(raw: str) -> str:
    text = clean_inline(raw).strip().rstrip(":").strip()
    return _NUMBERING.sub("", text).strip() or text


def parse_notes(notes: str) -> Notes:
    """Sections of scored sentences, in document order."""
    blocks = _blocks(notes)
    proper, lower = _word_cases(blocks)
    headings = [b for b in blocks if b.kind == "heading"]
    heading_title = None
    if headings and blocks[0].kind == "heading":
        top = min(b.level for b in headings)
        if blocks[0].level == top and sum(1 for b in headings if b.level == top) == 1:
            heading_title = _heading_text(blocks[0].texts[0])  # the notes' own title
            blocks = blocks[1:]

    sections: list[Section] = [Section(heading=None, level=0)]
    seen: set[str] = set()
    position = 0
    for block in blocks:
        if block.kind == "heading":
            sections.append(Section(heading=_heading_text(block.texts[0]), level=block.level))
            continue
        if not headings and block.kind == "paragraph" and sections[-1].sentences:
            # No headings: each paragraph (with the list it introduces) is a section.
            sections.append(Section(heading=None, level=0))
        current = sections[-1]
        if block.kind == "list":
            previous = current.sentences[-1] if current.sentences else None
            lead = previous.text if previous and previous.text.endswith(":") else None
            texts, merged = _list_sentences(block.texts, lead, (proper, lower))
            if merged:
                current.sentences.pop()
        else:
            texts = split_sentences(clean_inline(block.texts[0]))
        for text in texts:
            text = text if text.endswith(":") else _finish(text)
            for piece in _split_long(text):
                key = " ".join(_tokens(piece))
                if key in seen:
                    continue  # the notes repeat themselves; the episode does not
                seen.add(key)
                sentence = Sentence(piece, _tokens(piece), len(sections) - 1, position)
                current.sentences.append(sentence)
                position += 1

    for section in sections:
        section.sentences = [_settle_lead_in(s) for s in section.sentences if not _is_label(s)]
    sections = [s for s in _fold_small_sections(sections) if s.sentences]
    if not headings:
        sections = _regroup_paragraphs(sections)
    vocabulary = _vocabulary(sections, proper, lower)
    for index, section in enumerate(sections):
        for sentence in section.sentences:
            sentence.section = index
            sentence.score = _score(sentence, vocabulary.words)
        section.kind = _section_kind(section, index)
    return Notes(heading_title, sections, vocabulary)


def _clauses(text: str) -> list[list[str]]:
    """The words of each clause: phrases never straddle punctuation."""
    return [_WORD.findall(clause) for clause in re.split(r"[^\w\s'’-]", text)]


def _is_content(word: str) -> bool:
    return word not in STOPWORDS and len(word) > 2 and not word.isdigit()


def _is_phrase_word(word: str) -> bool:
    # Adverbs ("properly") make odd talking points.
    return _is_content(word) and not word.endswith("ly")


def _head_nouns(words: list[str]) -> list[str]:
    """The last word of each run of content words after a marker: "a closed loop" gives
    "loop", the head of the phrase, rather than the adjective."""
    heads, run, after_marker = [], [], False
    for word in [*words, "."]:
        # A participle after the noun starts a new clause: "a closed loop powered by".
        participle = run and word.endswith(("ed", "ing"))
        if after_marker and _is_content(word) and not participle:
            run.append(word)
            continue
        if run:
            heads.append(run[-1])
        run = []
        after_marker = word in NOUN_MARKERS
    return heads


def _vocabulary(sections: list[Section], proper: set[str], lower: set[str]) -> Vocabulary:
    words: Counter = Counter()
    pairs: Counter = Counter()
    spread: Counter = Counter()
    nounish: set[str] = set()
    for section in sections:
        spread.update({w for x in section.sentences for w in _content(x.words)})
    for sentence in (x for section in sections for x in section.sentences):
        words.update(_content(sentence.words))
        for clause in _clauses(sentence.text):
            lowered = [w.lower().replace("’", "'") for w in clause]
            for first, second in zip(lowered, lowered[1:], strict=False):
                if _is_content(first) and _is_content(second):
                    pairs[(first, second)] += 1
            nounish.update(_head_nouns(lowered))
    return Vocabulary(words, pairs, spread, nounish, len(sections), proper, lower)


def _is_label(sentence: Sentence) -> bool:
    # "Installation:" introduced a code block we skipped; alone it says nothing.
    return sentence.text.endswith(":") and len(sentence.words) <= 3


def _settle_lead_in(sentence: Sentence) -> Sentence:
    if sentence.text.endswith(":"):  # a lead-in whose list was too long to join
        sentence.text = sentence.text[:-1].rstrip() + "."
    return sentence


def _fold_small_sections(sections: list[Section]) -> list[Section]:
    """Fold tiny subsections into the parent section just before them, heading first.

    Reference-style notes ("#### POST /podcasts" + one line each) would otherwise make a
    question per line. Folding only into the section right before keeps document order.
    """
    kept: list[Section] = []
    containers: list[tuple[int, Section]] = []  # open headings: (level, section holding them)
    for section in sections:
        if section.heading is None:
            kept.append(section)
            continue
        while containers and containers[-1][0] >= section.level:
            containers.pop()
        parent = containers[-1][1] if containers else None
        words = sum(len(s.words) for s in section.sentences)
        tiny = section.sentences and words <= FOLD_WORDS and len(section.sentences) <= 2
        if tiny and parent is not None and kept and kept[-1] is parent:
            first = section.sentences[0]
            first.text = f"{section.heading}: {first.text}"
            first.words = _tokens(first.text)
            parent.sentences.extend(section.sentences)
            containers.append((section.level, parent))
        else:
            kept.append(section)
            containers.append((section.level, section))
    return kept


def _regroup_paragraphs(sections: list[Section]) -> list[Section]:
    """Without headings: merge one-line paragraphs, split very long ones into topics."""
    grouped: list[Section] = []
    for section in sections:
        if grouped and len(grouped[-1].sentences) < 2:
            grouped[-1].sentences.extend(section.sentences)
            continue
        chunk = 5
        for start in range(0, len(section.sentences), chunk):
            part = section.sentences[start : start + chunk]
            if grouped and start and len(part) < 2:
                grouped[-1].sentences.extend(part)
            else:
                grouped.append(Section(heading=None, level=0, sentences=list(part)))
    return grouped


def _section_kind(section: Section, index: int) -> str:
    name = (section.heading or "").lower().strip(" .!?")
    if name in INTRO_HEADINGS or (index == 0 and section.heading is None and section.level == 0):
        return "intro"
    if name in CLOSING_HEADINGS and index > 0:
        return "closing"
    return "topic"


def _score(sentence: Sentence, frequencies: Counter) -> float:
    """Informativeness: how central its words are to the notes, mildly favouring length."""
    content = set(_content(sentence.words))
    if not content:
        return 0.0
    weight = sum(math.log1p(frequencies[w]) for w in content)
    return weight / math.sqrt(len(sentence.words))


# --------------------------------------------------------------------------- phrasing


def _phrase_case(phrase: str, vocabulary: Vocabulary) -> str:
    """A heading or phrase written for use mid-sentence: "Runoff and Groundwater" becomes
    "runoff and groundwater", while names and acronyms keep their capitals."""
    words = []
    # In a Title Case Heading capitals carry no meaning; elsewhere they may mark names.
    title_case = all(w[0].isupper() for w in phrase.split() if len(w) > 3 and w[0].isalpha())
    for index, word in enumerate(phrase.split()):
        bare = word.strip(".,;:!?\"'()").lower()
        keep = word.upper() == word or bare in vocabulary.proper or word[1:].lower() != word[1:]
        # A heading's first word is capitalised by position; later ones may be names.
        common = title_case or index == 0 or bare in vocabulary.lower or bare in STOPWORDS
        if word[:1].isupper() and not keep and common:
            word = word[0].lower() + word[1:]
        words.append(word)
    return " ".join(words)


def _key_phrase(
    texts: list[str], vocabulary: Vocabulary, avoid: str = "", boost: dict[str, float] | None = None
) -> str:
    """The phrase that best sums up the texts, as written: a two-word phrase the notes use
    more than once ("water cycle") or a single word, frequent in the texts but not spread
    over every section of the notes (tf-idf)."""
    avoided = set(_tokens(avoid))
    local = Counter(w for text in texts for w in _content(_tokens(text)))
    best, best_score = "", 0.0
    for words in (clause for text in texts for clause in _clauses(text)):
        lowered = [w.lower().replace("’", "'") for w in words]
        for index in range(len(words)):
            for size in (2, 1):
                phrase = lowered[index : index + size]
                if len(phrase) < size or set(phrase) <= avoided:
                    continue
                if not all(map(_is_phrase_word, phrase)):
                    continue
                if size == 2 and vocabulary.pairs[tuple(phrase)] < 2:
                    continue  # a one-off pair is often noun + verb ("water runs")
                # A repeated two-word phrase says more than either word: it wins close calls.
                bonus = 1.15 if size == 2 else 1.0
                score = sum(_weight(w, vocabulary, local) for w in phrase) * bonus
                if boost:
                    score *= max(boost.get(w, 1.0) for w in phrase)
                if score > best_score:
                    best_score = score
                    best = " ".join(words[index : index + size])
    return _phrase_case(best, vocabulary) if best else ""


def _weight(word: str, vocabulary: Vocabulary, local: Counter) -> float:
    """How well a word sums up the texts: repeated there, used across the notes, but
    not in every section; nouns over verbs, and longer (more specific) words over short."""
    rarity = math.log1p(vocabulary.section_count / max(vocabulary.spread[word], 1))
    weight = (local[word] + math.log1p(vocabulary.words[word])) * (0.5 + rarity)
    noun = 1.5 if word in vocabulary.nounish else 1.0
    return weight * noun * (0.6 + 0.05 * min(len(word), 8))


def _with_article(phrase: str) -> str:
    # "Let's start with the cloud", not "with cloud". Plurals and names go without.
    if phrase[:1].isupper() or phrase.endswith("s"):
        return phrase
    return f"the {phrase}"


def assign_topics(notes: Notes, title: str) -> None:
    """Name each section: its heading, else the phrase that sums it up, never reusing a
    topic and avoiding the title's words (the whole episode is about those)."""
    used: list[str] = []
    for section in notes.sections:
        if section.heading:
            # "Storage service (src/storage.ts)": the aside reads badly in a question.
            heading = re.sub(r"\s*\([^)]*\)", "", section.heading).strip() or section.heading
            section.topic = _phrase_case(heading, notes.vocabulary)
        else:
            texts = [s.text for s in section.sentences]
            avoid = " ".join([title, *used])
            phrase = _key_phrase(texts, notes.vocabulary, avoid)
            section.topic = _with_article(phrase) if phrase else "the next point"
        used.append(section.topic)


def _series(items: list[str]) -> str:
    items = [item.rstrip("?") for item in items]  # question headings, listed mid-sentence
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


class _Phrasebook:
    """Hands out phrasings in turn, starting at a notes-dependent offset, so consecutive
    questions differ and different notes do not all open the same way."""

    def __init__(self, seed: int):
        self.seed = seed
        self.used: dict[int, int] = {}

    def pick(self, options: tuple[str, ...]) -> str:
        key = id(options)
        count = self.used.get(key, 0)
        self.used[key] = count + 1
        return options[(self.seed + count) % len(options)]


def _turns(sentences: list[Sentence]) -> list[list[Sentence]]:
    """Group a section's sentences into guest turns of natural length."""
    turns: list[list[Sentence]] = []
    words = 0
    for sentence in sentences:
        size = len(sentence.text.split())
        if turns and words + size <= MAX_TURN_WORDS and len(turns[-1]) < 3:
            turns[-1].append(sentence)
            words += size
        else:
            turns.append([sentence])
            words = size
    return turns


def _question(topic: str, heading: str | None, first: bool, book: _Phrasebook) -> str:
    if heading and heading.rstrip().endswith("?"):
        lead = book.pick(OWN_QUESTION_LEADS)
        return f"{lead} {topic}".strip() if lead else topic[:1].upper() + topic[1:]
    if topic.split()[0].lower() in QUESTION_WORDS:
        return _capitalise(book.pick(WH_QUESTIONS).format(topic=topic))
    if topic.split()[0].lower() in PREPOSITIONS:
        return _capitalise(book.pick(PREPOSITION_QUESTIONS).format(topic=topic))
    options = FIRST_QUESTIONS if first else QUESTIONS
    return _capitalise(book.pick(options).format(topic=topic))


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- composing


class _Composer:
    def __init__(self, notes: Notes, title: str, seed: int):
        self.notes = notes
        self.title = title
        self.seed = seed

    def phrase(self, texts: list[str], avoid: str) -> str:
        # The title's words are everywhere, so they would make bland reactions.
        return _key_phrase(texts, self.notes.vocabulary, f"{avoid} {self.title}")

    def compose(self, chosen: set[int]) -> list[ScriptLine]:
        book = _Phrasebook(self.seed)
        lines: list[ScriptLine] = []
        picked = [
            (section, [s for s in section.sentences if s.position in chosen])
            for section in self.notes.sections
        ]
        picked = [(section, sentences) for section, sentences in picked if sentences]
        intro = [s for section, sentences in picked if section.kind == "intro" for s in sentences]
        closing = [
            s for section, sentences in picked if section.kind == "closing" for s in sentences
        ]
        topics = [(section, sentences) for section, sentences in picked if section.kind == "topic"]

        opening = [book.pick(INTROS).format(show=SHOW_NAME, title=self.title)]
        if len(topics) >= 2:
            names = [section.topic for section, _ in topics[:MAX_PREVIEW_TOPICS]]
            if len(topics) > MAX_PREVIEW_TOPICS:
                names.append("more")
            opening.append(book.pick(PREVIEWS).format(topics=_series(names)))
        if intro:
            opening.append(book.pick(OVERVIEW_ASKS if topics else SOLO_ASKS))
        lines.append(ScriptLine(HOST, " ".join(opening)))

        greeting = book.pick(GUEST_GREETINGS)
        if intro:
            self._answer(lines, intro, greeting, "", book)
        else:
            lines.append(ScriptLine(GUEST, f"{greeting} {book.pick(GUEST_READY)}"))

        for number, (section, sentences) in enumerate(topics):
            question = _question(section.topic, section.heading, number == 0, book)
            if len(topics) == 1 and not section.heading and not intro:
                question = f"Tell me about {self.title}."
            lines.append(ScriptLine(HOST, question))
            self._answer(lines, sentences, book.pick(GUEST_OPENERS), section.topic, book)

        self._wrap_up(lines, [section.topic for section, _ in topics], closing, book)
        return _deduplicate(lines)

    def _answer(
        self,
        lines: list[ScriptLine],
        sentences: list[Sentence],
        opener: str,
        topic: str,
        book: _Phrasebook,
    ) -> None:
        """Guest turns over the sentences, with short host reactions between them."""
        turns = _turns(sentences)
        for index, turn in enumerate(turns):
            texts = [s.text for s in turn]
            if index == 0:
                lead = opener
            else:
                previous = [s.text for s in turns[index - 1]]
                lines.append(ScriptLine(HOST, self._reaction(previous, texts, topic, book)))
                lead = book.pick(CONTINUATIONS)
            if lead and not lead.endswith("."):
                if _can_lower(texts[0], self.notes.vocabulary.lower):
                    texts[0] = _lower_first(texts[0], self.notes.vocabulary.lower)
                else:
                    lead = ""  # "Beyond that, Fog is" and "beyond that, einstein" both jar
            lines.append(ScriptLine(GUEST, " ".join([lead, *texts]).strip()))

    def _reaction(
        self, previous: list[str], upcoming: list[str], topic: str, book: _Phrasebook
    ) -> str:
        before = self.phrase(previous, avoid=topic)
        after = self.phrase(upcoming, avoid=f"{topic} {before}")
        template = book.pick(REACTIONS)
        needs_prev, needs_next = "{prev}" in template, "{next}" in template
        if (needs_prev and not before) or (needs_next and not after):
            return book.pick(PLAIN_REACTIONS)
        return template.format(prev=before, next=after)

    def _wrap_up(
        self,
        lines: list[ScriptLine],
        topics: list[str],
        closing: list[Sentence],
        book: _Phrasebook,
    ) -> None:
        if len(topics) >= 2:
            names = topics[:MAX_SUMMARY_TOPICS] + (["more"] if topics[MAX_SUMMARY_TOPICS:] else [])
            summary = book.pick(WRAP_UPS).format(topics=_series(names))
        else:
            summary = book.pick(SINGLE_WRAP_UPS).format(title=self.title)
        ask = book.pick(SUMMARY_ASKS if closing else FINAL_ASKS)
        lines.append(ScriptLine(HOST, f"{summary} {ask}"))
        if closing:
            self._answer(lines, closing, book.pick(SUMMARY_LEADS), "", book)
            lines[-1] = ScriptLine(GUEST, f"{lines[-1].text} Thanks for having me.")
        else:
            lines.append(ScriptLine(GUEST, book.pick(GUEST_CLOSINGS)))
        lines.append(ScriptLine(HOST, book.pick(SIGN_OFFS).format(show=SHOW_NAME)))


def _deduplicate(lines: list[ScriptLine]) -> list[ScriptLine]:
    """Drop a line that repeats an earlier one; merge a speaker's consecutive lines."""
    seen: set[str] = set()
    kept: list[ScriptLine] = []
    for line in lines:
        if line.text in seen:
            continue
        seen.add(line.text)
        if kept and kept[-1].speaker == line.speaker:
            kept[-1] = ScriptLine(line.speaker, f"{kept[-1].text} {line.text}")
        else:
            kept.append(line)
    return kept


def _priority(notes: Notes) -> list[Sentence]:
    """Sentences in the order they earn a place: each section's best first (so every
    section that fits is represented), then everything else by score."""
    firsts = []
    for section in notes.sections:
        best = max(section.sentences, key=lambda s: (s.score, -s.position))
        firsts.append(best)
    firsts.sort(key=lambda s: (-s.score, s.position))
    chosen = {s.position for s in firsts}
    rest = [s for section in notes.sections for s in section.sentences if s.position not in chosen]
    rest.sort(key=lambda s: (-s.score, s.position))
    return firsts + rest


def _derived_title(notes: Notes) -> str:
    texts = [s.text for section in notes.sections for s in section.sentences]
    # Notes usually open with their subject: "Photosynthesis turns sunlight into...".
    opening = _content(_tokens(texts[0])) if texts else []
    boost = {word: 1.5 for word in opening}
    if opening:
        boost[opening[0]] = 2.0
    phrase = _key_phrase(texts, notes.vocabulary, boost=boost)
    if not phrase:
        return "Your Notes"
    return " ".join(w if w.upper() == w else w[:1].upper() + w[1:] for w in phrase.split())


class OfflineScriptWriter:
    """ScriptWriter that needs no network or model: see the module docstring."""

    name = "offline"

    def write(
        self,
        *,
        notes: str,
        duration: str,
        title: str | None = None,
        language: str = "en",
        instructions: str = "",
    ) -> Script:
        try:
            budget = durations.word_budget(duration)
        except ValueError as error:
            raise ProviderError(str(error), permanent=True) from error
        target = (budget.low, budget.high)
        parsed = parse_notes(notes or "")
        if not parsed.sections:
            raise ProviderError("The notes contain no text to talk about", permanent=True)
        title = clean_inline(title or "") or parsed.heading_title or _derived_title(parsed)
        assign_topics(parsed, title)
        composer = _Composer(parsed, title, seed=zlib.crc32(notes.encode("utf-8")))
        lines = _fit(composer, _priority(parsed), target)
        return Script(title=title, lines=lines)


def _fit(
    composer: _Composer, priority: list[Sentence], target: tuple[int, int]
) -> list[ScriptLine]:
    """The script using as many top sentences as fit, aiming at 3/4 of the target range.

    Words grow with each sentence added, so a binary search finds the largest prefix of
    the priority list that fits; with short notes everything fits and the episode is
    simply shorter.
    """
    low, high = target
    aim = low + (high - low) * 3 // 4

    def words(count: int) -> tuple[int, list[ScriptLine]]:
        lines = composer.compose({s.position for s in priority[:count]})
        return sum(len(line.text.split()) for line in lines), lines

    total, lines = words(len(priority))
    if total <= aim:
        return lines
    best_lines = words(1)[1]  # at least one sentence, however long
    lo, hi = 1, len(priority)
    while lo < hi:
        middle = (lo + hi + 1) // 2
        count, candidate = words(middle)
        if count <= aim:
            lo, best_lines = middle, candidate
        else:
            hi = middle - 1
    return best_lines
