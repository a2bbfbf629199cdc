"""Small interfaces every provider implements, so offline and real ones swap by setting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from podnex.redaction import redact

HOST = "host"
GUEST = "guest"


class ProviderError(Exception):
    """Raised by every provider. `permanent` tells the job whether a retry can help."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        # A provider's error text may quote our key back (and this message reaches the
        # user's podcast `error`, logs and events): redacted once, here.
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class ScriptLine:
    speaker: str  # a speaker id: HOST, GUEST, or another of the podcast's speakers
    text: str
    section: str = ""  # title of the section the line belongs to, when the writer says


@dataclass
class Script:
    title: str
    lines: list[ScriptLine] = field(default_factory=list)
    # What the user should know about the script, e.g. notes too short for the length:
    # [{"code": "notes_too_short_for_duration", "message": "..."}]
    warnings: list[dict] = field(default_factory=list)

    def word_count(self) -> int:
        return sum(len(line.text.split()) for line in self.lines)


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    gender: str  # "female" | "male" | "neutral"
    language: str  # ISO 639-1, e.g. "en"


@dataclass(frozen=True)
class SpeechClip:
    """Encoded audio of one line: `data` in container `audio_format` ("wav", "mp3")."""

    data: bytes
    audio_format: str


class ScriptWriter(Protocol):
    name: str

    def write(
        self,
        *,
        notes: str,
        duration: str,  # "short" | "long"
        title: str | None = None,
        language: str = "en",
        instructions: str = "",
    ) -> Script: ...


class SpeechProvider(Protocol):
    name: str

    def voices(self) -> list[Voice]: ...

    def default_voices(self) -> dict[str, str]:
        """Map of logical name ("host", "guest") to a voice id of this provider."""
        ...

    def synthesize(self, *, text: str, voice: str) -> SpeechClip: ...
