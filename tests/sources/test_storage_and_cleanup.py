"""Where uploads live (local files or S3, under the user's prefix), that they leave with
their source and with the cleanup schedule, and the upload route's own body limit under
the ASGI server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from sources import services
from sources.models import Source, SourceStatus, SourceType
from tests.e2e.test_generation import sign_up
from tests.ops.conftest import BUCKET
from tests.sources import documents as docs
from tests.sources.test_api import upload


@pytest.fixture(scope="module")
def text() -> docs.Text:
    return docs.real_text()


def test_on_s3_an_upload_lives_under_the_users_prefix_and_leaves_with_it(
    owner_client,
    owner,
    s3,
    text,
):
    source = upload(owner_client, "env.docx", docs.make_docx(text)).json()["source"]
    key = f"sources/{owner.id}/{source['id']}/original.docx"
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert listed == [key]

    read = services.source_extract(source_id=source["id"])  # the worker reads it from S3
    assert read.status == SourceStatus.READY, read.error

    owner_client.delete(f"/api/v1/sources/{source['id']}")
    assert s3.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []


def test_on_s3_the_cleanup_removes_files_no_source_points_at(owner, s3):
    default_storage.save(f"sources/{owner.id}/gone/original.pdf", ContentFile(b"%PDF-1.4 x"))
    report = services.sources_cleanup(now=timezone.now() + timedelta(days=1))
    assert report["orphan_files"] == 1
    assert s3.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []


def test_the_cleanup_fails_stuck_sources_and_removes_only_orphans(owner):
    now = timezone.now()
    stuck = Source.objects.create(
        user=owner, type=SourceType.URL, url="https://a.b/", created_at=now - timedelta(hours=2)
    )
    fresh = Source.objects.create(
        user=owner, type=SourceType.URL, url="https://a.b/", created_at=now + timedelta(minutes=55)
    )
    kept_key = default_storage.save(f"sources/{owner.id}/k/original.txt", ContentFile(b"kept"))
    Source.objects.create(
        user=owner, type=SourceType.FILE, file_key=kept_key, status=SourceStatus.READY
    )
    orphan = default_storage.save(f"sources/{owner.id}/o/original.txt", ContentFile(b"orphan"))

    report = services.sources_cleanup(now=now + timedelta(hours=1))
    assert report == {"failed_pending": 1, "orphan_files": 1}
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == SourceStatus.FAILED and "did not finish" in stuck.error
    assert fresh.status == SourceStatus.PENDING
    assert default_storage.exists(kept_key) and not default_storage.exists(orphan)

    # A file saved moments ago may belong to an upload still committing: not an orphan yet.
    default_storage.save(f"sources/{owner.id}/new/original.txt", ContentFile(b"just now"))
    assert services.sources_cleanup(now=now)["orphan_files"] == 0


def test_a_source_deleted_while_its_task_waits_is_skipped(owner):
    source = Source.objects.create(user=owner, type=SourceType.URL, url="https://a.b/")
    source_id = source.id
    source.delete()
    assert services.source_extract(source_id=source_id) is None


def test_under_asgi_an_upload_may_exceed_the_json_body_limit(
    asgi_server,
    settings,
    text,
):
    settings.API_MAX_BODY_BYTES = 100_000
    settings.API_UPLOAD_MAX_BYTES = 2_000_000
    settings.SOURCE_MAX_BYTES = 1_900_000
    alice = sign_up(asgi_server.url, "alice@example.com")
    url = f"{asgi_server.url}/api/v1/sources"
    pdf = docs.make_pdf(docs.real_text(sections=6)) + b"\n%" + b"p" * 400_000  # ~0.5 MB
    accepted = alice.post(url, files={"file": ("big.pdf", pdf)}, timeout=30)
    assert accepted.status_code == 201, accepted.text
