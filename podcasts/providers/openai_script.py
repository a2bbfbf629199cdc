"""Script writing through OpenAI chat completions with a strict JSON schema.

Length: `short` aims at 3-5 minutes of speech and `long` at 8-10, turned into word budgets
with SPEAKING_RATE_WPM. A script outside its budget (with some tolerance) is sent back to
be extended or tightened, and a malformed or refused answer is asked for again, all within
SCRIPT_MAX_CALLS calls; past that the closest valid script wins, and with none the job
fails for good with the reason.

Notes longer than SCRIPT_NOTES_BUDGET_CHARS are cut at paragraph boundaries, each part is
summarised (facts kept), and the script is written from the summaries: nothing is dropped
without the model having read it.
"""

from __future__ import annotations

import json
import logging
import math
from concurrent.futures import ThreadPoolExecutor

import openai
from django.conf import settings

from podcasts.languages import language_name
from podcasts.providers.base import GUEST, HOST, ProviderError, Script, ScriptLine
from podcasts.providers.chunks import text_split
from podcasts.providers.openai_client import openai_client, provider_error
from podnex.durations import WordBudget, word_budget

logger = logging.getLogger(__name__)

SUMMARY_ROUNDS = 3  # summaries of summaries, at most, before giving up on shrinking
SUMMARY_WORKERS = 4

MAX_TURN_WORDS = 45  # a spoken turn; longer explanations are split into several turns


def script_schema(names: list[str]) -> dict:
    """The answer's JSON schema: sections of lines, each spoken by one of `names`."""
    line = {
        "type": "object",
        "properties": {
            "speaker": {"type": "string", "enum": names},
            "text": {"type": "string"},
        },
        "required": ["speaker", "text"],
        "additionalProperties": False,
    }
    section = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "description": "What this part of the episode covers"},
            "lines": {"type": "array", "items": line},
        },
        "required": ["title", "lines"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "title": {"type": "string", "description": "Episode title, at most 12 words"},
            "sections": {"type": "array", "items": section},
        },
        "required": ["title", "sections"],
        "additionalProperties": False,
    }


def response_format(names: list[str]) -> dict:
    return {
        "type": "json_schema",
        "json_schema": {"name": "podcast_script", "strict": True, "schema": script_schema(names)},
    }


DEFAULT_CAST = [
    {"id": HOST, "name": "Host", "role": HOST},
    {"id": GUEST, "name": "Guest", "role": GUEST},
]
ROLE_PARTS = {
    "host": "the host, who guides the conversation, asks the questions and opens and closes "
    "the episode",
    "cohost": "a co-host, who shares the hosting, asks follow-up questions and adds context",
    "guest": "a guest who knows the material and explains it",
    "expert": "an expert who goes into depth, with the details and the caveats",
    "narrator": "the narrator, who tells the material as a story to the listener",
}
# Both writers aim at the same episode: these rules match the offline writer's.
SPOKEN_RULES = f"""Rules for every line:
- Real questions: a question is built on what the current section is actually about (its \
subject and its key ideas, named), and reactions refer back to what was just said. No \
generic filler such as "Tell me more" or "What matters most?".
- Spoken-length turns: at most about {MAX_TURN_WORDS} words per line; split a longer \
explanation into several turns, with the others reacting in between.
- Lists are spoken as enumerations ("three things: first ..., then ..., and finally ...").
- Nothing of markup, code, tables or URLs is read aloud: say what code does instead of \
reading it, summarise tables, version lists and changelogs, name a site instead of \
spelling its address; no markdown, emoji, stage directions, sound effects or speaker \
labels inside the text.
- Do not invent facts that are not in the notes."""


def system_prompt(cast: list[dict], *, named: bool = True) -> str:
    people = "\n".join(f"- {s['name']}: {ROLE_PARTS[s['role']]}" for s in cast)
    if len(cast) == 1:
        shape = (
            f"a narrated brief: {cast[0]['name']} speaks alone, straight to the listener, "
            "and opens and closes the episode"
        )
    elif len(cast) == 2:
        shape = "a conversation between two people"
    else:
        shape = (
            f"a panel of {len(cast)} people: the turn goes to whoever has the most to say "
            "about the point at hand, not round the table in a fixed order, and everyone "
            "speaks in every part of the episode"
        )
    naming = (
        "Speakers may address each other by name."
        if named
        else "The speakers have no personal names: do not address them by name."
    )
    return f"""You write scripts for a podcast, {shape}. The speakers:
{people}
Turn the user's notes into natural, engaging speech that covers their substance \
accurately, in sections that follow the notes' own parts. {naming}

{SPOKEN_RULES}"""


class _BadAnswer(Exception):
    """The model answered, but not with a usable script."""


class OpenAIScriptWriter:
    name = "openai"
    cache_scripts = True  # paid, and different each time: a retried job keeps its script

    def __init__(self) -> None:
        self.model = settings.OPENAI_MODEL
        self.max_calls = settings.SCRIPT_MAX_CALLS
        self.notes_budget = settings.SCRIPT_NOTES_BUDGET_CHARS
        self.what = f"OpenAI script writer ({self.model})"
        self._client: openai.OpenAI | None = None

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            self._client = openai_client()
        return self._client

    def write(
        self,
        *,
        notes: str,
        duration: str,
        title: str | None = None,
        language: str = "en",
        instructions: str = "",
        speakers: list[dict] | None = None,
    ) -> Script:
        """`speakers`: [{id, name, role}] (default: a host and a guest); lines come back
        with the speaker's id."""
        named = any(speaker["name"] for speaker in speakers or [])
        # Speakers without a personal name are called by their id ("Host", "Guest2").
        cast = [{**s, "name": s["name"] or s["id"].title()} for s in speakers or DEFAULT_CAST]
        budget = word_budget(duration)
        notes = self._fit_notes(notes, language=language)
        messages = [
            {"role": "system", "content": system_prompt(cast, named=named)},
            {
                "role": "user",
                "content": _brief(
                    notes, budget, title=title, language=language, instructions=instructions
                ),
            },
        ]
        best: Script | None = None
        problem = ""
        for call in range(1, self.max_calls + 1):
            try:
                script = self._ask_script(messages, cast)
            except _BadAnswer as exc:
                problem = str(exc)
                logger.warning("%s call %d: %s", self.what, call, problem)
                continue
            words = script.word_count()
            if best is None or abs(words - budget.target) < abs(best.word_count() - budget.target):
                best = script
            if budget.accepts(words):
                return script
            logger.info(
                "%s call %d: %d words, wanted %d-%d",
                self.what,
                call,
                words,
                budget.low,
                budget.high,
            )
            messages = [*messages[:2], _assistant(script, cast), _length_fix(words, budget)]
        if best is not None:
            return best
        raise ProviderError(
            f"{self.what} gave no usable script in {self.max_calls} attempts: {problem}",
            permanent=True,
        )

    # --- one call -------------------------------------------------------------------------

    def _complete(self, messages: list[dict], **kwargs):
        try:
            return self.client.chat.completions.create(
                model=self.model, messages=messages, **kwargs
            )
        except openai.OpenAIError as exc:
            raise provider_error(exc, what=self.what) from exc

    def _ask_script(self, messages: list[dict], cast: list[dict]) -> Script:
        completion = self._complete(
            messages, response_format=response_format([s["name"] for s in cast])
        )
        if not completion.choices:
            raise _BadAnswer("the answer had no choices")
        choice = completion.choices[0]
        if choice.message.refusal:
            raise _BadAnswer(f"the model refused: {choice.message.refusal[:200]}")
        if choice.finish_reason == "length":
            raise _BadAnswer("the answer was cut off at the token limit")
        if choice.finish_reason == "content_filter":
            raise _BadAnswer("the answer was stopped by the content filter")
        return script_parse(choice.message.content or "", cast)

    # --- long notes -----------------------------------------------------------------------

    def _fit_notes(self, notes: str, *, language: str) -> str:
        for _ in range(SUMMARY_ROUNDS):
            if len(notes) <= self.notes_budget:
                return notes
            parts = text_split(notes, self.notes_budget)
            # Each summary gets its share of the budget, so together they fit one request.
            words = max(self.notes_budget // (len(parts) * 7), 50)
            jobs = [(part, number, len(parts), words) for number, part in enumerate(parts, 1)]
            with ThreadPoolExecutor(max_workers=SUMMARY_WORKERS) as pool:
                summaries = list(pool.map(lambda job: self._summarise(*job), jobs))
            notes = "\n\n".join(summaries)
        if len(notes) > self.notes_budget:
            raise ProviderError(
                f"{self.what}: the notes could not be summarised to fit one request",
                permanent=True,
            )
        return notes

    def _summarise(self, part: str, number: int, total: int, words: int) -> str:
        completion = self._complete(
            [
                {
                    "role": "system",
                    "content": "You condense notes for a podcast writer. Keep every fact, "
                    "name, number, date and example; drop only repetition and filler. "
                    "Answer with the condensed notes only, in the notes' own language.",
                },
                {
                    "role": "user",
                    "content": f"Part {number} of {total} of the notes. Condense it to at "
                    f"most {words} words.\n\n<notes>\n{part}\n</notes>",
                },
            ]
        )
        choice = completion.choices[0] if completion.choices else None
        text = (choice.message.content or "").strip() if choice else ""
        if not text or (choice and choice.message.refusal):
            raise ProviderError(
                f"{self.what}: no summary for part {number} of {total} of the notes",
                permanent=True,
            )
        return text


def script_parse(content: str, cast: list[dict] | None = None) -> Script:
    """The model's JSON answer as a Script (speaker ids), or _BadAnswer saying what is wrong
    with it. Speakers may be named by name or id; a flat {"title", "lines"} answer (an
    older schema) reads as one section."""
    cast = cast or DEFAULT_CAST
    ids = {}
    for speaker in cast:
        ids[speaker["name"].casefold()] = ids[speaker["id"].casefold()] = speaker["id"]
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise _BadAnswer(f"the answer was not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise _BadAnswer("the answer did not follow the script schema")
    sections = data.get("sections")
    if sections is None and isinstance(data.get("lines"), list):
        sections = [{"title": "", "lines": data["lines"]}]
    if not isinstance(sections, list):
        raise _BadAnswer("the answer did not follow the script schema")
    lines = [line for section in sections for line in _section_lines(section, ids)]
    if len(lines) < 2:
        raise _BadAnswer("the script had fewer than two lines")
    title = data.get("title")
    title = title.strip()[:200] if isinstance(title, str) and title.strip() else "Podcast episode"
    return Script(title=title, lines=lines)


def _section_lines(section, ids: dict[str, str]) -> list[ScriptLine]:
    """One section's non-empty lines, speakers as ids, or _BadAnswer."""
    if not isinstance(section, dict) or not isinstance(section.get("lines"), list):
        raise _BadAnswer("a section was not an object with lines")
    heading = section.get("title") if isinstance(section.get("title"), str) else ""
    lines = []
    for item in section["lines"]:
        if not isinstance(item, dict):
            raise _BadAnswer("a line was not an object")
        speaker, text = item.get("speaker"), item.get("text")
        speaker_id = ids.get(speaker.casefold()) if isinstance(speaker, str) else None
        if speaker_id is None or not isinstance(text, str):
            raise _BadAnswer(f"a line had speaker {speaker!r} or no text")
        if text.strip():
            lines.append(ScriptLine(speaker=speaker_id, text=text.strip(), section=heading.strip()))
    return lines


def _brief(notes: str, budget: WordBudget, *, title, language: str, instructions: str) -> str:
    minutes = (
        f"{budget.low / settings.SPEAKING_RATE_WPM:g}-{budget.high / settings.SPEAKING_RATE_WPM:g}"
    )
    parts = [
        f"Write the episode in {language_name(language)} (ISO 639-1 code {language!r}): "
        "every line, and the title.",
        f"Length: {minutes} minutes of speech, that is {budget.low}-{budget.high} words in "
        f"total (aim for about {budget.target}), spoken at {settings.SPEAKING_RATE_WPM} "
        "words per minute.",
        f"Between {max(math.ceil(budget.target / MAX_TURN_WORDS), 8)} and "
        f"{max(math.ceil(budget.target / 18), 12)} lines, each at most about "
        f"{MAX_TURN_WORDS} words.",
    ]
    if title:
        parts.append(f"The episode is titled {title!r}; return that title.")
    if instructions:
        parts.append(
            "The producer's instructions about tone and focus (follow them unless they "
            f"contradict the rules above):\n<instructions>\n{instructions}\n</instructions>"
        )
    parts.append(f"The notes:\n<notes>\n{notes}\n</notes>")
    return "\n\n".join(parts)


def _assistant(script: Script, cast: list[dict]) -> dict:
    names = {speaker["id"]: speaker["name"] for speaker in cast}
    sections: list[dict] = []
    for line in script.lines:
        if not sections or sections[-1]["title"] != line.section:
            sections.append({"title": line.section, "lines": []})
        sections[-1]["lines"].append({"speaker": names[line.speaker], "text": line.text})
    body = {"title": script.title, "sections": sections}
    return {"role": "assistant", "content": json.dumps(body, ensure_ascii=False)}


def _length_fix(words: int, budget: WordBudget) -> dict:
    if words < budget.low:
        ask = (
            f"That script has {words} words, too short for its {budget.low}-{budget.high} "
            f"word budget. Extend it to about {budget.target} words: keep what works, go "
            "deeper into the notes with more examples and follow-up questions, and return "
            "the complete script."
        )
    else:
        ask = (
            f"That script has {words} words, too long for its {budget.low}-{budget.high} "
            f"word budget. Tighten it to about {budget.target} words and return the "
            "complete script."
        )
    return {"role": "user", "content": ask}
