"""POST /api/v1/podcasts with sourceIds: the caller's ready sources become the notes, one
section per source, and the podcast records them; anything else is refused saying which."""

from __future__ import annotations

import pytest

from billing.models import UsageRecord
from podcasts.models import Podcast, PodcastStatus
from podcasts.pipeline.generate import podcast_generate
from sources.models import Source, SourceStatus, SourceType
from tests.podcasts.test_validation import assert_error

URL = "/api/v1/podcasts"


def ready_source(user, title: str, text: str) -> Source:
    return Source.objects.create(
        user=user,
        type=SourceType.TEXT,
        title=title,
        status=SourceStatus.READY,
        text=text,
        characters=len(text),
    )


@pytest.fixture
def two_sources(owner):
    return [
        ready_source(owner, "Waggle dance", "# How\n\nBees dance to show where flowers are."),
        ready_source(owner, "Hive life", "A colony has one queen and thousands of workers."),
    ]


def test_a_podcast_is_written_from_the_callers_ready_sources(owner_client, two_sources):
    ids = [s.id for s in two_sources]
    response = owner_client.post(URL, {"sourceIds": ids}, format="json")
    assert response.status_code == 202, response.content
    podcast = Podcast.objects.get(id=response.json()["podcast"]["id"])
    assert podcast.note_content == (
        "# Waggle dance\n\n## How\n\nBees dance to show where flowers are.\n\n"
        "# Hive life\n\nA colony has one queen and thousands of workers."
    )
    detail = owner_client.get(f"{URL}/{podcast.id}").json()["podcast"]
    assert detail["sources"] == [
        {"id": s.id, "type": "text", "title": s.title, "characters": s.characters}
        for s in two_sources
    ]


def test_pasted_notes_come_first_beside_sources(owner_client, two_sources):
    response = owner_client.post(
        URL,
        {"noteContent": "My angle: bees as engineers.", "sourceIds": [two_sources[1].id]},
        format="json",
    )
    podcast = Podcast.objects.get(id=response.json()["podcast"]["id"])
    assert podcast.note_content.startswith("My angle: bees as engineers.\n\n# Hive life\n\n")


def test_a_podcast_from_notes_alone_records_no_sources(owner_client):
    response = owner_client.post(URL, {"noteContent": "Bees dance."}, format="json")
    detail = owner_client.get(f"{URL}/{response.json()['podcast']['id']}").json()["podcast"]
    assert detail["sources"] == []


def test_unknown_and_other_users_sources_are_a_404_naming_them(
    owner_client, other_user, two_sources
):
    theirs = ready_source(other_user, "Theirs", "Not yours to use at all.")
    body = assert_error(
        owner_client.post(
            URL, {"sourceIds": [two_sources[0].id, theirs.id, "nope"]}, format="json"
        ),
        404,
        "source_not_found",
    )
    assert body["sourceIds"] == [theirs.id, "nope"]
    assert theirs.id in body["error"] and "nope" in body["error"]
    assert two_sources[0].id not in body["error"]
    assert not Podcast.objects.exists() and not UsageRecord.objects.exists()


@pytest.mark.parametrize("status", [SourceStatus.PENDING, SourceStatus.FAILED])
def test_sources_not_ready_are_a_409_naming_them(owner_client, owner, two_sources, status):
    waiting = Source.objects.create(
        user=owner, type=SourceType.URL, url="https://a.b/", status=status
    )
    body = assert_error(
        owner_client.post(URL, {"sourceIds": [two_sources[0].id, waiting.id]}, format="json"),
        409,
        "source_not_ready",
    )
    assert body["sourceIds"] == [waiting.id]
    assert f"{waiting.id} ({status.lower()})" in body["error"]
    assert not Podcast.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"sourceIds": []},
        {"sourceIds": "abc"},
        {"sourceIds": [1, 2]},
        {"sourceIds": ["a"] * 2},
        {"sourceIds": [f"s{i}" for i in range(11)]},
    ],
)
def test_malformed_source_lists_are_a_400(owner_client, body):
    response = owner_client.post(URL, body, format="json")
    details = assert_error(response, 400, "validation_error")["details"]
    assert "sourceIds" in details or "noteContent" in details


def test_many_long_sources_stay_within_the_notes_budget(owner_client, owner, settings):
    settings.SOURCE_NOTES_MAX_CHARS = 20_000
    long_text = "Bees dance to show where the flowers are. " * 2000  # 84,000 characters
    ids = [ready_source(owner, f"Part {i}", long_text).id for i in range(10)]
    response = owner_client.post(URL, {"sourceIds": ids}, format="json")
    assert response.status_code == 202, response.content
    notes = Podcast.objects.get(id=response.json()["podcast"]["id"]).note_content
    assert len(notes) <= 20_000 + 10 * 20  # the budget plus the titles
    assert all(f"# Part {i}\n" in notes for i in range(10))  # every source has its share


def test_the_openai_writer_gets_each_source_under_its_title(
    owner_client, two_sources, openai_server, unreal
):
    response = owner_client.post(
        URL, {"sourceIds": [s.id for s in two_sources], "ttsProvider": "unreal"}, format="json"
    )
    podcast = Podcast.objects.get(id=response.json()["podcast"]["id"])
    podcast_generate(podcast_id=podcast.id, job_id=podcast.jobs.get().job_id)
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.COMPLETED, podcast.error

    (chat,) = openai_server.to("/v1/chat/completions")
    prompt = "\n".join(m["content"] for m in chat.json["messages"])
    assert "# Waggle dance\n\n## How\n\nBees dance to show where flowers are." in prompt
    assert "# Hive life\n\nA colony has one queen and thousands of workers." in prompt
