"""Beat schedules exist after migrate and stay as staff edit them; the daily cleanup deletes
exactly what is due, stored audio included, and can run twice at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apikeys.models import ApiKey
from ops.schedules import BEAT_SCHEDULE
from ops.tasks import cleanup_task
from podcasts.models import PodcastJob, PodcastStatus
from podcasts.storage import audio_key, audio_upload
from podnex.beat import Scheduler, schedules_register
from tests.factories import PodcastFactory

EXPECTED = {
    "podnex-cleanup-daily": "podnex.cleanup",
    "podnex-metrics-hourly": "podnex.metrics_collect",
    "billing-usage-reset": "billing.usage_reset",
    "webhooks-retry-due": "webhooks.retry_due",
}


def test_every_schedule_exists_after_migrate(db):
    rows = dict(PeriodicTask.objects.filter(name__in=EXPECTED).values_list("name", "task"))
    assert rows == EXPECTED
    cleanup = PeriodicTask.objects.get(name="podnex-cleanup-daily")
    assert (cleanup.crontab.minute, cleanup.crontab.hour) == ("17", "3")
    retry = PeriodicTask.objects.get(name="webhooks-retry-due")
    assert retry.crontab.minute == "*/5"


@pytest.mark.django_db(transaction=True)  # beat closes old connections as it starts
def test_a_schedule_edited_in_the_admin_survives_a_beat_restart():
    from celery.schedules import crontab
    from django_celery_beat.models import CrontabSchedule

    row = PeriodicTask.objects.get(name="podnex-cleanup-daily")
    row.crontab = CrontabSchedule.objects.create(minute="0", hour="5")
    row.enabled = False
    row.save()
    PeriodicTask.objects.filter(name="podnex-metrics-hourly").delete()

    from podnex.celery import app

    scheduler = Scheduler(app=app, lazy=True)
    scheduler.update_from_dict(BEAT_SCHEDULE)

    row.refresh_from_db()
    assert (row.crontab.minute, row.crontab.hour, row.enabled) == ("0", "5", False)
    assert PeriodicTask.objects.filter(name="podnex-metrics-hourly").exists()  # re-created
    assert schedules_register() == []  # nothing missing any more
    assert isinstance(BEAT_SCHEDULE["podnex-cleanup-daily"]["schedule"], crontab)


def test_beat_reads_the_declared_schedule_from_the_celery_app():
    from podnex.celery import app

    # ops.apps hands it over when Django starts (podnex.settings imports no app).
    assert app.conf.beat_schedule == BEAT_SCHEDULE


def test_the_registered_task_names_exist_for_ours():
    from podnex.celery import app

    app.loader.import_default_modules()
    assert {"podnex.cleanup", "podnex.metrics_collect"} <= set(app.tasks)


# --- cleanup ---------------------------------------------------------------------------------


def days_ago(n: float):
    return timezone.now() - timedelta(days=n)


def stored_podcast(user, **fields):
    podcast = PodcastFactory(user=user, **fields)
    key = audio_key(user_id=user.id, podcast_id=podcast.id)
    audio_upload(key=key, data=b"ID3 audio")
    podcast.audio_url = key
    podcast.save(update_fields=["audio_url"])
    return podcast, key


@pytest.fixture
def due_and_not_due(owner):
    """Rows on both sides of every retention line."""
    old_done = PodcastFactory(user=owner, status=PodcastStatus.COMPLETED)
    rows = {
        "old_finished_job": PodcastJob.objects.create(
            podcast=old_done, job_id="old-finished", status="COMPLETED", created_at=days_ago(8)
        ),
        "old_failed_job": PodcastJob.objects.create(
            podcast=old_done, job_id="old-failed", status="FAILED", created_at=days_ago(30)
        ),
        "recent_job": PodcastJob.objects.create(
            podcast=old_done, job_id="recent", status="COMPLETED", created_at=days_ago(6)
        ),
        # A job still queued after 8 days is a problem to look at, not history to drop.
        "old_active_job": PodcastJob.objects.create(
            podcast=old_done, job_id="old-active", status="QUEUED", created_at=days_ago(8)
        ),
    }
    rows["long_deleted"], rows["long_deleted_key"] = stored_podcast(
        owner, status=PodcastStatus.COMPLETED, deleted_at=days_ago(31)
    )
    rows["recently_deleted"], rows["recently_deleted_key"] = stored_podcast(
        owner, status=PodcastStatus.COMPLETED, deleted_at=days_ago(29)
    )
    rows["kept"], rows["kept_key"] = stored_podcast(owner, status=PodcastStatus.COMPLETED)
    rows["expired_key"] = ApiKey.objects.create(
        user=owner, name="old", key="d1", prefix="pk_1", expires_at=days_ago(1)
    )
    rows["live_key"] = ApiKey.objects.create(
        user=owner, name="live", key="d2", prefix="pk_2", expires_at=days_ago(-10)
    )
    rows["forever_key"] = ApiKey.objects.create(user=owner, name="forever", key="d3", prefix="pk_3")
    return rows


def test_cleanup_deletes_exactly_what_is_due_and_the_audio_of_purged_podcasts(due_and_not_due):
    rows = due_and_not_due
    report = cleanup_task()

    assert report == {"jobs": 2, "podcasts": 1, "audio_files": 1, "api_keys": 1}
    assert set(PodcastJob.objects.values_list("job_id", flat=True)) == {"recent", "old-active"}
    remaining = set(rows["kept"].__class__.objects.values_list("id", flat=True))
    assert rows["long_deleted"].id not in remaining
    assert {rows["recently_deleted"].id, rows["kept"].id} <= remaining
    assert not default_storage.exists(rows["long_deleted_key"])
    assert default_storage.exists(rows["recently_deleted_key"])
    assert default_storage.exists(rows["kept_key"])
    assert set(ApiKey.objects.values_list("name", flat=True)) == {"live", "forever"}

    assert cleanup_task() == {"jobs": 0, "podcasts": 0, "audio_files": 0, "api_keys": 0}


def test_cleanup_removes_purged_audio_from_the_bucket_too(owner, s3):
    from tests.ops.conftest import BUCKET

    podcast, key = stored_podcast(owner, status=PodcastStatus.COMPLETED, deleted_at=days_ago(40))
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] > 0
    assert cleanup_task()["audio_files"] == 1
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


@pytest.mark.django_db(transaction=True)
def test_two_cleanups_at_once_delete_everything_due_once(owner, postgres):
    # PostgreSQL: SKIP LOCKED is what keeps two runs apart (the in-memory SQLite of the test
    # suite has table locks that fail at once instead of waiting).
    podcasts = [stored_podcast(owner, deleted_at=days_ago(31))[1] for _ in range(6)]
    reports, errors = [], []

    def run():
        from django.db import connection

        try:
            reports.append(cleanup_task())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(r["podcasts"] for r in reports) == 6
    assert not any(default_storage.exists(key) for key in podcasts)
