"""Redaction in the real processes' output, as production writes it (JSON lines): the web
process (the Procfile's uvicorn, its access log included) and a Celery worker. Redacting
must keep every record's shape (uvicorn's access formatter unpacks a 5-tuple), and signed
download links are logged without their signature."""

from __future__ import annotations

import time

import pytest
import requests

from podcasts import services as podcast_services
from podcasts import storage
from podcasts.models import Podcast, PodcastStatus
from podnex.celery import app
from tests.factories import SAMPLE_NOTES, PodcastFactory, UserFactory
from tests.hardening.servers import celery_worker, subprocess_env
from tests.podcasts.providers.fakes import Reply, UnrealServer

API_KEY = "pk_live_" + "Q" * 40
PROVIDER_KEY = "unreal-live-0123456789abcdefXYZ"


def test_the_web_process_logs_redacted_lines_in_their_usual_shape(web, owner):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.COMPLETED)
    key = storage.audio_key(user_id=owner.id, podcast_id=podcast.id)
    podcast.audio_url = storage.audio_upload(key=key, data=b"ID3" + b"\0" * 100)
    podcast.save()
    link = storage.audio_signed_url(key=key).url
    signature = link.replace("%3A", ":").rsplit(":", 1)[1]

    base = web(LOG_FORMAT="json", LOG_LEVEL="INFO")
    path = "/" + link.split("/", 3)[3]
    served = requests.get(f"{base}{path}", timeout=10)
    assert served.status_code == 200, (served.text, web.processes[-1].output()[-2000:])
    requests.get(f"{base}/api/v1/podcasts?api_key={API_KEY}&page=1", timeout=10)
    requests.get(f"{base}/api/v1/podcasts", headers={"X-API-Key": API_KEY}, timeout=10)
    output = wait_for_output(web.processes[-1], "/api/v1/podcasts?api_key=")

    assert "Logging error" not in output and "Traceback" not in output, output[-3000:]
    assert API_KEY not in output and API_KEY[8:] not in output
    assert signature not in output
    access = [line for line in output.splitlines() if "HTTP/1.1" in line]
    assert any("/media/" in line and "[REDACTED]" in line for line in access), access
    assert any("api_key=[REDACTED]" in line and "200" not in line for line in access), access


def wait_for_output(process, needle: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while needle not in process.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    return process.output()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_logs_a_provider_error_that_echoes_its_key_redacted(postgres, redis_url, tmp_path):
    unreal = UnrealServer().start()
    unreal.api_key = PROVIDER_KEY
    # A provider that quotes the key it was given back in its error (some do).
    unreal.respond = lambda request: Reply(503, f"upstream refused key {PROVIDER_KEY}")
    app.control.purge()
    worker = celery_worker(
        tmp_path,
        "redaction",
        env=subprocess_env(
            LOG_FORMAT="json",
            TTS_PROVIDER="unreal",
            UNREAL_SPEECH_API_KEY=PROVIDER_KEY,
            UNREAL_SPEECH_BASE_URL=unreal.url,
            UNREAL_SPEECH_MAX_RETRIES="0",
            PODCAST_TASK_MAX_RETRIES="1",
            PODCAST_TASK_RETRY_BACKOFF="0",
        ),
    )
    try:
        user = UserFactory(email="redaction@example.com")
        podcast, _ = podcast_services.podcast_create(
            user=user, note_content=SAMPLE_NOTES, tts_provider="unreal"
        )
        deadline = time.monotonic() + 90
        while Podcast.objects.get(id=podcast.id).status != PodcastStatus.FAILED:
            assert time.monotonic() < deadline, worker.output()[-3000:]
            time.sleep(0.2)
        output = wait_for_output(worker, "retry", timeout=5)
    finally:
        worker.stop()
        unreal.stop()
        app.control.purge()
    assert "upstream refused key" in output, output[-3000:]  # the line is there...
    assert PROVIDER_KEY not in output  # ...without the key
    assert "Logging error" not in output
    podcast.refresh_from_db()
    assert PROVIDER_KEY not in (podcast.error or "")  # nor in what the user is shown
