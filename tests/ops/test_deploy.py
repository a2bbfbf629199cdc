"""Production settings: the deploy check passes, CORS serves the frontend, and errors reach
Sentry (a loopback server speaking Sentry's envelope protocol) when SENTRY_DSN is set."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL")
    }
    environ.update(
        PODNEX_ENV="production",
        SECRET_KEY="kD9#vQ2!mZ7@pL4$wR8^tY1&uI6*oP3(aS5)dF0-gH2+jK7=lX9%cV4",
        ALLOWED_HOSTS="api.podnex.example",
        EMAIL_URL="smtp://mailer:secret@smtp.podnex.example:587/?tls=True",
        DJANGO_SETTINGS_MODULE="podnex.settings",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_is_clean_with_production_settings(tmp_path):
    result = run_python(
        "import django, sys; django.setup();"
        "from django.core.management import call_command;"
        "call_command('check', deploy=True, fail_level='WARNING')",
        PODNEX_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_frontend_origin_may_call_the_api(client, settings, db):
    response = client.options(
        "/api/v1/podcasts",
        HTTP_ORIGIN=settings.FRONTEND_URL,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-api-key, content-type, x-request-id",
    )
    assert response["Access-Control-Allow-Origin"] == settings.FRONTEND_URL
    assert "x-api-key" in response["Access-Control-Allow-Headers"]
    assert response["Access-Control-Allow-Credentials"] == "true"

    other = client.get("/api/health", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other
    exposed = client.get("/api/health", HTTP_ORIGIN=settings.FRONTEND_URL)
    assert "X-Request-ID" in exposed["Access-Control-Expose-Headers"]


def test_errors_reach_sentry_with_the_django_and_celery_integrations(tmp_path):
    envelopes: list[bytes] = []

    class Sentry(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            envelopes.append(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sentry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/42"
    try:
        result = run_python(
            "import django\n"
            "import sentry_sdk\n"
            "django.setup()\n"
            "try:\n    1 / 0\nexcept ZeroDivisionError:\n    sentry_sdk.capture_exception()\n"
            "sentry_sdk.flush(10)\n",
            SENTRY_DSN=dsn,
            PODNEX_VAR_DIR=str(tmp_path),
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-3000:]

    items = [
        json.loads(line) for raw in envelopes for line in raw.splitlines() if line.startswith(b"{")
    ]
    events = [item for item in items if item.get("exception")]
    assert events, items
    event = events[0]
    assert event["environment"] == "production"
    assert event["exception"]["values"][0]["type"] == "ZeroDivisionError"
    integrations = set(event["sdk"]["integrations"])
    assert {"django", "celery"} <= integrations
