"""language, instructions, ttsProvider and voices on the API, and GET /api/v1/voices."""

from __future__ import annotations

import pytest

from podcasts.models import Podcast
from podcasts.providers import registry
from podcasts.providers.base import GUEST, HOST, Voice
from tests.utils import assert_error

URL = "/api/v1/podcasts"
NOTES = "Bees dance to tell each other where flowers are."


def test_language_and_instructions_are_stored_and_shown(owner_client, settings):
    settings.OPENAI_TTS_ENABLED = True  # its voices speak French
    created = owner_client.post(
        URL,
        {
            "noteContent": NOTES,
            "language": "FR",
            "instructions": "  Playful, about queens.  ",
            "ttsProvider": "openai",
        },
        format="json",
    )
    assert created.status_code == 202
    podcast_id = created.json()["podcast"]["id"]
    podcast = Podcast.objects.get(id=podcast_id)
    assert (podcast.language, podcast.instructions) == ("fr", "Playful, about queens.")

    detail = owner_client.get(f"{URL}/{podcast_id}").json()["podcast"]
    assert detail["language"] == "fr" and detail["instructions"] == "Playful, about queens."


def test_language_defaults_to_english_and_instructions_to_nothing(owner_client):
    podcast_id = owner_client.post(URL, {"noteContent": NOTES}, format="json").json()["podcast"][
        "id"
    ]
    assert Podcast.objects.filter(id=podcast_id, language="en", instructions="").exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"language": "xx"}, "language"),
        ({"language": "english"}, "language"),
        ({"language": 7}, "language"),
        ({"instructions": "x" * 1001}, "instructions"),
        ({"instructions": ["be fun"]}, "instructions"),
    ],
)
def test_bad_language_or_instructions_are_400(owner_client, payload, field):
    body = assert_error(
        owner_client.post(URL, {"noteContent": NOTES, **payload}, format="json"),
        400,
        "validation_error",
    )
    assert field in body["details"]
    assert Podcast.objects.count() == 0


def test_instructions_of_exactly_1000_characters_are_accepted(owner_client):
    response = owner_client.post(
        URL, {"noteContent": NOTES, "instructions": "y" * 1000}, format="json"
    )
    assert response.status_code == 202


def test_a_provider_that_is_not_configured_is_400_listing_those_that_are(owner_client, settings):
    settings.UNREAL_SPEECH_API_KEY = ""
    settings.OPENAI_TTS_ENABLED = False
    body = assert_error(
        owner_client.post(URL, {"noteContent": NOTES, "ttsProvider": "unreal"}, format="json"),
        400,
        "validation_error",
    )
    assert "espeak" in body["details"]["ttsProvider"][0]


def test_voice_ids_are_checked_against_the_chosen_provider(owner_client, settings):
    settings.UNREAL_SPEECH_API_KEY = "key"
    ok = owner_client.post(
        URL,
        {"noteContent": NOTES, "ttsProvider": "unreal", "hostVoice": "Luna", "guestVoice": "Zane"},
        format="json",
    )
    assert ok.status_code == 202
    body = assert_error(
        owner_client.post(
            URL,
            {"noteContent": NOTES, "ttsProvider": "unreal", "hostVoice": "coral"},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "Sierra" in body["details"]["hostVoice"][0]


def test_voices_lists_every_configured_provider_with_its_defaults(owner_client, settings):
    settings.UNREAL_SPEECH_API_KEY = "key"
    settings.OPENAI_TTS_ENABLED = True
    settings.TTS_PROVIDER = "unreal"
    settings.FLITE_BINARY = "/nonexistent/flite"  # tests/podcasts/test_flite.py lists it

    body = owner_client.get("/api/v1/voices").json()

    assert body["success"] is True and body["defaultProvider"] == "unreal"
    providers = {p["name"]: p for p in body["providers"]}
    assert set(providers) == {"unreal", "openai", "espeak"}
    assert providers["unreal"]["defaults"] == {"host": "Sierra", "guest": "Noah"}
    unreal_voices = {v["id"]: v for v in providers["unreal"]["voices"]}
    assert len(unreal_voices) == 17
    assert unreal_voices["Zane"] == {
        "id": "Zane",
        "name": "Zane",
        "gender": "male",
        "language": "en",
    }
    assert {"coral", "ash", "nova"} <= {v["id"] for v in providers["openai"]["voices"]}


def test_voices_without_keys_lists_only_the_offline_provider(owner_client, settings):
    settings.UNREAL_SPEECH_API_KEY = ""
    settings.OPENAI_TTS_ENABLED = False
    settings.FLITE_BINARY = "/nonexistent/flite"
    body = owner_client.get("/api/v1/voices").json()
    assert [p["name"] for p in body["providers"]] == ["espeak"]
    assert body["defaultProvider"] == "espeak"


def test_voices_needs_authentication(db, anon_client):
    assert_error(anon_client.get("/api/v1/voices"), 401, "not_authenticated")


class Bilingual:
    name = "bilingual"

    def voices(self):
        return [
            Voice("ann", "Ann", "female", "en"),
            Voice("bob", "Bob", "male", "en"),
            Voice("chloe", "Chloe", "female", "fr"),
            Voice("dora", "Dora", "female", "fr"),
            Voice("emile", "Emile", "male", "fr"),
        ]

    def default_voices(self):
        return {HOST: "ann", GUEST: "bob"}


@pytest.mark.parametrize(
    "language, host, guest", [("en", "ann", "bob"), ("fr", "chloe", "emile"), ("ja", "ann", "bob")]
)
def test_host_and_guest_pick_voices_that_speak_the_language(monkeypatch, language, host, guest):
    monkeypatch.setattr(registry, "speech_provider", lambda name: Bilingual())
    resolve = registry.voice_resolve
    assert resolve(provider_name="bilingual", voice=HOST, language=language) == host
    assert resolve(provider_name="bilingual", voice=GUEST, language=language) == guest
    assert resolve(provider_name="bilingual", voice="dora", language="en") == "dora"
