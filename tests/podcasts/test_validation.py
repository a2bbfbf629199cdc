"""Every validation rule of POST /api/v1/podcasts answers 4xx in the contract's error shape."""

import pytest

from podcasts.models import Podcast
from tests.utils import assert_error

URL = "/api/v1/podcasts"
NOTES = "Bees dance to tell each other where flowers are."


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "noteContent"),
        ({"noteContent": ""}, "noteContent"),
        ({"noteContent": "   "}, "noteContent"),
        ({"noteContent": 42}, None),
        ({"noteContent": NOTES, "duration": "medium"}, "duration"),
        ({"noteContent": NOTES, "title": "x" * 201}, "title"),
        ({"noteContent": NOTES, "hostVoice": "no-such-voice"}, "hostVoice"),
        ({"noteContent": NOTES, "guestVoice": "no-such-voice"}, "guestVoice"),
        ({"noteContent": NOTES, "ttsProvider": "nope"}, "ttsProvider"),
        ({"noteContent": NOTES, "webhookUrl": "ftp://example.com/hook"}, "webhookUrl"),
        ({"noteContent": NOTES, "webhookUrl": "javascript:alert(1)"}, "webhookUrl"),
        ({"noteContent": NOTES, "webhookUrl": "not a url"}, "webhookUrl"),
    ],
)
def test_it_rejects_bad_input_with_a_field_error(owner_client, payload, field):
    body = assert_error(owner_client.post(URL, payload, format="json"), 400, "validation_error")
    if field:
        assert field in body["details"]
    assert Podcast.objects.count() == 0


def test_it_rejects_notes_over_the_limit(owner_client, settings):
    too_long = "a" * (settings.MAX_NOTE_CHARS + 1)
    body = assert_error(
        owner_client.post(URL, {"noteContent": too_long}, format="json"), 400, "validation_error"
    )
    assert "noteContent" in body["details"]


def test_it_accepts_notes_exactly_at_the_limit(owner_client, settings):
    response = owner_client.post(URL, {"noteContent": "a" * settings.MAX_NOTE_CHARS}, format="json")
    assert response.status_code == 202


def test_unknown_voice_error_lists_the_voices_that_exist(owner_client):
    body = assert_error(
        owner_client.post(URL, {"noteContent": NOTES, "hostVoice": "zzz"}, format="json"),
        400,
        "validation_error",
    )
    message = body["details"]["hostVoice"][0]
    assert "host" in message and "guest" in message and "en-us" in message


def test_it_rejects_malformed_json(owner_client):
    response = owner_client.post(URL, "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_it_rejects_a_non_json_body(owner_client):
    response = owner_client.post(URL, "noteContent=hi", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_it_requires_authentication(db, anon_client):
    assert_error(
        anon_client.post(URL, {"noteContent": NOTES}, format="json"), 401, "not_authenticated"
    )
    assert_error(anon_client.get(URL), 401, "not_authenticated")


def test_an_invalid_session_token_is_refused(db, anon_client):
    response = anon_client.get(URL, HTTP_X_SESSION_TOKEN="not-a-real-token")
    assert_error(response, 401, "authentication_failed")


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=abc", "limit=0", "limit=101", "status=done", "sort=title", "order=up"],
)
def test_list_rejects_bad_query_parameters(owner_client, query):
    assert_error(owner_client.get(f"{URL}?{query}"), 400, "validation_error")


def test_transcript_rejects_an_unknown_format(owner_client):
    podcast_id = owner_client.post(URL, {"noteContent": NOTES}, format="json").json()["podcast"][
        "id"
    ]
    assert_error(
        owner_client.get(f"{URL}/{podcast_id}/transcript?format=docx"), 400, "validation_error"
    )


def test_unknown_routes_answer_json_404(owner_client):
    response = owner_client.get("/api/v1/nope")
    assert_error(response, 404, "not_found")
