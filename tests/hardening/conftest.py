"""The Procfile's real `web` process on the test database, in development or production."""

from __future__ import annotations

import pytest

from tests.hardening.servers import procfile_web, sqlite_or_postgres_url, subprocess_env

PRODUCTION = {
    "PODNEX_ENV": "production",
    "SECRET_KEY": "a-production-secret-key-of-more-than-32-characters",
    "ALLOWED_HOSTS": "127.0.0.1",
    "EMAIL_URL": "console://",
    "LOG_LEVEL": "WARNING",
}
# Variables of this machine's environment that would change what a test means.
_UNSET = ("FORWARDED_ALLOW_IPS", "FRONTEND_URL", "CORS_ALLOWED_ORIGINS", "CSRF_TRUSTED_ORIGINS")


@pytest.fixture
def web(tmp_path, transactional_db):
    """start(**env) -> base URL of a Procfile web process; stopped after the test."""
    started = []

    def start(**env):
        base_env = subprocess_env(
            DATABASE_URL=sqlite_or_postgres_url(),
            REDIS_URL="",  # rate-limit counters in the process: nothing carried over
            RATE_LIMIT_MAX_REQUESTS="100000",
        )
        for name in _UNSET:
            base_env.pop(name, None)
        process, base = procfile_web(tmp_path, env={**base_env, **env})
        started.append(process)
        return base

    start.processes = started
    yield start
    for process in started:
        process.stop()
