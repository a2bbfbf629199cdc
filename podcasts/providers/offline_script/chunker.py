"""Key noun phrases of a passage, for the host's questions and reactions.

A careful rule-based chunker, chosen over the alternatives measured for the offline
writer: spaCy's English pipelines are not published on PyPI by their authors (only
unofficial re-uploads), and NLTK's taggers download their data from a hub at run time,
which a machine without network cannot do. English is a closed-class language at the
joints: determiners, pronouns, prepositions, conjunctions, auxiliaries and the most
common verbs are a few hundred words, so a noun phrase is a run of the other words
between them, cut at punctuation, whose last word is not a verb, adverb or adjective.

A phrase of one word is kept only when it is specific: a name ("RabbitMQ"), a coined
technical word ("multiprocessing", "asyncio"), or a term the passage repeats that is not
a common word. "python" alone or "simple" alone is never a talking point.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

_TOKEN = re.compile(
    r"[A-Za-z][A-Za-z0-9'’+#.\-]*[A-Za-z0-9+#]|[A-Za-z]|[0-9][0-9.,]*|[^\sA-Za-z0-9]"
)

CLOSED = frozenset(
    """a an the this that these those its their our your his her my some any each every no
    all both either neither many much more most less least few several such other another
    same own i you he she it we they me him us them who whom whose which what whatever
    whichever whoever there here where when why how whether if then than because since
    though although while unless until so as of in on at by for with without within into
    onto from to up down out over under about above below after before between among
    through during against across along around behind beyond near off per via upon toward
    towards and or but nor yet also too just only even still already not never always
    often sometimes usually again ever once twice very really quite rather almost
    be is are was were been being am do does did done doing have has had having can could
    will would shall should may might must ought let lets let's it's that's there's
    what's who's i'm you're we're they're isn't aren't wasn't weren't don't doesn't didn't
    can't cannot won't wouldn't shouldn't couldn't etc e.g i.e vs like unlike including
    new""".split()
)

_VERB_BASES = """accept access communicate mediate initiate perform
achieve act add adjust allow apply arrive ask assume attach
avoid become begin believe belong bring build call carry cause change check choose close
come compare compile complete connect consider consist contain continue control convert
copy cost create cut deal decide define deliver depend describe design detect determine
develop die disable discuss display distribute divide download drive drop enable encode
end enjoy ensure enter establish evaluate exist expect explain expose extend fail fall
feel fetch fill find finish fit fix follow force forget form generate get give go grow
handle happen hear help hold ignore implement import improve include increase indicate
inform initiate install integrate intend introduce invoke involve join keep know lack
last lead learn leave lend let lie limit link list listen live load look lose maintain
make manage matter mean measure meet mention merge migrate mind miss monitor move need
note notice obtain occur offer open operate order own parse pass pay perform pick place
plan play point prefer prepare present prevent produce protect provide publish pull push
put raise reach read receive recommend reduce refer reflect register release rely remain
remember remove render replace report represent request require reset resolve respond
rest result retain retry return reuse run save say scale see seek seem select send serve
set settle share show sign sit solve sound speak specify spend split stand start stay
stop store study submit suggest supply support suppose take talk teach tell tend test
think throw track train transfer treat trigger try turn understand update upgrade use
validate vary view wait walk want watch wish work worry wrap write yield""".split()

_IRREGULAR = """am are is was were been being has had did does done went gone got gotten
made makes took taken gave given came comes knew known saw seen said says told thought
found brought built bought held kept left lent lost meant met paid put ran read sent set
shown spoke spoken stood taught understood wrote written""".split()

_COMMON_WORDS = frozenset(
    """thing things way ways time times part parts kind kinds lot lots number numbers
    case cases point points place places example examples fact facts idea ideas people
    person user users world year years day days end side level levels set sets type types
    form forms result results use uses work works need needs group data information
    system systems process processes problem problems question questions answer area
    order course line lines word words name names value values list lists item items
    option options feature features support project projects version versions section
    sections page pages note notes detail details step steps state states change changes
    simple easy fast good great best better small large big high low long short first last
    next main full own new old different important possible available common same whole
    general default basic real free open core key certain able sure little due instead
    python code library libraries tool tools package packages module modules file files
    thanks please yes today now today's""".split()
)
_ADVERB = re.compile(r"ly$")
_POSSESSIVE = re.compile(r"(\w)['’]s\b")  # "the queue's input": two phrases, not one


def _inflections(base: str) -> set[str]:
    stem = base[:-1] if base.endswith("e") else base
    forms = {base, base + "s", base + "es", stem + "ed", stem + "ing", base + "d"}
    if base.endswith("y"):
        forms |= {base[:-1] + "ies", base[:-1] + "ied"}
    if re.search(r"[^aeiou][aeiou][bdgmnprt]$", base):  # stop -> stopped, run -> running
        forms |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    return forms


VERBS = frozenset(form for base in _VERB_BASES for form in _inflections(base)) | frozenset(
    _IRREGULAR
)


@dataclass(frozen=True)
class Phrase:
    text: str  # as written in the notes, e.g. "message broker", "RabbitMQ"
    words: int
    score: float


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _is_word(token: str) -> bool:
    return token[:1].isalpha()


def _breaks(token: str) -> bool:
    lower = token.lower().replace("’", "'")
    return not _is_word(token) or lower in CLOSED or lower in VERBS or bool(_ADVERB.search(lower))


_LEADING_ADJECTIVES = frozenset("simple easy fast good great best better whole full real".split())


def _trim(run: list[str]) -> list[str]:
    """A phrase ends on its head noun: drop trailing -ing/-ed forms and leading praise."""
    while run and run[-1].lower().endswith(("ing", "ed")) and not run[-1][0].isupper():
        run = run[:-1]
    while len(run) > 1 and run[0].lower() in _LEADING_ADJECTIVES:
        run = run[1:]
    return run[-4:]


_BEFORE_VERB = frozenset(
    "to can will would should must may might could cannot don't doesn't didn't won't".split()
)


def noun_phrases(text: str) -> list[str]:
    """Every noun phrase of a passage, as written, in order."""
    phrases: list[str] = []
    run: list[str] = []
    previous = ""
    for token in [*tokens(_POSSESSIVE.sub(r"\1 , ", text)), "."]:
        verb_slot = previous in _BEFORE_VERB  # "to mediate", "can scale"
        previous = token.lower()
        if verb_slot or _breaks(token):
            run = _trim(run)
            if run:
                phrases.append(" ".join(run))
            run = []
        else:
            run.append(token)
    return phrases


def is_specific(phrase: str, repeats: int = 1) -> bool:
    """Whether a phrase can stand alone as a talking point."""
    words = phrase.split()
    if len(words) > 1:
        return not all(w.lower() in _COMMON_WORDS for w in words)
    word = words[0]
    lower = word.lower()
    if lower in _COMMON_WORDS or len(word) < 3:
        return False
    name = word[0].isupper() or any(ch.isdigit() or ch in "-+#." for ch in word[1:])
    mixed = word[1:].lower() != word[1:]  # "RabbitMQ", "iPhone"
    return name or mixed or (repeats >= 3 and len(word) >= 8)


class PhraseIndex:
    """Document-wide counts, so each section's phrases are scored by how much they are
    about that section (frequent there, rarer elsewhere): tf-idf over noun phrases."""

    def __init__(self, sections: list[str]):
        self.section_count = max(len(sections), 1)
        self.spread: Counter = Counter()
        for text in sections:
            self.spread.update({p.lower() for p in noun_phrases(text)})

    def key_phrases(self, text: str, limit: int = 5, avoid: set[str] | None = None) -> list[Phrase]:
        avoid = {a.lower() for a in (avoid or set())}
        found = noun_phrases(text)
        counts = Counter(p.lower() for p in found)
        written = {}
        for phrase in found:
            written.setdefault(phrase.lower(), phrase)
        scored = []
        for lower, count in counts.items():
            phrase = written[lower]
            if lower in avoid or not is_specific(phrase, count):
                continue
            rarity = math.log1p(self.section_count / max(self.spread[lower], 1))
            size = len(phrase.split())
            score = count * (0.5 + rarity) * (1.0 + 0.35 * min(size, 3))
            scored.append(Phrase(phrase, size, score))
        scored.sort(key=lambda p: (-p.score, p.text))
        return scored[:limit]
