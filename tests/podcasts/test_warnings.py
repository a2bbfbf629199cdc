"""Honest lengths: notes too thin for the duration asked give a shorter episode and a
warning on the podcast, shown by the detail and status endpoints."""

from __future__ import annotations

from podcasts import services
from podcasts.pipeline.generate import podcast_generate

THIN_NOTES = """# Bees

Bees pollinate most flowering crops. A colony has one queen and thousands of workers.
Workers forage within a few kilometres of the hive.
"""


def test_thin_notes_for_a_long_episode_carry_a_warning_through_the_api(owner, owner_client):
    podcast, job = services.podcast_create(
        user=owner, note_content=THIN_NOTES, tts_provider="espeak", duration="LONG"
    )
    podcast_generate(podcast_id=podcast.id, job_id=job.job_id)

    detail = owner_client.get(f"/api/v1/podcasts/{podcast.id}").json()["podcast"]
    assert detail["status"] == "completed"
    assert [w["code"] for w in detail["warnings"]] == ["notes_too_short_for_duration"]
    assert "8-10 minutes" in detail["warnings"][0]["message"]
    assert detail["audioDuration"] < 8 * 60

    status = owner_client.get(f"/api/v1/podcasts/{podcast.id}/status").json()
    assert status["podcast"]["warnings"] == detail["warnings"]


def test_a_podcast_without_problems_has_an_empty_warnings_list(owner, owner_client):
    podcast, _ = services.podcast_create(user=owner, note_content=THIN_NOTES, tts_provider="espeak")
    detail = owner_client.get(f"/api/v1/podcasts/{podcast.id}").json()["podcast"]
    assert detail["warnings"] == []
