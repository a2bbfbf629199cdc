"""The database unreachable: the API answers a JSON 503 in the error shape, and recovers by
itself when the database returns. A real server process talks to PostgreSQL through a TCP
proxy that the test cuts and restores."""

from __future__ import annotations

import time

import pytest
import requests
from django.db import connection

from apikeys.services import api_key_create
from podnex.api.middleware import DatabaseUnavailableMiddleware
from tests.factories import UserFactory
from tests.hardening.servers import TcpProxy, database_url, subprocess_env, web_server
from tests.utils import assert_error

pytestmark = pytest.mark.django_db(transaction=True)


class _Json:
    """requests' response wearing the Django test client's interface for assert_error."""

    def __init__(self, response: requests.Response):
        self.status_code = response.status_code
        self.content = response.content
        self.headers = response.headers
        self.json = response.json


@pytest.fixture
def proxied_server(postgres, redis_url, tmp_path):
    db = connection.settings_dict
    proxy = TcpProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))
    env = subprocess_env(DATABASE_URL=database_url(host="127.0.0.1", port=proxy.port))
    process, base = web_server(tmp_path, env=env)
    yield proxy, base, process
    process.stop()
    proxy.close()


def test_the_api_answers_503_while_the_database_is_away_and_recovers_after(proxied_server):
    proxy, base, process = proxied_server
    user = UserFactory(email="db-down@example.com")
    _, key = api_key_create(user=user, name="outage")
    headers = {"X-API-Key": key}
    url = f"{base}/api/v1/podcasts"
    assert requests.get(url, headers=headers, timeout=10).status_code == 200

    proxy.cut()
    for _ in range(3):  # the broken connection, then failed reconnects: 503 each time
        response = requests.get(url, headers=headers, timeout=30)
        assert_error(_Json(response), 503, "database_unavailable")
        assert response.headers["Retry-After"]
    created = requests.post(url, headers=headers, json={"noteContent": "Bees."}, timeout=30)
    assert_error(_Json(created), 503, "database_unavailable")
    health = requests.get(f"{base}/api/health/db", timeout=30)
    assert health.status_code == 503
    assert health.json()["status"] == "down" and health.json()["reason"]  # says why

    proxy.restore()
    deadline = time.monotonic() + 20
    while (response := requests.get(url, headers=headers, timeout=10)).status_code != 200:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.2)
    assert response.json()["success"] is True
    assert requests.get(f"{base}/api/health/db", timeout=10).json()["status"] == "ok"


def test_a_chunked_body_over_the_limit_is_cut_off_with_413_as_it_streams(proxied_server):
    _, base, _ = proxied_server

    def chunks():  # no Content-Length: only counting the bytes as they arrive can stop it
        for _ in range(64):
            yield b"x" * 65536

    response = requests.post(
        f"{base}/api/v1/podcasts",
        data=chunks(),
        headers={"Content-Type": "application/json", "X-API-Key": "pk_live_whatever"},
        timeout=30,
    )
    assert_error(_Json(response), 413, "payload_too_large")


def test_a_database_error_raised_by_a_view_is_a_503(rf):
    from django.db import OperationalError

    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    response = middleware.process_exception(rf.get("/api/v1/podcasts"), OperationalError("x"))
    assert response.status_code == 503
    assert middleware.process_exception(rf.get("/"), ValueError("not ours")) is None
