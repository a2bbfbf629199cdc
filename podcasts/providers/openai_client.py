"""The OpenAI SDK client as configured by settings, and its errors mapped to ProviderError.

The SDK retries 408/409/429/5xx, timeouts and connection errors itself (`max_retries`,
exponential backoff, `Retry-After` honoured), so what reaches us has already been retried.
"""

from __future__ import annotations

import openai
from django.conf import settings

from podcasts.providers.base import ProviderError


def openai_client() -> openai.OpenAI:
    return openai.OpenAI(
        # An OpenAI-compatible local server may need no key; the SDK insists on one.
        api_key=settings.OPENAI_API_KEY or "unused",
        base_url=settings.OPENAI_BASE_URL,
        timeout=settings.OPENAI_TIMEOUT,
        max_retries=settings.OPENAI_MAX_RETRIES,
    )


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:300]
    return (exc.response.text or exc.response.reason_phrase or "")[:300]


def _error_code(exc: openai.APIStatusError) -> str | None:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return error.get("code") or error.get("type")
    return None


def provider_error(exc: openai.OpenAIError, *, what: str) -> ProviderError:
    """`what` names the provider and use, e.g. "OpenAI text-to-speech (gpt-4o-mini-tts)"."""
    tries = settings.OPENAI_MAX_RETRIES + 1
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError(f"{what}: timed out ({tries} attempts)")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError(f"{what}: could not connect ({tries} attempts): {exc}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = _detail(exc)
        if status == 401:
            return ProviderError(
                f"{what}: the API key was rejected (401): {detail}", permanent=True
            )
        if status == 403:
            return ProviderError(f"{what}: access denied (403): {detail}", permanent=True)
        if status == 429:
            if _error_code(exc) == "insufficient_quota":
                return ProviderError(f"{what}: quota exhausted (429): {detail}", permanent=True)
            retry_after = exc.response.headers.get("retry-after")
            return ProviderError(
                f"{what}: rate limited (429) after {tries} attempts: {detail}",
                retry_after=_seconds(retry_after),
            )
        if status >= 500 or status in (408, 409):
            return ProviderError(
                f"{what}: server error ({status}) after {tries} attempts: {detail}"
            )
        return ProviderError(f"{what}: request refused ({status}): {detail}", permanent=True)
    return ProviderError(f"{what}: {exc}", permanent=True)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
