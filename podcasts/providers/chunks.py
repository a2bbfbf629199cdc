"""Text split to a provider's input limit, and MP3 parts joined back into one clip."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or their CJK forms) followed by space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+|\n+")


def text_split(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at sentence boundaries where possible,
    then at spaces, and only as a last resort inside a word. Nothing is dropped."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        for part in _words_split(sentence, limit):
            joined = f"{current} {part}" if current else part
            if len(joined) <= limit:
                current = joined
            else:
                pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def _words_split(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    parts: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > limit:  # a "word" longer than the limit (a URL, say)
            if current:
                parts.append(current)
                current = ""
            parts.append(word[:limit])
            word = word[limit:]
        joined = f"{current} {word}" if current else word
        if len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = word
    if current:
        parts.append(current)
    return parts


def _id3v2_size(data: bytes) -> int:
    """Length of a leading ID3v2 tag (header + body + optional footer), 0 if none."""
    if len(data) < 10 or data[:3] != b"ID3":
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def mp3_join(parts: list[bytes]) -> bytes:
    """One MP3 stream from several: MPEG frames concatenate, so only the ID3 tags at the
    start of the later parts are dropped (a decoder would otherwise skip them as junk)."""
    if len(parts) == 1:
        return parts[0]
    return parts[0] + b"".join(part[_id3v2_size(part) :] for part in parts[1:])
