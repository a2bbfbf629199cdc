"""The OpenAI script writer through the SDK against a loopback /v1/chat/completions."""

from __future__ import annotations

import json

import pytest

from podcasts.providers.base import ProviderError
from podcasts.providers.openai_script import OpenAIScriptWriter, word_budget
from tests.podcasts.providers.fakes import (
    Reply,
    chat_completion,
    openai_error,
    script_json,
    user_prompt,
)

NOTES = "Honeybees dance to share where flowers are. A hive has one queen."
CHAT = "/v1/chat/completions"


def write(**kwargs):
    return OpenAIScriptWriter().write(**{"notes": NOTES, "duration": "short", **kwargs})


def test_it_asks_for_a_strict_json_schema_and_returns_the_lines(openai_server, settings):
    settings.OPENAI_MODEL = "gpt-test"
    script = write()

    assert script.title == "Bees at work"
    assert [line.speaker for line in script.lines[:3]] == ["host", "guest", "host"]
    assert script.lines[1].text.startswith("This is line 1.")
    (request,) = openai_server.to(CHAT)
    body = request.json
    assert body["model"] == "gpt-test"
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]
    assert schema["strict"] is True
    section = schema["schema"]["properties"]["sections"]["items"]
    line = section["properties"]["lines"]["items"]
    assert line["properties"]["speaker"]["enum"] == ["Host", "Guest"]
    assert NOTES in user_prompt(body)


PANEL = [
    {"id": "host", "name": "Maya", "role": "host"},
    {"id": "expert", "name": "Dr. Okafor", "role": "expert"},
    {"id": "guest", "name": "Lena", "role": "guest"},
]


def test_it_writes_for_the_speakers_given_by_name_in_sections(openai_server):
    answer = {
        "title": "Bees, three ways",
        "sections": [
            {
                "title": "The hive",
                "lines": [
                    {"speaker": "Maya", "text": "Dr. Okafor, who runs a hive of 40,000 bees?"},
                    {"speaker": "Dr. Okafor", "text": "The workers do; the queen only lays."},
                ],
            },
            {
                "title": "The dance",
                "lines": [
                    {"speaker": "Lena", "text": "And the waggle dance points at flowers."},
                    {"speaker": "maya", "text": "Thanks, both of you."},
                ],
            },
        ],
    }
    openai_server.write = lambda body: json.dumps(answer)
    script = write(speakers=PANEL)

    assert [line.speaker for line in script.lines] == ["host", "expert", "guest", "host"]
    assert [line.section for line in script.lines] == ["The hive"] * 2 + ["The dance"] * 2
    body = openai_server.to(CHAT)[0].json
    enum = body["response_format"]["json_schema"]["schema"]["properties"]["sections"]["items"][
        "properties"
    ]["lines"]["items"]["properties"]["speaker"]["enum"]
    assert enum == ["Maya", "Dr. Okafor", "Lena"]
    system = body["messages"][0]["content"]
    assert "panel of 3" in system and "Maya" in system and "Dr. Okafor" in system
    # The spoken-episode rules both writers follow.
    assert "45 words" in system and "enumerations" in system
    assert "URLs" in system and "code" in system and "Real questions" in system


def test_a_line_by_someone_not_in_the_cast_is_asked_for_again(openai_server):
    stray = [{"speaker": "Stranger", "text": "Hi."}, {"speaker": "Maya", "text": "Hello."}]
    bad = {"title": "x", "sections": [{"title": "a", "lines": stray}]}
    good = script_json(12)
    answers = iter([bad, good])
    openai_server.write = lambda body: json.dumps(next(answers))
    script = write(speakers=PANEL[:1] + [{"id": "guest", "name": "Lena", "role": "guest"}])
    assert len(script.lines) == 12 and len(openai_server.to(CHAT)) == 2


def test_a_single_narrator_gets_a_monologue_prompt(openai_server):
    monologue = script_json(12)
    for line in monologue["lines"]:
        line["speaker"] = "Ada"
    openai_server.write = lambda body: json.dumps(monologue)
    script = write(speakers=[{"id": "narrator", "name": "Ada", "role": "narrator"}])
    system = openai_server.to(CHAT)[0].json["messages"][0]["content"]
    assert "narrated brief" in system and "Ada speaks alone" in system
    assert {line.speaker for line in script.lines} == {"narrator"}


def test_the_word_budget_follows_the_speaking_rate(openai_server, settings):
    settings.SPEAKING_RATE_WPM = 150
    assert (word_budget("short").low, word_budget("short").high) == (450, 750)
    assert (word_budget("long").low, word_budget("long").high) == (1200, 1500)

    write(duration="long")

    prompt = user_prompt(openai_server.to(CHAT)[0].json)
    assert "1200-1500 words" in prompt and "8-10 minutes" in prompt


def test_language_and_instructions_reach_the_prompt(openai_server):
    write(language="fr", instructions="Keep it playful and focus on the queen.")

    prompt = user_prompt(openai_server.to(CHAT)[0].json)
    assert "French" in prompt and "'fr'" in prompt
    assert "Keep it playful and focus on the queen." in prompt


def test_a_script_far_too_short_is_sent_back_to_be_extended(openai_server):
    answers = iter([script_json(4), script_json(12)])  # ~200 words, then ~600
    openai_server.write = lambda body: json.dumps(next(answers))

    script = write()

    assert len(script.lines) == 12
    first, second = openai_server.to(CHAT)
    messages = second.json["messages"]
    assert messages[2]["role"] == "assistant" and "line 3" in messages[2]["content"]
    assert "too short" in messages[3]["content"] and "Extend" in messages[3]["content"]


def test_a_script_far_too_long_is_sent_back_to_be_tightened(openai_server):
    answers = iter([script_json(40), script_json(12)])
    openai_server.write = lambda body: json.dumps(next(answers))

    assert len(write().lines) == 12
    assert "too long" in openai_server.to(CHAT)[1].json["messages"][3]["content"]


def test_length_fixes_are_bounded_and_the_closest_script_wins(openai_server, settings):
    settings.SCRIPT_MAX_CALLS = 3
    answers = iter([script_json(2), script_json(6), script_json(3)])
    openai_server.write = lambda body: json.dumps(next(answers))

    assert len(write().lines) == 6
    assert len(openai_server.to(CHAT)) == 3


def test_malformed_and_refused_answers_are_asked_for_again(openai_server):
    good = json.dumps(script_json(12))
    replies = iter(
        [
            Reply(200, chat_completion("{not json", model="m")),
            Reply(200, chat_completion(None, model="m", refusal="I can't help with that.")),
            Reply(200, chat_completion(json.dumps({"title": "x", "lines": []}), model="m")),
            Reply(200, chat_completion(good, model="m")),
        ]
    )
    openai_server.respond = lambda request: next(replies)

    assert len(write().lines) == 12
    assert len(openai_server.to(CHAT)) == 4


def test_answers_that_never_become_a_script_fail_for_good_with_the_reason(openai_server):
    openai_server.respond = lambda request: Reply(
        200, chat_completion(None, model="m", refusal="I can't help with that.")
    )

    with pytest.raises(ProviderError) as caught:
        write()

    assert caught.value.permanent
    assert "OpenAI script writer" in caught.value.message
    assert "refused" in caught.value.message and "I can't help with that." in caught.value.message
    assert len(openai_server.to(CHAT)) == 4


def test_a_bad_key_fails_for_good(openai_server, settings):
    settings.OPENAI_API_KEY = "sk-wrong"
    with pytest.raises(ProviderError) as caught:
        write()
    assert caught.value.permanent and "401" in caught.value.message


def test_a_server_error_is_retried_by_the_sdk(openai_server):
    replies = iter([openai_error(500, "boom", None)])
    openai_server.respond = lambda request: next(replies, None)

    assert len(write().lines) == 12
    assert len(openai_server.to(CHAT)) == 2


def test_notes_over_the_budget_are_summarised_in_parts_then_scripted(openai_server, settings):
    settings.SCRIPT_NOTES_BUDGET_CHARS = 1000
    paragraphs = [f"Fact {n}: bees visit flower number {n} on a sunny morning." for n in range(60)]
    notes = "\n\n".join(paragraphs)
    assert len(notes) > 3000

    def model(body):
        if "response_format" in body:
            return json.dumps(script_json(12))
        return f"SUMMARY-{body['messages'][1]['content'].count('Fact')}"

    openai_server.write = model

    OpenAIScriptWriter().write(notes=notes, duration="short")

    *summaries, scripting = [r.json for r in openai_server.to(CHAT)]
    assert len(summaries) >= 4
    seen = "\n".join(user_prompt(body) for body in summaries)
    assert all(paragraph in seen for paragraph in paragraphs), "no note is dropped unread"
    assert all(len(user_prompt(body)) < 1400 for body in summaries)
    assert user_prompt(scripting).count("SUMMARY-") == len(summaries)
