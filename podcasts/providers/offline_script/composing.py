"""The outline's chosen points as an episode: who says what, and the words around them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from podcasts.providers.base import GUEST, HOST, ScriptLine

from .chunker import PhraseIndex
from .parsing import MAX_TURN_WORDS, Outline, Point, Topic, sentence_case
from .phrases import Phrasebook, fill

ROLES = ("host", "cohost", "guest", "expert", "narrator")
ASKING_ROLES = ("host", "cohost", "narrator")
MAX_PREVIEW = 3
MAX_CODE_NOTES = 2  # "there's a code sample in the notes" at most this often an episode
_QUESTION_WORDS = ("how", "why", "what", "when", "where", "which", "who")


@dataclass(frozen=True)
class Speaker:
    id: str
    name: str
    role: str


def cast(speakers: list[dict] | None) -> list[Speaker]:
    """1-4 speakers with ids; the default is a host and a guest with the ids "host" and
    "guest" (the voices the pipeline knows)."""
    if not speakers:
        return [Speaker(HOST, "", "host"), Speaker(GUEST, "", "guest")]
    cast_list: list[Speaker] = []
    for index, entry in enumerate(speakers[:4]):
        role = str(entry.get("role") or ("host" if index == 0 else "guest")).lower()
        role = role if role in ROLES else "guest"
        taken = {s.id for s in cast_list}
        sid = str(entry.get("id") or (role if role not in taken else f"{role}{index + 1}"))
        cast_list.append(Speaker(sid, str(entry.get("name") or "").strip(), role))
    return cast_list


@dataclass
class Plan:
    """The episode's lines and, per line, the topic it belongs to (-1: opening/closing)."""

    lines: list[ScriptLine] = field(default_factory=list)
    topics: list[int] = field(default_factory=list)
    template_uses: dict[str, int] = field(default_factory=dict)  # "key: template" -> uses

    def say(self, speaker: Speaker, text: str, topic: int = -1) -> None:
        text = " ".join(text.split())
        if text:
            self.lines.append(ScriptLine(speaker.id, text))
            self.topics.append(topic)


class Composer:
    def __init__(self, outline: Outline, speakers: list[Speaker], book: Phrasebook):
        self.outline = outline
        self.speakers = speakers
        self.book = book
        self.table = book.table
        askers = [s for s in speakers if s.role in ASKING_ROLES]
        self.host = askers[0] if askers else speakers[0]
        self.others = [s for s in speakers if s is not self.host]
        self.index = PhraseIndex([t.text for t in outline.topics])
        self.said_phrases: set[str] = set()
        self.code_notes = 0
        self.last_answerer: Speaker | None = None
        self.answers: dict[str, int] = {}  # topics answered, per speaker id

    # ------------------------------------------------------------------ episode

    def compose(self, chosen: set[int]) -> Plan:
        self.book.uses.clear()
        self.book.keys.clear()
        self.said_phrases.clear()
        self.code_notes = 0
        self.answers.clear()
        self.last_answerer = None
        self.book.random.seed(self.book.seed)
        plan = Plan()
        topics = [
            (number, topic, [p for p in topic.points if p.order in chosen])
            for number, topic in enumerate(self.outline.topics)
        ]
        topics = [(n, t, points) for n, t, points in topics if _speakable(points)]
        if not self.others:
            self._monologue(plan, topics)
        else:
            self._opening(plan, [t for _, t, _ in topics])
            for position, (number, topic, points) in enumerate(topics):
                self._topic(plan, number, topic, points, first=position == 0)
            self._closing(plan, [t for _, t, _ in topics])
        keys = self.book.keys
        plan.template_uses = {f"{keys[t]}: {t}": n for t, n in self.book.uses.items()}
        return plan

    def _monologue(self, plan: Plan, topics: list[tuple[int, Topic, list[Point]]]) -> None:
        """One speaker: a narrated brief, a short signpost before each topic."""
        book, me = self.book, self.host
        plan.say(me, book.pick("mono_open", show=self.table["show"], title=self.outline.title))
        for position, (number, topic, points) in enumerate(topics):
            name = self.topic_name(topic).rstrip("?!.")
            first = self.table["mono_section"][0]
            signpost = fill(first, topic=name) if position == 0 and name else ""
            signpost = signpost or (book.pick("mono_section", topic=name) if name else "")
            turns = self.turns(points)
            if signpost and turns:
                turns[0] = f"{signpost} {turns[0]}"
            for turn in turns:
                plan.say(me, turn, number)
        plan.say(me, book.pick("mono_close", title=self.outline.title, show=self.table["show"]))

    def _opening(self, plan: Plan, topics: list[Topic]) -> None:
        book = self.book
        parts = [book.pick("open", show=self.table["show"], title=self.outline.title)]
        titled = [t for t in topics if t.kind == "topic" and t.title and not t.title.endswith("?")]
        names = [self.topic_name(t) for t in titled][:MAX_PREVIEW]
        if len(names) >= 2:
            parts.append(book.pick("preview", topics=book.series(names)))
        named = [s.name for s in self.others if s.name]
        if len(named) == 1:
            parts.append(book.pick("introduce_guest", name=named[0]))
        elif len(named) > 1:
            parts.append(book.pick("introduce_panel", names=book.series(named)))
        plan.say(self.host, " ".join(parts))
        plan.say(self.others[0], book.pick("greet"))
        if len(self.others) > 2:
            plan.say(self.others[-1], book.pick("greet"))

    def _closing(self, plan: Plan, topics: list[Topic]) -> None:
        book = self.book
        names = [self.topic_name(t) for t in topics if t.kind == "topic"][:MAX_PREVIEW]
        if len(names) >= 2:
            wrap = book.pick("wrap", topics=book.series(names))
        else:
            wrap = book.pick("wrap_single", title=self.outline.title)
        closer = self._answerer(None)
        plan.say(self.host, f"{wrap} {book.pick('last_word_ask')}")
        plan.say(closer, book.pick("last_word"))
        plan.say(self.host, book.pick("sign_off", show=self.table["show"]))

    # ------------------------------------------------------------------ topics

    def _topic(
        self, plan: Plan, number: int, topic: Topic, points: list[Point], first: bool
    ) -> None:
        answerer = self._answerer(topic)
        question = self.question(topic, first)
        changed = answerer is not self.last_answerer
        if len(self.others) > 1 and answerer.name and question and changed:
            question = self._addressed(answerer.name, question)
        segue = self.book.pick("segue") if not first and self.book.random.random() < 0.3 else ""
        if question:
            plan.say(self._asker(), f"{segue} {question}".strip(), number)
        turns = self.turns(points)
        previous = ""
        for index, turn in enumerate(turns):
            if index:
                answerer = self._react(plan, number, previous, answerer)
            lead = self.book.pick("answer_lead") if index == 0 else self.book.pick("continue")
            if self._starts_enumerated(turn):
                lead = ""  # "Also, Fifth, ..." reads wrong
            plan.say(answerer, self._joined(lead, turn), number)
            previous = turn
        self.last_answerer = answerer

    def _react(self, plan: Plan, number: int, said: str, answerer: Speaker) -> Speaker:
        """A listener's reaction to what was just said; in a panel, sometimes a hand-off."""
        others = [s for s in self.others if s is not answerer]
        if others and self.book.random.random() < 0.35:
            nxt = self.book.choice(others)
            hand_off = self.book.pick("hand_off", name=nxt.name) if nxt.name else ""
            if hand_off:
                plan.say(self.host, hand_off, number)
                return nxt
        listener = self._listener(answerer)
        topic = self.outline.topics[number]
        plan.say(listener, self.reaction(said, self.topic_name(topic)), number)
        return answerer

    def _listener(self, answerer: Speaker) -> Speaker:
        cohosts = [s for s in self.others if s.role in ASKING_ROLES and s is not answerer]
        if cohosts and self.book.random.random() < 0.4:
            return self.book.choice(cohosts)
        return self.host

    def _answerer(self, topic: Topic | None) -> Speaker:
        """Who answers: an expert for the meatiest topics, otherwise someone who did not
        just speak, picked at random among them (not a fixed rotation)."""
        candidates = [s for s in self.others if s.role not in ASKING_ROLES] or self.others
        if len(candidates) == 1:
            return candidates[0]
        meaty = topic is not None and len(topic.points) >= 4
        weights = []
        for speaker in candidates:
            weight = 1.0 / (1 + self.answers.get(speaker.id, 0))  # who has said least
            if speaker.role == "expert" and meaty:
                weight *= 2.0
            if speaker is self.last_answerer:
                weight *= 0.5
            weights.append(weight)
        chosen = self.book.random.choices(candidates, weights=weights)[0]
        self.answers[chosen.id] = self.answers.get(chosen.id, 0) + 1
        return chosen

    # ------------------------------------------------------------------ phrasing

    def topic_name(self, topic: Topic) -> str:
        if topic.title:
            return self._mid_sentence(sentence_case(topic.title, self.outline.lower_words))
        return self._mid_sentence(topic.phrases[0]) if topic.phrases else ""

    def question(self, topic: Topic, first: bool) -> str:
        book = self.book
        title = (topic.title or "").strip()
        generic = self.table["generic_questions"].get(title.lower().rstrip(":?!."))
        if title.endswith("?"):
            question = sentence_case(title, self.outline.lower_words)
        elif generic and (asked := book.pick_from("generic", generic)):
            question = asked
        elif title and title.split()[0].lower() in _QUESTION_WORDS:
            question = book.pick("ask_how", topic=self._mid_sentence(title))
        else:
            name = self.topic_name(topic)
            question = book.pick("ask_about", topic=name) if name else book.pick("react_plain")
        overview = self.table["generic_questions"].get("overview")
        if topic.kind == "intro" and not title and overview:
            question = book.pick_from("generic", overview) or question
        if first and question:
            text = book.pick("first_question", question=question) or question
            if self._lowerable(question.split(" ", 1)[0]):  # "To kick us off: can you..."
                text = text.replace(f": {question}", f": {question[:1].lower()}{question[1:]}")
            return text
        return question

    def _addressed(self, name: str, question: str) -> str:
        """ "Tom, what is..." when the question turns to someone who did not just speak."""
        lowered = self._lowerable(question.split(" ", 1)[0])
        head = question[:1].lower() if lowered else question[:1]
        return f"{name}, {head}{question[1:]}"

    def _asker(self) -> Speaker:
        """The host asks; in a panel with a co-host, the co-host takes some questions."""
        cohosts = [s for s in self.others if s.role in ASKING_ROLES]
        if cohosts and self.book.random.random() < 0.3:
            return self.book.choice(cohosts)
        return self.host

    def reaction(self, said: str, topic: str = "") -> str:
        """A reaction that names what the speaker just said, else the topic, else plain."""
        avoid = set(self.said_phrases)
        phrases = [p.text for p in self.index.key_phrases(said, limit=3, avoid=avoid)]
        for phrase in phrases:
            text = self.book.pick("react_phrase", phrase=self._mid_sentence(phrase))
            if text:
                self.said_phrases.add(phrase.lower())
                return text
        if topic:
            text = self.book.pick("react_topic", topic=topic)
            if text:
                return text
        return self.book.pick("react_plain")

    def _mid_sentence(self, phrase: str) -> str:
        """A phrase or title as written mid-sentence: "History of the software" becomes
        "history of the software", "Open Collective" and "Flake8 rules" stay."""
        words = phrase.split()
        first = words[0] if words else ""
        name = len(words) > 1 and words[1][:1].isupper()  # "Open Collective"
        if self._lowerable(first) and not name:
            return phrase[:1].lower() + phrase[1:]
        return phrase

    def _lowerable(self, word: str) -> bool:
        bare = word.rstrip(",.:;!?")
        plain = bool(re.fullmatch(r"[A-Z][a-z']*", bare)) and not re.match(r"I\b|I'", bare)
        return plain and bare.lower() not in self.outline.names

    def _starts_enumerated(self, text: str) -> bool:
        first = text.split(" ", 1)[0].rstrip(",:").lower()
        return first in self.table["ordinals"]

    def _joined(self, lead: str, text: str) -> str:
        """A lead-in ("Also, ") before a sentence, lower-casing its first word unless that
        word may be a name; none before a sentence with its own ("However, ...")."""
        first_word = text.split(" ", 1)[0].rstrip(",").lower()
        if not lead or first_word in _CONNECTIVES:
            return text
        if lead.endswith(", ") or lead.endswith(" ") and not lead.endswith(". "):
            first = text.split(" ", 1)[0]
            if self._lowerable(first) or first.lower() in _COMMON_STARTS:
                text = text[:1].lower() + text[1:]
        return lead + text

    # ------------------------------------------------------------------ turns

    def turns(self, points: list[Point]) -> list[str]:
        """The guest's points as spoken turns of at most about MAX_TURN_WORDS words."""
        turns: list[str] = []
        current: list[str] = []
        for point in points:
            for text in self._point_texts(point):
                size = sum(len(t.split()) for t in current) + len(text.split())
                if current and size > MAX_TURN_WORDS:
                    turns.append(" ".join(current))
                    current = []
                current.append(text)
        if current:
            turns.append(" ".join(current))
        return turns

    def _point_texts(self, point: Point) -> list[str]:
        if point.kind == "code":
            if self.code_notes >= MAX_CODE_NOTES:
                return []
            self.code_notes += 1
            return [self.book.pick("code_note")]
        if point.kind == "list":
            return self._enumeration(point.items)
        return [point.text]

    def _enumeration(self, items: list[str]) -> list[str]:
        """ "Three things: rain, snow and hail." or, for long items, "Three points. First, ..."."""
        book = self.book
        count = book.number(len(items))
        if all(len(i.split()) <= 8 for i in items) and sum(len(i.split()) for i in items) <= 36:
            series = book.series([self._mid_sentence(i) for i in items])
            text = book.pick("enumerate", count=count, items=series)
            return [text or f"{series[:1].upper()}{series[1:]}."]
        intro = book.pick("enumerate_long", count=count)
        ordinals = self.table["ordinals"]
        texts = []
        for index, item in enumerate(items):
            lead = self.table["ordinal_lead"].format(Ordinal=ordinals[index].capitalize())
            texts.append(f"{lead}{self._mid_sentence(item)}.")
        if intro:  # the announcement and the first point in one breath
            texts[0] = f"{intro} {texts[0]}"
        return texts


def _speakable(points: list[Point]) -> bool:
    return any(p.kind != "code" for p in points)


_CONNECTIVES = set(
    """also and but so then however beyond besides plus moreover furthermore additionally
    instead otherwise still yet thus therefore meanwhile finally first second next third
    lastly similarly likewise nevertheless nonetheless though although""".split()
)
_COMMON_STARTS = set(
    """the a an it this that these those there they we you its in on at for with when if
    some many most each every all both one two three four five six seven eight nine ten
    also and but so to by from as once while after before because however often usually""".split()
)
