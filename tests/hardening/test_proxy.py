"""Behind a proxy, through the Procfile's real `web` line (uvicorn): one setting,
FORWARDED_ALLOW_IPS, decides whose X-Forwarded-For / X-Forwarded-Proto count, for uvicorn
and for the app's rate limits alike; plain-HTTP health probes are not redirected."""

from __future__ import annotations

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from podnex.env import env_addresses
from tests.hardening.conftest import PRODUCTION


def remaining(base: str, forwarded_for: str) -> int:
    response = requests.get(
        f"{base}/api/v1/podcasts", headers={"X-Forwarded-For": forwarded_for}, timeout=10
    )
    assert response.status_code == 401, response.text
    return int(response.headers["X-RateLimit-Remaining"])


def test_by_default_a_clients_x_forwarded_for_does_not_buy_a_fresh_rate_limit(web):
    base = web()
    first = remaining(base, "198.51.100.1")
    assert remaining(base, "198.51.100.2") == first - 1  # one bucket: the real peer's
    assert remaining(base, "203.0.113.9, 198.51.100.3") == first - 2


def test_a_trusted_proxys_x_forwarded_for_names_the_client(web):
    base = web(FORWARDED_ALLOW_IPS="127.0.0.1")
    first = remaining(base, "198.51.100.1")
    assert remaining(base, "198.51.100.2") == first  # another client, its own bucket
    assert remaining(base, "198.51.100.1") == first - 1
    # The proxy appends the peer it saw; what the client wrote before that is ignored.
    assert remaining(base, "198.51.100.1, 198.51.100.2") == first - 1


def test_production_answers_plain_http_health_probes_and_redirects_the_api(web):
    base = web(
        **PRODUCTION, FRONTEND_URL="https://app.example.com", FORWARDED_ALLOW_IPS="127.0.0.1"
    )
    for path in ["/api/health", "/api/health/db"]:
        response = requests.get(f"{base}{path}", allow_redirects=False, timeout=10)
        assert response.status_code in (200, 503), (path, response.status_code)
    metrics = requests.get(f"{base}/metrics", allow_redirects=False, timeout=10)
    assert metrics.status_code == 403
    api = requests.get(f"{base}/api/v1/podcasts", allow_redirects=False, timeout=10)
    assert api.status_code == 301 and api.headers["Location"].startswith("https://")
    behind_tls = requests.get(
        f"{base}/api/v1/podcasts",
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
        timeout=10,
    )
    assert behind_tls.status_code == 401


def test_x_forwarded_proto_from_an_untrusted_peer_does_not_count(web):
    base = web(**PRODUCTION)
    response = requests.get(
        f"{base}/api/v1/podcasts",
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 301


def test_trusted_proxies_must_be_addresses_or_networks(monkeypatch):
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/8, 127.0.0.1, ::1")
    assert env_addresses("FORWARDED_ALLOW_IPS") == ["10.0.0.0/8", "127.0.0.1", "::1"]
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1,proxy.internal")
    with pytest.raises(ImproperlyConfigured):
        env_addresses("FORWARDED_ALLOW_IPS")
