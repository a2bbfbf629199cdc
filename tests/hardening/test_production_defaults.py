"""Production refuses unsafe defaults: only origins someone set are trusted by CORS (with
credentials) and CSRF; the development defaults never are. Checked on the real web process.
(Webhook ports: tests/webhooks_app/test_ssrf.py.)"""

from __future__ import annotations

import requests

from tests.hardening.conftest import PRODUCTION

BEHIND_TLS = {"X-Forwarded-Proto": "https"}


def preflight(base: str, origin: str) -> requests.Response:
    return requests.options(
        f"{base}/api/v1/podcasts",
        headers={
            **BEHIND_TLS,
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        allow_redirects=False,
        timeout=10,
    )


def test_production_without_frontend_url_lets_no_origin_in(web):
    base = web(**PRODUCTION, FORWARDED_ALLOW_IPS="127.0.0.1")
    for origin in ["http://localhost:3000", "http://127.0.0.1:8000"]:
        response = preflight(base, origin)
        assert "Access-Control-Allow-Origin" not in response.headers, origin
        assert "Access-Control-Allow-Credentials" not in response.headers, origin


def test_production_lets_in_exactly_the_origin_it_was_given(web):
    base = web(
        **PRODUCTION, FORWARDED_ALLOW_IPS="127.0.0.1", FRONTEND_URL="https://app.example.com"
    )
    allowed = preflight(base, "https://app.example.com")
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Origin" not in preflight(base, "http://localhost:3000").headers


def test_development_keeps_the_local_frontend_working(web):
    base = web()
    response = preflight(base, "http://localhost:3000")
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
