"""The script resource and the create fields around it: shape, edits, validation, states,
other users. (Jobs run through HTTP with a real worker in tests/e2e/test_script_review.py.)"""

from __future__ import annotations

import pytest

from billing.models import UsageReservation
from podcasts import services
from podcasts.models import Podcast, PodcastScript, PodcastStatus
from podcasts.pipeline import generate
from podcasts.providers.espeak import EspeakSpeech, distinct_voices
from tests.factories import SAMPLE_NOTES
from tests.podcasts.test_validation import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/podcasts"


def draft(owner_client, **fields) -> Podcast:
    """A podcast created with review, its job run here: status script_ready."""
    body = {"noteContent": SAMPLE_NOTES, "review": True, "ttsProvider": "espeak", **fields}
    response = owner_client.post(URL, body, format="json")
    assert response.status_code == 202, response.content
    podcast = Podcast.objects.get(id=response.json()["podcast"]["id"])
    generate.podcast_generate(podcast_id=podcast.id, job_id=podcast.jobs.get().job_id)
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.SCRIPT_READY
    return podcast


def script_of(client, podcast) -> dict:
    response = client.get(f"{URL}/{podcast.id}/script")
    assert response.status_code == 200, response.content
    return response.json()["script"]


def lines_of(script: dict) -> list[dict]:
    return [line for section in script["sections"] for line in section["lines"]]


def test_a_draft_has_the_issue_s_shape_and_holds_its_quota(owner_client):
    podcast = draft(owner_client)
    assert podcast.progress == 25 and podcast.audio_url is None
    script = script_of(owner_client, podcast)
    assert set(script) == {"title", "speakers", "sections", "version"}
    defaults = EspeakSpeech().default_voices()
    assert script["speakers"] == [
        {"id": "host", "name": "Host", "role": "host", "voice": defaults["host"]},
        {"id": "guest", "name": "Guest", "role": "guest", "voice": defaults["guest"]},
    ]
    for section in script["sections"]:
        assert set(section) == {"id", "title", "lines"}
        for line in section["lines"]:
            assert set(line) == {"id", "speaker", "text"} and line["speaker"] in ("host", "guest")
    assert UsageReservation.objects.filter(podcast_id=podcast.id).exists()


def test_line_edits_insert_and_delete_keep_the_other_ids(owner_client):
    podcast = draft(owner_client)
    before = lines_of(script_of(owner_client, podcast))
    url = f"{URL}/{podcast.id}/script/lines"

    patched = owner_client.patch(f"{url}/{before[1]['id']}", {"text": "  New   words. "}, "json")
    assert patched.json()["line"] == {"id": before[1]["id"], "speaker": before[1]["speaker"],
                                      "text": "New words."}  # fmt: skip
    by_name = owner_client.patch(f"{url}/{before[1]['id']}", {"speaker": "HOST"}, "json")
    assert by_name.json()["line"]["speaker"] == "host"

    after = owner_client.post(url, {"speaker": "guest", "text": "After.", "after": before[0]["id"]},
                              format="json")  # fmt: skip
    assert after.status_code == 201
    first = owner_client.post(url, {"speaker": "host", "text": "First.", "position": 0}, "json")
    last = owner_client.post(url, {"speaker": "host", "text": "Last."}, format="json")
    deleted = owner_client.delete(f"{url}/{before[2]['id']}")
    assert deleted.status_code == 200

    now = lines_of(script_of(owner_client, podcast))
    assert [line["text"] for line in now[:4]] == ["First.", before[0]["text"], "After.",
                                                   "New words."]  # fmt: skip
    assert now[-1]["id"] == last.json()["line"]["id"]
    assert first.json()["line"]["id"] == now[0]["id"]
    assert before[2]["id"] not in {line["id"] for line in now}
    kept = {line["id"] for line in before} - {before[2]["id"]}
    assert kept <= {line["id"] for line in now}
    assert script_of(owner_client, podcast)["version"] == 7  # 1 + six edits


@pytest.mark.parametrize(
    "body, code",
    [
        ({"speaker": "narrator"}, "unknown_speaker"),
        ({"text": "   "}, "empty_line"),
        ({"speaker": 7}, "validation_error"),
        ({"text": 7}, "validation_error"),
    ],
)
def test_a_bad_line_edit_is_a_400(owner_client, body, code):
    podcast = draft(owner_client)
    line = lines_of(script_of(owner_client, podcast))[0]
    response = owner_client.patch(f"{URL}/{podcast.id}/script/lines/{line['id']}", body, "json")
    assert_error(response, 400, code)


def test_the_total_length_is_capped(owner_client, settings):
    podcast = draft(owner_client)
    script = script_of(owner_client, podcast)
    settings.SCRIPT_MAX_CHARS = sum(len(line["text"]) for line in lines_of(script)) + 10
    line = lines_of(script)[0]
    longer = {"text": line["text"] + " " + "x" * 40}
    response = owner_client.patch(f"{URL}/{podcast.id}/script/lines/{line['id']}", longer, "json")
    body = assert_error(response, 400, "script_too_long")
    assert body["limit"] == settings.SCRIPT_MAX_CHARS
    assert script_of(owner_client, podcast) == script, "nothing was saved"


def test_put_replaces_the_script_keeping_ids_it_sends(owner_client):
    podcast = draft(owner_client)
    script = script_of(owner_client, podcast)
    keep = lines_of(script)[0]
    body = {
        "title": "A new title",
        "speakers": [{"name": "Nora", "role": "narrator"}],
        "sections": [
            {"title": "One", "lines": [{"id": keep["id"], "speaker": "Nora", "text": "Hello."}]},
            {"title": "Two", "lines": [{"speaker": "narrator", "text": "Bye."}]},
        ],
    }
    replaced = owner_client.put(f"{URL}/{podcast.id}/script", body, format="json")
    assert replaced.status_code == 200, replaced.content
    new = replaced.json()["script"]
    host_voice = EspeakSpeech().default_voices()["host"]
    assert new["speakers"] == [
        {"id": "narrator", "name": "Nora", "role": "narrator", "voice": host_voice}
    ]
    assert lines_of(new)[0] == {"id": keep["id"], "speaker": "narrator", "text": "Hello."}
    assert lines_of(new)[1]["id"].startswith("ln_") and lines_of(new)[1]["id"] != keep["id"]
    assert [s["title"] for s in new["sections"]] == ["One", "Two"]
    podcast.refresh_from_db()
    assert podcast.speakers == [{"name": "Nora", "role": "narrator", "voice": host_voice}]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"title": "t", "sections": []}, "validation_error"),
        ({"title": "t", "sections": [{"lines": []}]}, "empty_script"),
        ({"title": "t", "sections": [{"lines": [{"speaker": "bob", "text": "x"}]}]},
         "unknown_speaker"),
        ({"title": "t", "sections": [{"lines": [{"speaker": "host", "text": ""}]}]},
         "empty_line"),
        ({"title": "t", "speakers": [{"name": "A", "role": "host", "voice": "nope"}],
          "sections": [{"lines": [{"speaker": "A", "text": "x"}]}]}, "unknown_voice"),
        ({"title": "t", "speakers": [{"name": "A", "role": "boss"}],
          "sections": [{"lines": [{"speaker": "A", "text": "x"}]}]}, "validation_error"),
    ],
)  # fmt: skip
def test_a_bad_script_is_a_400_and_changes_nothing(owner_client, body, code):
    podcast = draft(owner_client)
    before = script_of(owner_client, podcast)
    assert_error(owner_client.put(f"{URL}/{podcast.id}/script", body, format="json"), 400, code)
    assert script_of(owner_client, podcast) == before


def test_a_line_that_does_not_exist_is_a_404(owner_client):
    podcast = draft(owner_client)
    response = owner_client.patch(f"{URL}/{podcast.id}/script/lines/ln_nope", {"text": "x"}, "json")
    assert_error(response, 404, "not_found")


def test_the_last_line_can_not_be_deleted(owner_client):
    podcast = draft(owner_client)
    url = f"{URL}/{podcast.id}/script/lines"
    lines = lines_of(script_of(owner_client, podcast))
    for line in lines[:-1]:
        assert owner_client.delete(f"{url}/{line['id']}").status_code == 200
    assert_error(owner_client.delete(f"{url}/{lines[-1]['id']}"), 400, "empty_script")


def test_while_a_job_runs_the_script_is_read_only(owner_client):
    podcast = draft(owner_client)
    line = lines_of(script_of(owner_client, podcast))[0]
    assert owner_client.post(f"{URL}/{podcast.id}/render").status_code == 202
    for response in (
        owner_client.patch(f"{URL}/{podcast.id}/script/lines/{line['id']}", {"text": "x"}, "json"),
        owner_client.delete(f"{URL}/{podcast.id}/script/lines/{line['id']}"),
        owner_client.post(
            f"{URL}/{podcast.id}/script/lines", {"speaker": "host", "text": "x"}, format="json"
        ),
        owner_client.put(
            f"{URL}/{podcast.id}/script",
            {"title": "t", "sections": [{"lines": [{"speaker": "host", "text": "x"}]}]},
            format="json",
        ),  # fmt: skip
        owner_client.post(f"{URL}/{podcast.id}/render"),
    ):
        assert_error(response, 409, "job_running")


def test_a_podcast_without_a_script_yet_answers_409(owner_client):
    created = owner_client.post(URL, {"noteContent": SAMPLE_NOTES}, format="json").json()
    podcast_id = created["podcast"]["id"]
    assert_error(owner_client.get(f"{URL}/{podcast_id}/script"), 409, "not_ready")
    assert_error(owner_client.post(f"{URL}/{podcast_id}/render"), 409, "job_running")


def test_other_users_see_no_script(owner_client, other_client):
    podcast = draft(owner_client)
    line = lines_of(script_of(owner_client, podcast))[0]
    for response in (
        other_client.get(f"{URL}/{podcast.id}/script"),
        other_client.put(
            f"{URL}/{podcast.id}/script",
            {"title": "t", "sections": [{"lines": [{"speaker": "host", "text": "x"}]}]},
            format="json",
        ),  # fmt: skip
        other_client.patch(f"{URL}/{podcast.id}/script/lines/{line['id']}", {"text": "x"}, "json"),
        other_client.delete(f"{URL}/{podcast.id}/script/lines/{line['id']}"),
        other_client.post(f"{URL}/{podcast.id}/render"),
    ):
        assert_error(response, 404, "not_found")
    assert PodcastScript.objects.get(podcast=podcast).version == 1


def test_deleting_a_draft_releases_its_quota(owner, owner_client):
    podcast = draft(owner_client)
    services.podcast_delete(user=owner, podcast_id=podcast.id)
    assert not UsageReservation.objects.filter(podcast_id=podcast.id).exists()


# --- speakers and language on create -------------------------------------------------------


def test_speakers_are_stored_with_ids_and_distinct_voices(owner_client):
    panel = [
        {"name": "Maya", "role": "host"},
        {"name": "Theo", "role": "guest"},
        {"name": "Ines", "role": "guest"},
        {"name": "Ravi", "role": "expert", "voice": "en-gb+m1"},
    ]
    podcast = draft(owner_client, speakers=panel)
    speakers = script_of(owner_client, podcast)["speakers"]
    assert [(s["id"], s["name"]) for s in speakers] == [
        ("host", "Maya"), ("guest", "Theo"), ("guest2", "Ines"), ("expert", "Ravi")
    ]  # fmt: skip
    assert speakers[3]["voice"] == "en-gb+m1"
    assert len({s["voice"] for s in speakers}) == 4
    detail = owner_client.get(f"{URL}/{podcast.id}").json()["podcast"]
    assert [s["name"] for s in detail["speakers"]] == ["Maya", "Theo", "Ines", "Ravi"]
    assert detail["review"] is True


@pytest.mark.parametrize(
    "speakers",
    [
        [],
        [{"name": f"S{n}", "role": "guest"} for n in range(5)],
        [{"name": "Ann", "role": "host"}, {"name": "ann", "role": "guest"}],
        [{"name": "Ann", "role": "captain"}],
        [{"name": "", "role": "host"}],
        [{"name": "Ann", "role": "host", "voice": "no-such-voice"}],
        "host",
    ],
)
def test_bad_speakers_are_a_400(owner_client, speakers):
    body = {"noteContent": SAMPLE_NOTES, "speakers": speakers}
    response = assert_error(owner_client.post(URL, body, format="json"), 400, "validation_error")
    assert "speakers" in response["details"]


@pytest.mark.parametrize("language", ["es", "de", "fr"])
def test_an_offline_episode_in_spanish_german_or_french_gets_voices_of_that_language(
    owner_client, language
):
    cast = (("Ana", "host"), ("Luis", "guest"), ("Eva", "expert"), ("Marc", "cohost"))
    panel = [{"name": name, "role": role} for name, role in cast]
    podcast = draft(owner_client, language=language, speakers=panel)
    voices = [s["voice"] for s in script_of(owner_client, podcast)["speakers"]]
    assert voices == distinct_voices(language)  # its four distinct speakers, in order
    assert all(v.startswith(f"{language}+") for v in voices)


def test_a_language_the_providers_cannot_speak_is_a_400(owner_client):
    body = {"noteContent": SAMPLE_NOTES, "language": "ja", "ttsProvider": "espeak"}
    response = assert_error(owner_client.post(URL, body, format="json"), 400, "validation_error")
    assert "Japanese" in response["details"]["language"][0]
    assert not Podcast.objects.exists()


def test_the_offline_writer_refuses_languages_it_does_not_write(owner_client, settings):
    settings.OPENAI_TTS_ENABLED = True  # its voices speak every language
    body = {"noteContent": SAMPLE_NOTES, "language": "ja", "ttsProvider": "openai"}
    response = assert_error(owner_client.post(URL, body, format="json"), 400, "validation_error")
    assert "offline script writer" in response["details"]["language"][0]
