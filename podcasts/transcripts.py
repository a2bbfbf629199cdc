"""Transcript renderings: SRT, WebVTT and plain text from segments {speaker,text,start,end}."""

from __future__ import annotations

SPEAKER_NAMES = {"host": "Host", "guest": "Guest"}


def _clock(seconds: float, *, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _speaker(segment: dict) -> str:
    # Segments name their speaker; transcripts stored before speakers had names do not.
    name = segment.get("name")
    return name or SPEAKER_NAMES.get(segment["speaker"], segment["speaker"].title())


def transcript_srt(segments: list[dict]) -> str:
    blocks = []
    for number, seg in enumerate(segments, start=1):
        span = f"{_clock(seg['start'], separator=',')} --> {_clock(seg['end'], separator=',')}"
        blocks.append(f"{number}\n{span}\n{_speaker(seg)}: {seg['text']}\n")
    return "\n".join(blocks)


def transcript_vtt(segments: list[dict]) -> str:
    blocks = ["WEBVTT\n"]
    for seg in segments:
        span = f"{_clock(seg['start'], separator='.')} --> {_clock(seg['end'], separator='.')}"
        # WebVTT voice spans name the speaker so players can style them; the annotation
        # ends at ">", and "&", "<" are escaped in cue text.
        name = _speaker(seg).replace(">", "")
        blocks.append(f"{span}\n<v {_vtt_escape(name)}>{_vtt_escape(seg['text'])}\n")
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def transcript_txt(segments: list[dict]) -> str:
    return "\n\n".join(f"{_speaker(seg)}: {seg['text']}" for seg in segments) + "\n"


RENDERERS = {
    "srt": (transcript_srt, "application/x-subrip; charset=utf-8"),
    "vtt": (transcript_vtt, "text/vtt; charset=utf-8"),
    "txt": (transcript_txt, "text/plain; charset=utf-8"),
}
