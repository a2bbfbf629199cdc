"""Web and worker processes add up in one scrape: prometheus_client's multiprocess mode over
PROMETHEUS_MULTIPROC_DIR (each process writes its samples to files there)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]

RECORD = """
from podcasts import metrics as pipeline
from podnex import metrics
metrics.http_request_observe(method="GET", status=200, seconds=0.01)
pipeline.provider_error_observe(job_id="j", permanent=False)
"""


def record_in_another_process(folder: Path) -> None:
    subprocess.run(
        [sys.executable, "-c", RECORD],
        cwd=ROOT,
        env={"PROMETHEUS_MULTIPROC_DIR": str(folder), "PATH": "/usr/bin:/bin"},
        check=True,
        timeout=60,
    )


def test_a_scrape_adds_up_what_other_processes_recorded(
    client, settings, tmp_path, monkeypatch, db
):
    settings.METRICS_TOKEN = "t"
    for _ in range(3):  # three processes, say two web workers and a Celery worker
        record_in_another_process(tmp_path)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t")

    assert response.status_code == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
    requests = ("podnex_http_requests_total", (("method", "GET"), ("status", "200")))
    errors = ("podnex_provider_errors_total", (("kind", "transient"), ("step", "unknown")))
    assert samples[requests] == 3
    assert samples[errors] == 3


def test_a_worker_host_serves_its_metrics_without_a_web_process(tmp_path):
    record_in_another_process(tmp_path)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "metrics_serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().split()[-1]
        body = httpx.get(url, timeout=30).text
    finally:
        server.terminate()
        server.wait(timeout=30)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }
    assert samples[("podnex_http_requests_total", (("method", "GET"), ("status", "200")))] == 1
