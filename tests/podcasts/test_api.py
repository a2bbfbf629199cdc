"""The /api/v1/podcasts routes: create, list, detail, status, delete, retry, and privacy."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from podcasts.models import JobStatus, Podcast, PodcastJob, PodcastStatus
from tests.factories import SAMPLE_NOTES, PodcastFactory
from tests.utils import assert_error

URL = "/api/v1/podcasts"


def create(client, **extra):
    response = client.post(URL, {"noteContent": SAMPLE_NOTES, **extra}, format="json")
    assert response.status_code == 202, response.content
    return response.json()["podcast"]


def test_create_queues_a_podcast_and_its_job(owner_client, owner, settings):
    created = create(owner_client, duration="long", title="Bees", noteId="note-7")
    assert created["status"] == "queued"
    assert created["progress"] == 0
    assert created["estimatedTime"] == settings.ESTIMATED_TIME_LONG
    podcast = Podcast.objects.get(id=created["id"])
    assert podcast.user == owner
    assert podcast.duration == "LONG" and podcast.title == "Bees" and podcast.note_id == "note-7"
    job = PodcastJob.objects.get(podcast=podcast)
    assert job.job_id == created["jobId"]
    assert job.status == JobStatus.QUEUED


def test_ids_are_opaque_strings_not_sequential_numbers(owner_client):
    first, second = create(owner_client), create(owner_client)
    assert not first["id"].isdigit() and len(first["id"]) >= 20
    assert first["id"] != second["id"]


def test_create_enqueues_the_task_after_commit(
    owner_client, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    from podcasts import tasks

    monkeypatch.setattr(
        tasks.podcast_generate_task,
        "apply_async",
        lambda args, task_id: sent.append((args, task_id)),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = create(owner_client)
    assert sent == []  # nothing reaches the broker before the row is committed
    for callback in callbacks:
        callback()
    assert sent == [([created["id"], created["jobId"]], created["jobId"])]


def test_detail_shows_camel_case_fields_and_lower_case_enums(owner_client):
    created = create(owner_client, title="Bees")
    body = owner_client.get(f"{URL}/{created['id']}").json()
    assert body["success"] is True
    podcast = body["podcast"]
    assert podcast["noteContent"] == SAMPLE_NOTES.strip()
    assert podcast["duration"] == "short" and podcast["status"] == "queued"
    for field in (
        "hostVoice",
        "guestVoice",
        "ttsProvider",
        "audioDuration",
        "createdAt",
        "currentStep",
        "retryCount",
    ):
        assert field in podcast


def test_list_paginates_and_filters_by_status(owner, owner_client):
    for _ in range(3):
        PodcastFactory(user=owner, status=PodcastStatus.COMPLETED, audio_duration=100)
    for _ in range(2):
        PodcastFactory(user=owner, status=PodcastStatus.FAILED)
    PodcastFactory(user=owner, status=PodcastStatus.COMPLETED, deleted_at=timezone.now())

    body = owner_client.get(f"{URL}?limit=2&page=2").json()
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 5, "totalPages": 3}
    assert len(body["podcasts"]) == 2
    assert "noteContent" not in body["podcasts"][0]

    completed = owner_client.get(f"{URL}?status=completed").json()
    assert completed["pagination"]["total"] == 3
    assert {p["status"] for p in completed["podcasts"]} == {"completed"}


def test_list_sorts_by_duration_in_either_order(owner, owner_client):
    for seconds in (300, 100, 200):
        PodcastFactory(user=owner, status=PodcastStatus.COMPLETED, audio_duration=seconds)
    PodcastFactory(user=owner)  # no audio yet: sorts last either way

    asc = owner_client.get(f"{URL}?sort=duration&order=asc").json()["podcasts"]
    desc = owner_client.get(f"{URL}?sort=duration&order=desc").json()["podcasts"]
    assert [p["audioDuration"] for p in asc] == [100, 200, 300, None]
    assert [p["audioDuration"] for p in desc] == [300, 200, 100, None]


def test_list_sorts_by_creation_time(owner, owner_client):
    old = PodcastFactory(user=owner, created_at=timezone.now() - timezone.timedelta(days=1))
    new = PodcastFactory(user=owner)
    ids = [p["id"] for p in owner_client.get(f"{URL}?sort=createdAt&order=asc").json()["podcasts"]]
    assert ids == [old.id, new.id]


def test_status_is_cheap_and_complete(owner_client, django_assert_max_num_queries):
    created = create(owner_client)
    with django_assert_max_num_queries(3), CaptureQueriesContext(connection) as queries:
        body = owner_client.get(f"{URL}/{created['id']}/status").json()
    assert body["podcast"]["status"] == "queued"
    assert body["podcast"]["progress"] == 0
    assert body["podcast"]["warnings"] == []
    # Pollers call this every second or two: one read of the podcast, no deferred column
    # fetched afterwards by a second query.
    podcast_reads = [q["sql"] for q in queries if 'FROM "podcasts_podcast"' in q["sql"]]
    assert len(podcast_reads) == 1, podcast_reads


@pytest.mark.parametrize(
    "method, suffix",
    [
        ("get", ""),
        ("delete", ""),
        ("post", "/retry"),
        ("get", "/status"),
        ("get", "/transcript"),
        ("get", "/download"),
    ],
)
def test_another_users_podcast_is_not_found(owner, other_client, method, suffix):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.FAILED)
    response = getattr(other_client, method)(f"{URL}/{podcast.id}{suffix}")
    assert_error(response, 404, "not_found")
    podcast.refresh_from_db()
    assert podcast.deleted_at is None and podcast.status == PodcastStatus.FAILED


def test_another_users_podcasts_are_not_listed(owner, other_client):
    PodcastFactory(user=owner)
    assert other_client.get(URL).json()["pagination"]["total"] == 0


def test_delete_of_a_queued_podcast_cancels_its_job(owner_client):
    created = create(owner_client)
    response = owner_client.delete(f"{URL}/{created['id']}")
    assert response.status_code == 200 and response.json()["success"] is True
    podcast = Podcast.objects.get(id=created["id"])
    assert podcast.deleted_at is not None
    assert podcast.status == PodcastStatus.CANCELLED
    assert PodcastJob.objects.get(job_id=created["jobId"]).status == JobStatus.CANCELLED
    assert_error(owner_client.get(f"{URL}/{created['id']}"), 404, "not_found")
    assert_error(owner_client.delete(f"{URL}/{created['id']}"), 404, "not_found")


def test_delete_of_a_completed_podcast_keeps_its_status(owner, owner_client):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.COMPLETED)
    owner_client.delete(f"{URL}/{podcast.id}")
    podcast.refresh_from_db()
    assert podcast.deleted_at is not None and podcast.status == PodcastStatus.COMPLETED


@pytest.mark.parametrize(
    "status",
    [
        PodcastStatus.QUEUED,
        PodcastStatus.PROCESSING,
        PodcastStatus.COMPLETED,
        PodcastStatus.CANCELLED,
    ],
)
def test_only_a_failed_podcast_can_be_retried(owner, owner_client, status):
    podcast = PodcastFactory(user=owner, status=status)
    body = assert_error(owner_client.post(f"{URL}/{podcast.id}/retry"), 409, "invalid_state")
    assert body["status"] == status.lower()
    assert not PodcastJob.objects.filter(podcast=podcast).exists()


def test_retry_queues_a_failed_podcast_again_with_a_new_job(owner, owner_client):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.FAILED, error="boom", progress=40)
    response = owner_client.post(f"{URL}/{podcast.id}/retry")
    assert response.status_code == 202
    created = response.json()["podcast"]
    podcast.refresh_from_db()
    assert podcast.status == PodcastStatus.QUEUED
    assert podcast.error is None and podcast.progress == 0 and podcast.retry_count == 1
    assert PodcastJob.objects.get(podcast=podcast).job_id == created["jobId"]


@pytest.mark.parametrize("suffix", ["/transcript", "/download"])
def test_audio_routes_answer_409_until_the_podcast_is_completed(owner_client, suffix):
    created = create(owner_client)
    body = assert_error(owner_client.get(f"{URL}/{created['id']}{suffix}"), 409, "not_ready")
    assert body["status"] == "queued"
