"""Unreal Speech v8: POST {base}/stream with a Bearer key answers the line as MP3 bytes.

Lines longer than the endpoint's 1,000 characters are voiced in sentence-bounded pieces
and joined. Transient failures (timeouts, connection errors, 408/409, 429, 5xx) are retried
with exponential backoff and jitter; a 429's Retry-After pauses every thread of the job,
not just the one that was told. 400/401/403 and friends fail at once.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from podcasts.providers.base import GUEST, HOST, ProviderError, SpeechClip, Voice
from podcasts.providers.chunks import mp3_join, text_split

MAX_INPUT_CHARS = 1000  # /stream's limit
PROVIDER = "Unreal Speech"

_FEMALE = ("Autumn", "Melody", "Hannah", "Emily", "Ivy", "Kaitlyn", "Luna", "Willow", "Lauren")
_MALE = ("Noah", "Jasper", "Caleb", "Ronan", "Ethan", "Daniel", "Zane")
VOICES = [
    *(Voice(id=v, name=v, gender="female", language="en") for v in (*_FEMALE, "Sierra")),
    *(Voice(id=v, name=v, gender="male", language="en") for v in _MALE),
]


class _RateGate:
    """Shared by the threads of one provider: after a 429, nobody calls before it says."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def wait(self) -> None:
        while (delay := self._until - time.monotonic()) > 0:
            time.sleep(delay)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason or ""
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if body.get(key):
                return str(body[key])[:300]
    return str(body)[:300]


class UnrealSpeech:
    name = "unreal"
    audio_format = "mp3"
    cache_lines = True  # paid per character: a retried job reuses what it already bought

    def __init__(self) -> None:
        self.base_url = settings.UNREAL_SPEECH_BASE_URL.rstrip("/")
        self.api_key = settings.UNREAL_SPEECH_API_KEY
        self.timeout = settings.UNREAL_SPEECH_TIMEOUT
        self.attempts = settings.UNREAL_SPEECH_MAX_RETRIES + 1
        self.backoff = settings.TTS_RETRY_BACKOFF
        self.backoff_max = settings.TTS_RETRY_BACKOFF_MAX
        self.bitrate = settings.UNREAL_SPEECH_BITRATE
        self.speed = settings.UNREAL_SPEECH_SPEED
        self.pitch = settings.UNREAL_SPEECH_PITCH
        self._gate = _RateGate()
        self._session: requests.Session | None = None
        self._session_lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        with self._session_lock:
            if self._session is None:
                session = requests.Session()
                # One pooled connection per concurrent line, so threads never queue for one.
                adapter = HTTPAdapter(pool_maxsize=max(settings.TTS_CONCURRENCY_UNREAL, 10))
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers["Authorization"] = f"Bearer {self.api_key}"
                self._session = session
            return self._session

    def voices(self) -> list[Voice]:
        return list(VOICES)

    def default_voices(self) -> dict[str, str]:
        return {HOST: settings.UNREAL_SPEECH_HOST_VOICE, GUEST: settings.UNREAL_SPEECH_GUEST_VOICE}

    def cache_identity(self) -> dict:
        """Everything besides voice and text that changes the audio."""
        return {"bitrate": self.bitrate, "speed": self.speed, "pitch": self.pitch}

    def synthesize(self, *, text: str, voice: str) -> SpeechClip:
        parts = [self._stream(piece, voice) for piece in text_split(text, MAX_INPUT_CHARS)]
        if not parts:
            raise ProviderError(f"{PROVIDER}: nothing to say, the line is empty", permanent=True)
        return SpeechClip(data=mp3_join(parts), audio_format="mp3")

    def _stream(self, text: str, voice: str) -> bytes:
        payload = {
            "Text": text,
            "VoiceId": voice,
            "Bitrate": self.bitrate,
            "Speed": self.speed,
            "Pitch": self.pitch,
            "Codec": "libmp3lame",
        }
        problem, retry_after = "no attempt made", None
        for attempt in range(self.attempts):
            self._gate.wait()
            retry_after = None
            try:
                response = self.session.post(
                    f"{self.base_url}/stream", json=payload, timeout=self.timeout
                )
            except requests.Timeout:
                problem = f"timed out after {self.timeout:g} s"
            except requests.ConnectionError as exc:
                problem = f"could not connect: {exc}"
            else:
                status = response.status_code
                if status == 200 and response.content:
                    return response.content
                if status == 200:
                    problem = "answered with no audio"
                elif status in (401, 403):
                    raise ProviderError(
                        f"{PROVIDER} rejected the API key ({status}): {_detail(response)}",
                        permanent=True,
                    )
                elif status == 429:
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                    problem = f"rate limited (429): {_detail(response)}"
                    if retry_after is not None and retry_after <= self.backoff_max:
                        self._gate.pause(retry_after)
                elif status >= 500 or status in (408, 409):
                    problem = f"server error ({status}): {_detail(response)}"
                else:
                    raise ProviderError(
                        f"{PROVIDER} refused the request ({status}): {_detail(response)}",
                        permanent=True,
                    )
            if attempt + 1 < self.attempts:
                if retry_after is not None and retry_after > self.backoff_max:
                    break  # a long pause is the job-level retry's business, not a thread's
                time.sleep(self._delay(attempt, retry_after))
        raise ProviderError(
            f"{PROVIDER} failed after {attempt + 1} attempts: {problem}", retry_after=retry_after
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.backoff_max, self.backoff * 2**attempt)
        jittered = backoff * random.uniform(0.5, 1.0)
        return max(jittered, retry_after or 0.0)
