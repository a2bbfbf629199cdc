"""Request bodies: too large is 413 before parsing, malformed JSON 400, wrong type 415,
all in the contract's error shape."""

import json

import pytest

from podcasts.models import Podcast
from tests.factories import SAMPLE_NOTES
from tests.utils import assert_error

URL = "/api/v1/podcasts"


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(
    owner_client, settings, monkeypatch
):
    settings.API_MAX_BODY_BYTES = 2048
    from rest_framework.request import Request

    def never(*args, **kwargs):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(Request, "_parse", never)
    body = json.dumps({"noteContent": "x" * 4000})
    response = owner_client.generic("POST", URL, body, content_type="application/json")
    error = assert_error(response, 413, "payload_too_large")
    assert error["maxBytes"] == 2048
    assert not Podcast.objects.exists()


def test_a_body_under_the_limit_goes_through(owner_client, settings):
    settings.API_MAX_BODY_BYTES = 2048
    response = owner_client.post(URL, {"noteContent": SAMPLE_NOTES[:500]}, format="json")
    assert response.status_code == 202, response.content


def test_the_limit_applies_to_anonymous_requests_and_the_auth_routes(anon_client, settings, db):
    settings.API_MAX_BODY_BYTES = 1024
    body = json.dumps({"email": "a@example.com", "password": "p" * 5000})
    response = anon_client.generic(
        "POST", "/api/auth/app/v1/auth/login", body, content_type="application/json"
    )
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    "body",
    [
        b'{"noteContent": "bees"',
        b"{'noteContent': 'bees'}",
        b'{"noteContent": NaN}',
        b"\xff\xfe not utf-8",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["truncated", "single-quotes", "nan", "not-utf8", "nested-too-deep"],
)
def test_malformed_json_is_a_400(owner_client, body):
    response = owner_client.generic("POST", URL, body, content_type="application/json")
    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_json_is_a_415(owner_client, content_type):
    response = owner_client.generic("POST", URL, b"noteContent=bees", content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert not Podcast.objects.exists()


def test_a_garbled_content_length_is_a_400(owner_client):
    response = owner_client.generic(
        "POST", URL, b"{}", content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert_error(response, 400, "malformed_request")
