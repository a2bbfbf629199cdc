"""Helpers shared by the tests."""

from __future__ import annotations

from typing import Any


def assert_error(response: Any, status: int, code: str) -> dict:
    """The response is an error in the contract's shape, with this status and code; returns
    the body. Works for Django's and DRF's test clients, requests and httpx alike."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False, body
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"], body
    return body
