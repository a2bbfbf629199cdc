"""Services send their own app's tasks by name (podnex.celery.task_send). A web process loads
no tasks module, so there the message must still reach the broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WEB_PROCESS = """
import django
django.setup()
from podnex.celery import app, task_send
assert app.tasks.get("podcasts.generate") is None, "a web process has not loaded it"
task_send("podcasts.generate", args=["podcast-1", "job-1"], task_id="job-1")
"""


def test_a_process_without_the_tasks_loaded_still_sends_the_job(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "podnex.settings",
        "PODNEX_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "filesystem://",
        "REDIS_URL": "",
    }
    subprocess.run([sys.executable, "-c", WEB_PROCESS], cwd=ROOT, env=env, check=True, timeout=120)
    messages = list((tmp_path / "celery").rglob("*.msg"))
    assert len(messages) == 1
    message = json.loads(messages[0].read_text())
    assert message["headers"]["task"] == "podcasts.generate"
    assert message["headers"]["id"] == "job-1"
