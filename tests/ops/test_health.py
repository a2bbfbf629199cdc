"""Health checks: up with latency, down with the reason, "not configured" when switched off."""

from __future__ import annotations

import socket

import pytest
from django.db import connections


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there any more
    return port


def test_the_api_answers_without_touching_anything(anon_client):
    response = anon_client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["component"] == "api"
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db(transaction=True)
def test_the_database_is_up(anon_client):
    response = anon_client.get("/api/health/db")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["latencyMs"] >= 0
    assert body["vendor"] == connections["default"].vendor


@pytest.mark.django_db(transaction=True)
def test_the_database_is_down(anon_client, monkeypatch):
    db = connections.settings["default"]
    if db["ENGINE"].endswith("sqlite3"):
        monkeypatch.setitem(db, "NAME", "/nonexistent-folder/podnex.sqlite3")
    else:
        monkeypatch.setitem(db, "HOST", "127.0.0.1")
        monkeypatch.setitem(db, "PORT", str(closed_port()))
    response = anon_client.get("/api/health/db")
    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False and body["status"] == "down"
    assert body["code"] == "unavailable"
    assert "OperationalError" in body["reason"]


def test_redis_is_up(anon_client, redis_url):
    response = anon_client.get("/api/health/redis")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"
    assert response.json()["latencyMs"] >= 0


def test_redis_is_down(anon_client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = anon_client.get("/api/health/redis")
    assert response.status_code == 503
    assert "ConnectionError" in response.json()["reason"]


def test_redis_is_not_configured(anon_client, settings):
    settings.REDIS_URL = ""
    response = anon_client.get("/api/health/redis")
    assert response.status_code == 200
    assert response.json()["status"] == "not configured"


def test_s3_is_up(anon_client, s3):
    response = anon_client.get("/api/health/s3")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["backend"] == "s3" and body["latencyMs"] >= 0


def test_s3_is_down_when_the_bucket_is_missing(anon_client, s3, settings):
    settings.STORAGES["default"]["OPTIONS"]["bucket_name"] = "no-such-bucket"
    settings.STORAGES = dict(settings.STORAGES)  # re-create default_storage
    response = anon_client.get("/api/health/s3")
    assert response.status_code == 503
    assert "NoSuchBucket" in response.json()["reason"]


def test_s3_is_down_when_the_server_is_unreachable(anon_client, s3, settings):
    options = settings.STORAGES["default"]["OPTIONS"]
    options["endpoint_url"] = f"http://127.0.0.1:{closed_port()}"
    settings.STORAGES = dict(settings.STORAGES)
    response = anon_client.get("/api/health/s3")
    assert response.status_code == 503
    assert response.json()["status"] == "down"


def test_s3_is_not_configured(anon_client, settings):
    settings.S3_BUCKET_NAME = ""
    response = anon_client.get("/api/health/s3")
    assert response.status_code == 200
    assert response.json()["status"] == "not configured"


def test_health_checks_refuse_writes(anon_client):
    assert anon_client.post("/api/health/db").status_code == 405
