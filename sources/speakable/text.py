"""Inline clean-up shared by every format: what remains of markup in a run of text."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>()\[\]{}`'\"]+", re.I)
_BARE_SCHEME = re.compile(r"\b(https?|ftp)://")
_EMAIL = re.compile(r"\b[\w.+-]+@([\w-]+\.)+[a-z]{2,}\b", re.I)
_FOOTNOTE = re.compile(r"\[\^[^\]]*\]|\[\d{1,3}\](?!\()|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\s*\((?:#|gh-|GH-)\d+\)")
_LEFTOVER_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(?<!\w)(\*\*|__|~~|\*|_)(?=\S)(.+?)(?<=\S)\1(?!\w)")
_MARKUP_RUNS = re.compile(r"`+|\*\*+|~~+|\|[-:+|=\s]*\||[-=+]{4,}|<!--|-->|\[\[|\]\]|::+(?=\s|$)")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>\n]*>")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])(?=\s|$)")
_UNSPOKEN = {"So", "Cc", "Co", "Cs", "Cf", "Mn"}  # pictographs, controls, joiners, selectors
_EMPTY_BRACKETS = re.compile(r"\s*[(\[]\s*(?:(?:e\.g\.|i\.e\.|see|like)\s*)?[,;:]?\s*[)\]]")
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu"}


def site_name(url: str) -> str:
    """What one says for a link: its site, "github.com", "python.org", "bbc.co.uk"."""
    if url.lower().startswith("www."):
        url = "http://" + url
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    labels = host.split(".")
    if len(labels) > 2:
        keep = 3 if labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
        labels = labels[-keep:]
    return ".".join(labels)


def _url_to_site(match: re.Match) -> str:
    raw = match.group(0)
    url = raw.rstrip(".,;:!?")
    return site_name(url) + raw[len(url) :]


CODE_GAP = "\ufffc"  # where inline code was left out
# "returned by `client()`;" -> "returned by this;": a gap that ends a clause needs a word.
_GAP_AT_CLAUSE_END = re.compile(r"(?<=\w)\s*\ufffc(?=\s*(?:[.,;:!?)]|$))")


def clean_text(text: str) -> str:
    """Plain speakable text from a run of inline text that may still hold markup."""
    text = _GAP_AT_CLAUSE_END.sub(" this", text)
    text = text.replace(CODE_GAP, " ")
    text = " ".join(text.split())  # before dropping control characters: newlines are spaces
    text = _HTML_TAG.sub(" ", text)
    text = _LEFTOVER_LINK.sub(r"\1", text)
    text = _URL.sub(_url_to_site, text)
    text = _BARE_SCHEME.sub(lambda m: m.group(1).upper(), text)  # "for http:// URLs"
    text = _EMAIL.sub(lambda m: m.group(0).replace("@", " at "), text)
    text = _FOOTNOTE.sub("", text)
    for _ in range(2):  # nested emphasis such as ***bold italic***
        text = _EMPHASIS.sub(r"\2", text)
    text = _MARKUP_RUNS.sub(" ", text)
    # Emoji and pictographs read badly in synthetic speech; control characters not at all.
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _UNSPOKEN)
    text = text.replace("\\", "").replace("|", ", ")
    text = " ".join(text.split())
    text = _EMPTY_BRACKETS.sub("", text)  # "(e.g. )" once its inline code is gone
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return re.sub(r"(^[,;:.\s]+)|(\s*,\s*,)+", lambda m: "" if m.group(1) else ",", text).strip()


def spoken_series(items: list[str]) -> str:
    """ "a, b and c": how a list is said."""
    items = [item.strip() for item in items if item.strip()]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


_NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def number_word(count: int) -> str:
    return _NUMBERS[count] if 0 <= count < len(_NUMBERS) else str(count)


def code_note(language: str = "") -> str:
    """What replaces a code block: the listener hears that there is code, not the code."""
    language = language.strip().split()[0].lower() if language.strip() else ""
    names = {
        "py": "Python",
        "python": "Python",
        "python3": "Python",
        "pycon": "Python",
        "js": "JavaScript",
        "javascript": "JavaScript",
        "ts": "TypeScript",
        "typescript": "TypeScript",
        "bash": "shell",
        "sh": "shell",
        "shell": "shell",
        "console": "shell",
        "shell-session": "shell",
        "toml": "TOML",
        "yaml": "YAML",
        "json": "JSON",
        "sql": "SQL",
        "go": "Go",
        "rust": "Rust",
        "java": "Java",
    }
    kind = names.get(language)
    return (
        f"The notes show a short {kind} example here."
        if kind
        else ("The notes show a short code example here.")
    )


_CODE_SIGNALS = re.compile(
    r"[{};=$]|\w\(|\)\s*:|->|=>|>>>|\w\.\w+\(|\w\["
    r"|^\s*(?:import|from \S+ import|def|class|async def)\b"
)
_WORDS = re.compile(r"\b[A-Za-z]{2,}\b")


def looks_like_code(text: str) -> bool:
    """A span or a line that is code rather than words: `for s in tomllib.loads(...)`."""
    signals = len(_CODE_SIGNALS.findall(text))
    return signals > 0 and signals * 4 >= len(_WORDS.findall(text))
