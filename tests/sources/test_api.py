"""/api/v1/sources through HTTP (DRF's test client): create from text, URL and uploads,
read, list, delete; what is refused; and that other users see nothing."""

from __future__ import annotations

import os

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from sources.models import Source, SourceStatus
from tests.factories import UserFactory
from tests.podcasts.test_validation import assert_error
from tests.sources import documents as docs

URL = "/api/v1/sources"
PROSE = (
    "# Honeybees\n\nHoney bees perform a waggle dance to tell their sisters where flowers "
    "are. The angle of the dance shows the direction relative to the sun, and its length "
    "shows the distance.\n\n```python\nfor bee in hive:\n    bee.dance()\n```\n\nSee "
    "[the article](https://en.wikipedia.org/wiki/Waggle_dance) for more.\n"
)


@pytest.fixture(scope="module")
def text() -> docs.Text:
    return docs.real_text()


def upload(client, name: str, data: bytes, content_type="application/octet-stream", **extra):
    file = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(URL, {"file": file, **extra}, format="multipart")


def stored_files(user) -> list[str]:
    root = default_storage.path(f"sources/{user.id}")
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


def test_pasted_text_is_ready_at_once_and_its_text_is_speakable(owner_client):
    response = owner_client.post(URL, {"type": "text", "text": PROSE}, format="json")
    assert response.status_code == 201, response.content
    source = response.json()["source"]
    assert set(source) >= {"id", "type", "title", "status", "characters", "contentType"}
    assert source["type"] == "text" and source["status"] == "ready"
    assert source["title"] == "Honeybees"
    assert source["contentType"] == "text/markdown"

    text = owner_client.get(f"{URL}/{source['id']}/text").json()
    assert text["success"] is True
    assert "waggle dance" in text["text"]
    for markup in ("```", "bee.dance()", "https://", "]("):
        assert markup not in text["text"]
    assert text["characters"] == len(text["text"]) == source["characters"]


def test_text_formats_and_a_given_title(owner_client):
    html = "<html><body><h1>Dance</h1><p>" + "Bees dance to point at flowers. " * 10 + "</p>"
    response = owner_client.post(
        URL, {"type": "text", "text": html, "format": "html", "title": "Mine"}, format="json"
    )
    source = response.json()["source"]
    assert source["title"] == "Mine" and source["contentType"] == "text/html"
    assert "<p>" not in owner_client.get(f"{URL}/{source['id']}/text").json()["text"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"type": "text"}, "text"),
        ({"type": "url"}, "url"),
        ({"type": "file"}, "type"),
        ({"type": "text", "text": "hi", "format": "docx"}, "format"),
        ({"type": "url", "url": "ftp://example.com/x"}, "url"),
        ({"type": "url", "url": "http://127.0.0.1/admin"}, "url"),
        ({"type": "url", "url": "http://169.254.169.254/latest/meta-data/"}, "url"),
        ({"type": "text", "text": 42}, "text"),
    ],
)
def test_bad_json_bodies_get_400_naming_the_field(owner_client, body, field):
    body = assert_error(owner_client.post(URL, body, format="json"), 400, "validation_error")
    assert field in body["details"]


def test_text_with_too_little_to_say_is_a_400(owner_client):
    body = assert_error(
        owner_client.post(URL, {"type": "text", "text": "```\ncode only\n```"}, format="json"),
        400,
        "validation_error",
    )
    assert "Too little readable text" in body["error"]


def test_a_url_source_is_pending_until_the_worker_reads_it(owner_client):
    response = owner_client.post(
        URL, {"type": "url", "url": "https://example.com/article"}, format="json"
    )
    assert response.status_code == 201
    source = response.json()["source"]
    assert source["type"] == "url" and source["status"] == "pending"
    assert_error(owner_client.get(f"{URL}/{source['id']}/text"), 409, "source_not_ready")


def test_an_upload_is_stored_under_the_users_prefix_and_pending(owner_client, owner, text):
    response = upload(owner_client, "dotenv.docx", docs.make_docx(text), title="Env files")
    assert response.status_code == 201, response.content
    source = response.json()["source"]
    assert source["status"] == "pending" and source["type"] == "file"
    assert source["contentType"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert source["filename"] == "dotenv.docx" and source["title"] == "Env files"
    row = Source.objects.get(id=source["id"])
    assert row.file_key == f"sources/{owner.id}/{row.id}/original.docx"
    assert default_storage.exists(row.file_key)


def test_an_upload_over_the_cap_gets_413_and_nothing_is_stored(owner_client, owner, settings):
    settings.SOURCE_MAX_BYTES = 10_000
    response = upload(owner_client, "big.txt", b"Bees dance. " * 2000)
    body = assert_error(response, 413, "payload_too_large")
    assert body["maxBytes"] == 10_000
    assert not Source.objects.exists() and stored_files(owner) == []


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(owner_client, settings):
    settings.API_UPLOAD_MAX_BYTES = 50_000
    response = upload(owner_client, "big.txt", b"Bees dance. " * 10_000)
    assert_error(response, 413, "payload_too_large")
    # Other routes keep the small JSON limit.
    settings.API_MAX_BODY_BYTES = 2048
    response = owner_client.post("/api/v1/podcasts", {"noteContent": "x" * 5000}, format="json")
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(300), "PNG image"),
        ("notes.txt", bytes(range(256)) * 10, "binary data"),
        ("archive.zip", b"PK\x03\x04" + b"x" * 300, "ZIP archive"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(300), "old Microsoft Office"),
    ],
)
def test_unknown_types_get_415(owner_client, owner, name, data, reason):
    body = assert_error(upload(owner_client, name, data), 415, "unsupported_media_type")
    assert reason in body["error"]
    assert not Source.objects.exists() and stored_files(owner) == []


def test_a_file_whose_name_lies_about_its_type_gets_415(owner_client, text):
    body = assert_error(
        upload(owner_client, "report.pdf", docs.make_docx(text), "application/pdf"),
        415,
        "unsupported_media_type",
    )
    assert "name says a PDF document but the content is a Word document" in body["error"]


def test_the_type_comes_from_the_bytes_when_the_name_says_nothing(owner_client, text):
    response = upload(owner_client, "download", docs.make_pdf(text))
    assert response.json()["source"]["contentType"] == "application/pdf"


def test_list_filters_and_paginates(owner_client, text):
    owner_client.post(URL, {"type": "text", "text": PROSE}, format="json")
    upload(owner_client, "a.docx", docs.make_docx(text))
    everything = owner_client.get(URL).json()
    assert everything["pagination"]["total"] == 2
    assert [s["type"] for s in everything["sources"]] == ["file", "text"]  # newest first
    ready = owner_client.get(URL, {"status": "ready"}).json()["sources"]
    assert [s["type"] for s in ready] == ["text"]
    files = owner_client.get(URL, {"type": "file", "limit": 1}).json()
    assert files["pagination"] == {"page": 1, "limit": 1, "total": 1, "totalPages": 1}
    assert_error(owner_client.get(URL, {"status": "done"}), 400, "validation_error")


def test_delete_removes_the_source_and_its_file(owner_client, owner, text):
    source = upload(owner_client, "a.docx", docs.make_docx(text)).json()["source"]
    key = Source.objects.get(id=source["id"]).file_key
    assert default_storage.exists(key)
    response = owner_client.delete(f"{URL}/{source['id']}")
    assert response.status_code == 200 and response.json()["success"] is True
    assert not default_storage.exists(key)
    assert_error(owner_client.get(f"{URL}/{source['id']}"), 404, "not_found")


def test_other_users_sources_are_404_everywhere(owner_client, other_client, text):
    source = upload(owner_client, "a.docx", docs.make_docx(text)).json()["source"]
    for path in (f"{URL}/{source['id']}", f"{URL}/{source['id']}/text"):
        assert_error(other_client.get(path), 404, "not_found")
    assert_error(other_client.delete(f"{URL}/{source['id']}"), 404, "not_found")
    assert other_client.get(URL).json()["sources"] == []
    assert Source.objects.filter(id=source["id"]).exists()


def test_anonymous_callers_get_401(anon_client):
    assert_error(anon_client.get(URL), 401, "not_authenticated")
    assert_error(
        anon_client.post(URL, {"type": "text", "text": PROSE}, format="json"),
        401,
        "not_authenticated",
    )


def test_a_failed_source_shows_why(owner_client, owner):
    source = Source.objects.create(
        user=owner,
        type="URL",
        url="https://example.com",
        status=SourceStatus.FAILED,
        error="The page was not found (HTTP 404 Not Found)",
    )
    body = owner_client.get(f"{URL}/{source.id}").json()["source"]
    assert body["status"] == "failed" and "HTTP 404" in body["error"]


def test_the_schema_describes_both_ways_of_creating_a_source(anon_client, db):
    response = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    create = schema["paths"]["/api/v1/sources"]["post"]
    content = create["requestBody"]["content"]
    assert set(content) >= {"application/json", "multipart/form-data"}
    assert {"201", "413", "415"} <= set(create["responses"])
    for path in ("/api/v1/sources/{source_id}", "/api/v1/sources/{source_id}/text"):
        assert path in schema["paths"]
    podcast = schema["components"]["schemas"]["PodcastCreateRequest"]["properties"]
    assert podcast["sourceIds"]["maxItems"] == 10


def test_the_admin_lists_sources_with_filters(owner, db, client):
    staff = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    Source.objects.create(user=owner, type="TEXT", title="Bees", status=SourceStatus.READY)
    client.force_login(staff)
    page = client.get("/admin/sources/source/", {"status__exact": "READY", "type__exact": "TEXT"})
    assert page.status_code == 200
    assert b"Bees" in page.content
    assert b"delete_selected" not in page.content  # a bulk delete would leave files behind


def test_creating_sources_has_its_own_burst_limit(owner_client, settings):
    settings.RATE_LIMIT_BURSTS = {**settings.RATE_LIMIT_BURSTS, "source_create": (2, 60)}
    for _ in range(2):
        assert (
            owner_client.post(URL, {"type": "text", "text": PROSE}, format="json").status_code
            == 201
        )
    refused = owner_client.post(URL, {"type": "text", "text": PROSE}, format="json")
    assert_error(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) > 0
    assert owner_client.get(URL).status_code == 200  # reading is not limited by it
