"""End to end through HTTP: sign up, create a podcast, a real Celery worker generates it,
poll until done, download the MP3 and check it against the API's figures."""

from __future__ import annotations

import io
import threading
import time

import pytest
import requests
from celery.signals import task_postrun, task_revoked
from django.conf import settings
from mutagen.mp3 import MP3

from podcasts.models import Podcast, PodcastJob, PodcastStatus
from tests.audio_check import decoded_seconds as decode_seconds
from tests.factories import SAMPLE_NOTES
from tests.utils import assert_error

AUTH = "/api/auth/app/v1/auth"
POLL_SECONDS = 240


def sign_up(base: str, email: str, password: str = "a-Long-enough-Passw0rd") -> requests.Session:
    response = requests.post(
        f"{base}{AUTH}/signup", json={"email": email, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    token = response.json()["meta"]["session_token"]
    session = requests.Session()
    session.headers["X-Session-Token"] = token
    return session


def poll_until_final(session: requests.Session, url: str) -> list[dict]:
    seen = []
    deadline = time.monotonic() + POLL_SECONDS
    while time.monotonic() < deadline:
        body = session.get(url, timeout=10).json()["podcast"]
        seen.append(body)
        if body["status"] in ("completed", "failed", "cancelled"):
            return seen
        time.sleep(0.3)
    pytest.fail(f"podcast did not finish in {POLL_SECONDS}s; last: {seen[-1]}")


@pytest.mark.django_db(transaction=True)
def test_a_new_user_turns_notes_into_a_spoken_episode(live_server, celery_worker):
    base = live_server.url
    alice = sign_up(base, "alice@example.com")
    me = alice.get(f"{base}/api/v1/user/profile", timeout=10).json()
    assert me["user"]["email"] == "alice@example.com"

    created = alice.post(
        f"{base}/api/v1/podcasts",
        json={"noteContent": SAMPLE_NOTES, "duration": "short", "title": "All about bees"},
        timeout=10,
    )
    assert created.status_code == 202, created.text
    podcast_id = created.json()["podcast"]["id"]
    assert created.json()["podcast"]["estimatedTime"] > 0

    history = poll_until_final(alice, f"{base}/api/v1/podcasts/{podcast_id}/status")
    final = history[-1]
    assert final["status"] == "completed", final
    assert final["progress"] == 100
    progress = [h["progress"] for h in history]
    assert progress == sorted(progress), "progress never goes backwards"

    detail = alice.get(f"{base}/api/v1/podcasts/{podcast_id}", timeout=10).json()["podcast"]
    assert detail["title"] == "All about bees"
    assert detail["audioSize"] > 10_000

    link = alice.get(f"{base}/api/v1/podcasts/{podcast_id}/download", timeout=10).json()
    assert link["expiresIn"] > 0
    audio = requests.get(link["url"].replace(settings.PUBLIC_BASE_URL, base), timeout=30)
    assert audio.status_code == 200
    assert audio.headers["Content-Type"] == "audio/mpeg"
    assert len(audio.content) == detail["audioSize"]

    assert MP3(io.BytesIO(audio.content)).info.length > 5
    decoded_seconds = decode_seconds(audio.content)
    assert abs(decoded_seconds - detail["audioDuration"]) <= 0.5

    segments = alice.get(f"{base}/api/v1/podcasts/{podcast_id}/transcript", timeout=10).json()[
        "segments"
    ]
    assert {s["speaker"] for s in segments} == {"host", "guest"}
    assert segments[0]["start"] >= 0
    for before, after in zip(segments, segments[1:]):
        assert before["start"] < before["end"] <= after["start"]
    assert abs(segments[-1]["end"] - decoded_seconds) <= 0.5
    assert any("waggle dance" in s["text"] for s in segments), "the notes' content is spoken"

    srt = alice.get(f"{base}/api/v1/podcasts/{podcast_id}/transcript?format=srt", timeout=10)
    assert srt.headers["Content-Type"].startswith("application/x-subrip")
    assert srt.text.startswith("1\n00:00:")

    job = PodcastJob.objects.get(podcast_id=podcast_id)
    assert job.status == PodcastStatus.COMPLETED and job.attempts == 1
    assert job.started_at and job.completed_at

    bob = sign_up(base, "bob@example.com")
    for suffix in ("", "/status", "/download", "/transcript"):
        response = bob.get(f"{base}/api/v1/podcasts/{podcast_id}{suffix}", timeout=10)
        assert_error(response, 404, "not_found")


@pytest.mark.django_db(transaction=True)
def test_login_logout_and_session_through_allauth(live_server):
    base = live_server.url
    sign_up(base, "carol@example.com", "Another-Passw0rd!")
    login = requests.post(
        f"{base}{AUTH}/login",
        json={"email": "carol@example.com", "password": "Another-Passw0rd!"},
        timeout=10,
    )
    assert login.status_code == 200
    token = login.json()["meta"]["session_token"]
    headers = {"X-Session-Token": token}
    assert requests.get(f"{base}/api/v1/podcasts", headers=headers, timeout=10).status_code == 200

    wrong = requests.post(
        f"{base}{AUTH}/login", json={"email": "carol@example.com", "password": "wrong"}, timeout=10
    )
    assert wrong.status_code == 400

    logout = requests.delete(f"{base}{AUTH}/session", headers=headers, timeout=10)
    assert logout.status_code == 401  # allauth answers 401: no longer authenticated
    after = requests.get(f"{base}/api/v1/podcasts", headers=headers, timeout=10)
    assert after.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_the_browser_session_flow_uses_cookies_and_csrf(live_server):
    base = live_server.url
    browser = requests.Session()
    browser.get(f"{base}/api/auth/browser/v1/config", timeout=10)
    csrf = browser.cookies.get("csrftoken")
    assert csrf
    signup = browser.post(
        f"{base}/api/auth/browser/v1/auth/signup",
        json={"email": "dave@example.com", "password": "Browser-Passw0rd!"},
        headers={"X-CSRFToken": csrf},
        timeout=10,
    )
    assert signup.status_code == 200, signup.text
    csrf = browser.cookies.get("csrftoken")
    profile = browser.get(f"{base}/api/v1/user/profile", timeout=10)
    assert profile.json()["user"]["email"] == "dave@example.com"
    # A cookie-authenticated write without the CSRF token is refused.
    refused = browser.post(f"{base}/api/v1/podcasts", json={"noteContent": "x"}, timeout=10)
    assert refused.status_code == 403
    accepted = browser.post(
        f"{base}/api/v1/podcasts",
        json={"noteContent": SAMPLE_NOTES},
        headers={"X-CSRFToken": csrf},
        timeout=10,
    )
    assert accepted.status_code == 202


class TasksEnded:
    """Ids of the tasks the worker has finished with (run to the end, or dropped as revoked)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.changed = threading.Condition()

    def record(self, task_id: str | None) -> None:
        with self.changed:
            self.ids.add(task_id or "")
            self.changed.notify_all()

    def on_postrun(self, task_id=None, **kwargs) -> None:
        self.record(task_id)

    def on_revoked(self, request=None, **kwargs) -> None:
        self.record(getattr(request, "id", None))

    def wait_for(self, task_id: str, timeout: float = 60) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: task_id in self.ids, timeout=timeout)


@pytest.fixture
def ended(celery_worker):
    tasks = TasksEnded()
    task_postrun.connect(tasks.on_postrun, weak=False)
    task_revoked.connect(tasks.on_revoked, weak=False)
    yield tasks
    task_postrun.disconnect(tasks.on_postrun)
    task_revoked.disconnect(tasks.on_revoked)


@pytest.mark.django_db(transaction=True)
def test_a_podcast_deleted_while_queued_is_never_generated(live_server, celery_worker, ended):
    base = live_server.url
    erin = sign_up(base, "erin@example.com")
    podcast_id = erin.post(
        f"{base}/api/v1/podcasts", json={"noteContent": SAMPLE_NOTES}, timeout=10
    ).json()["podcast"]["id"]
    assert erin.delete(f"{base}/api/v1/podcasts/{podcast_id}", timeout=10).status_code == 200
    job_id = PodcastJob.objects.get(podcast_id=podcast_id).job_id
    assert ended.wait_for(job_id), "the worker never dealt with the cancelled job's message"
    podcast = Podcast.objects.get(id=podcast_id)
    assert podcast.status == PodcastStatus.CANCELLED
    assert podcast.audio_url is None
