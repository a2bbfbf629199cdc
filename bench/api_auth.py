"""API-key authentication against session authentication, side by side on one server.

Starts gunicorn on this project, seeds a user with 20 podcasts, an API key and a session, then
times `GET /api/v1/podcasts` alternately with each credential (interleaved rounds, so drift
hits both alike) and prints requests per second and their ratio. It does so for two ways of
keeping usageCount/lastUsedAt: batched through the cache (API_KEY_USAGE_FLUSH_SECONDS=60, the
default) and one UPDATE per request (=0). It also prints the SQL queries per request for
several page sizes, which must not grow with the page.

    python bench/api_auth.py                       # SQLite in a temp dir, in-process cache
    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/api_auth.py
    BENCH_REQUESTS=400 BENCH_ROUNDS=6 python bench/api_auth.py
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")
os.environ.setdefault("PODNEX_VAR_DIR", tempfile.mkdtemp(prefix="podnex-bench-"))
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Nothing here measures the limits themselves: keep them out of the way.
os.environ["RATE_LIMIT_MAX_REQUESTS"] = "100000000"

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
PODCASTS = 20
PATH = f"/api/v1/podcasts?limit={PODCASTS}"


def main() -> None:
    import django

    Path(os.environ["PODNEX_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    print(
        f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
    )
    call_command("migrate", verbosity=0, interactive=False)
    session_cookie, raw_key = seed()
    print_query_counts(session_cookie, raw_key)

    for flush_seconds in ("60", "0"):
        port = free_port()
        env = {**os.environ, "API_KEY_USAGE_FLUSH_SECONDS": flush_seconds}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "podnex.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            wait_until_up(port)
            headers = {
                "session": {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_cookie}"},
                "api key": {"X-API-Key": raw_key},
            }
            for name, header in headers.items():
                status = get(port, header)
                assert status == 200, f"{name}: HTTP {status}"
                for _ in range(20):  # warm up
                    get(port, header)
            elapsed = {name: 0.0 for name in headers}
            for round_no in range(ROUNDS):
                order = list(headers) if round_no % 2 == 0 else list(reversed(headers))
                for name in order:
                    started = time.perf_counter()
                    for _ in range(REQUESTS):
                        get(port, headers[name])
                    elapsed[name] += time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
        rps = {name: ROUNDS * REQUESTS / seconds for name, seconds in elapsed.items()}
        mode = "batched (60 s)" if flush_seconds != "0" else "UPDATE per request"
        print(f"\nusage tracking: {mode}; {ROUNDS} x {REQUESTS} requests each, GET {PATH}")
        for name, value in rps.items():
            print(f"  {name:8s} {value:8.1f} req/s")
        print(f"  api key / session = {rps['api key'] / rps['session']:.3f}  (target >= 0.90)")


def seed() -> tuple[str, str]:
    from django.test import Client

    from accounts.models import User
    from apikeys import services
    from podcasts.models import Podcast, PodcastStatus

    user, _ = User.objects.get_or_create(email="bench@example.com")
    Podcast.objects.filter(user=user).delete()
    Podcast.objects.bulk_create(
        Podcast(
            user=user,
            note_content=f"Notes {i}",
            status=PodcastStatus.COMPLETED,
            title=f"Episode {i}",
            tts_provider="espeak",
            audio_duration=60 + i,
        )
        for i in range(PODCASTS)
    )
    user.api_keys.all().delete()
    _, raw_key = services.api_key_create(
        user=user, name="bench", scopes=["podcast:read"], rate_limit=100_000_000
    )
    client = Client()
    client.force_login(user)
    from django.conf import settings

    return client.cookies[settings.SESSION_COOKIE_NAME].value, raw_key


def print_query_counts(session_cookie: str, raw_key: str) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    print("\nSQL queries per request (GET /api/v1/podcasts?limit=N, after warm-up):")
    for name, header in (
        ("session", {"HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={session_cookie}"}),
        ("api key", {"HTTP_X_API_KEY": raw_key}),
    ):
        counts = []
        for limit in (1, 5, 20):
            client = Client()
            client.get(f"/api/v1/podcasts?limit={limit}", **header)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/api/v1/podcasts?limit={limit}", **header)
            assert response.status_code == 200, response.content
            assert len(response.json()["podcasts"]) == limit
            counts.append(f"limit={limit}: {len(queries)}")
        print(f"  {name:8s} " + ", ".join(counts))


def get(port: int, headers: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", PATH, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


if __name__ == "__main__":
    main()
