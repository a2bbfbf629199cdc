"""Sources through HTTP with a real Celery worker: every upload or URL ends ready or failed
with its reason, never stuck pending, never a 5xx."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.test_generation import sign_up
from tests.sources import documents as docs
from tests.sources.site import Page, Site

POLL_SECONDS = 120


def poll_source(session: requests.Session, base: str, source_id: str) -> dict:
    deadline = time.monotonic() + POLL_SECONDS
    while time.monotonic() < deadline:
        response = session.get(f"{base}/api/v1/sources/{source_id}", timeout=10)
        assert response.status_code == 200, response.text
        source = response.json()["source"]
        if source["status"] != "pending":
            return source
        time.sleep(0.2)
    pytest.fail(f"source {source_id} still pending after {POLL_SECONDS}s")


def upload(session, base: str, name: str, data: bytes) -> dict:
    response = session.post(f"{base}/api/v1/sources", files={"file": (name, data)}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["source"]


@pytest.fixture(scope="module")
def text() -> docs.Text:
    return docs.real_text()


@pytest.mark.django_db(transaction=True)
def test_uploads_end_ready_or_failed_with_the_reason(live_server, celery_worker, text, settings):
    settings.SOURCE_MAX_UNZIPPED_BYTES = 30_000_000
    base = live_server.url
    alice = sign_up(base, "alice@example.com")
    cases = {
        "ready.docx": (docs.make_docx(text), None),
        "ready.epub": (docs.make_epub(text), None),
        "locked.pdf": (docs.make_pdf(text, password="s3cret"), "encrypted"),
        "scan.pdf": (docs.make_image_pdf(), "no text layer"),
        "broken.docx": (docs.corrupt_docx(text), "damaged"),
        "bomb.docx": (docs.zip_bomb_docx(text, megabytes=40), "zip bomb"),
    }
    created = {name: upload(alice, base, name, data) for name, (data, _) in cases.items()}
    assert all(source["status"] == "pending" for source in created.values())
    for name, (_, reason) in cases.items():
        source = poll_source(alice, base, created[name]["id"])
        if reason is None:
            assert source["status"] == "ready", source
            assert source["title"] == text.title and source["characters"] > 500
            body = alice.get(f"{base}/api/v1/sources/{source['id']}/text", timeout=10).json()
            assert text.sections[1][0] in body["text"]
        else:
            assert source["status"] == "failed", source
            assert reason in source["error"], source["error"]


@pytest.mark.django_db(transaction=True)
def test_a_url_source_is_read_by_the_worker(live_server, celery_worker, text, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True  # the site is on loopback
    site = Site()
    try:
        site.routes["/article"] = Page(docs.make_html_page(text).encode())
        base = live_server.url
        alice = sign_up(base, "alice@example.com")
        response = alice.post(
            f"{base}/api/v1/sources", json={"type": "url", "url": site.url("/article")}, timeout=10
        )
        assert response.status_code == 201, response.text
        source = poll_source(alice, base, response.json()["source"]["id"])
        assert source["status"] == "ready", source
        assert source["title"] == text.title and source["contentType"] == "text/html"

        missing = alice.post(
            f"{base}/api/v1/sources", json={"type": "url", "url": site.url("/gone")}, timeout=10
        ).json()["source"]
        failed = poll_source(alice, base, missing["id"])
        assert failed["status"] == "failed" and "HTTP 404" in failed["error"]
    finally:
        site.close()
