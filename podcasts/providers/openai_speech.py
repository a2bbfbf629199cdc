"""OpenAI text-to-speech through the official SDK (`audio.speech.create`), MP3 back."""

from __future__ import annotations

import threading

import openai
from django.conf import settings

from podcasts.providers.base import GUEST, HOST, SpeechClip, Voice
from podcasts.providers.chunks import mp3_join, text_split
from podcasts.providers.openai_client import openai_client, provider_error

MAX_INPUT_CHARS = 4096  # the API's limit on `input`
# Models that predate delivery instructions reject them.
_NO_INSTRUCTIONS = ("tts-1", "tts-1-hd")

# The built-in voices speak every language the model does, hence "mul" (ISO 639-2 for
# "multiple languages"). OpenAI gives no genders; these are how the voices sound.
VOICES = [
    Voice(id=voice_id, name=voice_id.title(), gender=gender, language="mul")
    for voice_id, gender in (
        ("alloy", "neutral"),
        ("ash", "male"),
        ("ballad", "male"),
        ("cedar", "male"),
        ("coral", "female"),
        ("echo", "male"),
        ("fable", "neutral"),
        ("marin", "female"),
        ("nova", "female"),
        ("onyx", "male"),
        ("sage", "female"),
        ("shimmer", "female"),
        ("verse", "male"),
    )
]


class OpenAISpeech:
    name = "openai"
    audio_format = "mp3"
    cache_lines = True  # paid per character: a retried job reuses what it already bought

    def __init__(self) -> None:
        self.model = settings.OPENAI_TTS_MODEL
        self.instructions = (
            settings.OPENAI_TTS_INSTRUCTIONS if self.model not in _NO_INSTRUCTIONS else ""
        )
        self._client: openai.OpenAI | None = None
        self._client_lock = threading.Lock()

    @property
    def client(self) -> openai.OpenAI:
        # One client (one connection pool) shared by the job's threads.
        with self._client_lock:
            if self._client is None:
                self._client = openai_client()
            return self._client

    def voices(self) -> list[Voice]:
        return list(VOICES)

    def default_voices(self) -> dict[str, str]:
        return {HOST: settings.OPENAI_TTS_HOST_VOICE, GUEST: settings.OPENAI_TTS_GUEST_VOICE}

    def cache_identity(self) -> dict:
        """Everything besides voice and text that changes the audio."""
        return {"model": self.model, "instructions": self.instructions, "format": "mp3"}

    def synthesize(self, *, text: str, voice: str) -> SpeechClip:
        parts = [self._speak(piece, voice) for piece in text_split(text, MAX_INPUT_CHARS)]
        return SpeechClip(data=mp3_join(parts), audio_format="mp3")

    def _speak(self, text: str, voice: str) -> bytes:
        extra = {"instructions": self.instructions} if self.instructions else {}
        try:
            response = self.client.audio.speech.create(
                model=self.model, voice=voice, input=text, response_format="mp3", **extra
            )
            return response.content
        except openai.OpenAIError as exc:
            raise provider_error(exc, what=f"OpenAI text-to-speech ({self.model})") from exc
