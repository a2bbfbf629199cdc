"""Voiced lines and written scripts kept in storage, so a retried or re-delivered job
does not pay twice.

An entry lives in a folder named by sha256(provider, voice, provider settings, text) and is
itself named by the sha256 of its bytes: a clip cut short by a killed worker never matches
its name and is ignored, so a partial write can not end up in an episode.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from podcasts.providers.base import Script, ScriptLine, SpeechClip, SpeechProvider

logger = logging.getLogger(__name__)

PREFIX = "tts-cache"
SCRIPT_PREFIX = "script-cache"


class LineCache:
    def __init__(self, provider: SpeechProvider) -> None:
        self.provider_name = provider.name
        self.identity = provider.cache_identity()  # type: ignore[attr-defined]
        self.audio_format = getattr(provider, "audio_format", "bin")

    def folder(self, *, voice: str, text: str) -> str:
        key = json.dumps(
            {
                "provider": self.provider_name,
                "voice": voice,
                "settings": self.identity,
                "text": text,
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{PREFIX}/{self.provider_name}/{digest[:2]}/{digest}"

    def has(self, *, voice: str, text: str) -> bool:
        """Whether a clip is stored (not checked: a render may still find it damaged)."""
        try:
            _, files = default_storage.listdir(self.folder(voice=voice, text=text))
        except (FileNotFoundError, NotADirectoryError):
            return False
        return bool(files)

    def get(self, *, voice: str, text: str) -> SpeechClip | None:
        folder = self.folder(voice=voice, text=text)
        try:
            _, files = default_storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return None
        for name in files:
            stem, _, extension = name.partition(".")
            with default_storage.open(f"{folder}/{name}", "rb") as handle:
                data = handle.read()
            if data and hashlib.sha256(data).hexdigest() == stem:
                return SpeechClip(data=data, audio_format=extension)
            logger.warning("tts cache: dropping damaged entry %s/%s", folder, name)
            default_storage.delete(f"{folder}/{name}")
        return None

    def put(self, *, voice: str, text: str, clip: SpeechClip) -> None:
        name = f"{hashlib.sha256(clip.data).hexdigest()}.{clip.audio_format}"
        key = f"{self.folder(voice=voice, text=text)}/{name}"
        try:
            if not default_storage.exists(key):
                default_storage.save(key, ContentFile(clip.data))
        except OSError:
            # A cache that can not be written costs money on a retry, not the episode.
            logger.exception("tts cache: could not store %s", key)


class ScriptCache:
    """One podcast's script, keyed also by what it was written from (an edit re-writes)."""

    def __init__(self, *, podcast_id: str, params: dict) -> None:
        digest = hashlib.sha256(
            json.dumps(params, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        self.key = f"{SCRIPT_PREFIX}/{podcast_id}/{digest}.json"

    def get(self) -> Script | None:
        try:
            with default_storage.open(self.key, "rb") as handle:
                data = json.loads(handle.read())
            lines = [
                ScriptLine(line["speaker"], line["text"], section=line.get("section") or "")
                for line in data["lines"]
            ]
            return Script(title=data["title"], lines=lines, warnings=data.get("warnings") or [])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or damaged: write it again

    def put(self, script: Script) -> None:
        body = {
            "title": script.title,
            "lines": [vars(line) for line in script.lines],
            "warnings": script.warnings,  # a retried job tells the user the same
        }
        try:
            if default_storage.exists(self.key):
                default_storage.delete(self.key)
            default_storage.save(self.key, ContentFile(json.dumps(body, ensure_ascii=False)))
        except OSError:
            logger.exception("script cache: could not store %s", self.key)
