"""End to end through HTTP with a real Celery worker: a new user uploads a real DOCX and a
real PDF, both are read, an episode is made from them, and not one transcript line carries
markup."""

from __future__ import annotations

import pytest

from tests.e2e.test_generation import poll_until_final, sign_up
from tests.sources import documents as docs
from tests.sources.test_worker import poll_source, upload


@pytest.mark.django_db(transaction=True)
def test_an_episode_from_an_uploaded_docx_and_pdf_speaks_no_markup(live_server, celery_worker):
    base = live_server.url
    alice = sign_up(base, "alice@example.com")
    dotenv = docs.real_text("python_dotenv.md", sections=3)
    redis = docs.real_text("redis.md", sections=3)

    uploaded = [
        upload(alice, base, "dotenv.docx", docs.make_docx(dotenv, core_title="About dotenv")),
        upload(alice, base, "redis.pdf", docs.make_pdf(redis, metadata_title="About Redis")),
    ]
    sources = [poll_source(alice, base, source["id"]) for source in uploaded]
    assert [s["status"] for s in sources] == ["ready", "ready"], sources
    assert [s["title"] for s in sources] == ["About dotenv", "About Redis"]

    created = alice.post(
        f"{base}/api/v1/podcasts",
        json={"sourceIds": [s["id"] for s in sources], "duration": "short"},
        timeout=10,
    )
    assert created.status_code == 202, created.text
    podcast_id = created.json()["podcast"]["id"]
    final = poll_until_final(alice, f"{base}/api/v1/podcasts/{podcast_id}/status")[-1]
    assert final["status"] == "completed", final

    detail = alice.get(f"{base}/api/v1/podcasts/{podcast_id}", timeout=10).json()["podcast"]
    assert [s["id"] for s in detail["sources"]] == [s["id"] for s in sources]
    assert detail["noteContent"].startswith("# About dotenv\n")
    assert "\n# About Redis\n" in detail["noteContent"]

    segments = alice.get(f"{base}/api/v1/podcasts/{podcast_id}/transcript", timeout=10).json()[
        "segments"
    ]
    assert len(segments) >= 8
    leaks = [s["text"] for s in segments if docs.MARKUP.search(s["text"]) or "#" in s["text"]]
    assert leaks == []
    spoken = " ".join(s["text"] for s in segments).lower()
    assert "dotenv" in spoken and "redis" in spoken  # both sources were talked about

    # Another user sees none of it, and cannot build on alice's sources.
    bob = sign_up(base, "bob@example.com")
    assert bob.get(f"{base}/api/v1/sources/{sources[0]['id']}", timeout=10).status_code == 404
    refused = bob.post(
        f"{base}/api/v1/podcasts", json={"sourceIds": [sources[0]["id"]]}, timeout=10
    )
    assert refused.status_code == 404 and sources[0]["id"] in refused.json()["error"]
