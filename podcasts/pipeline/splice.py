"""Re-render by splicing: replace the MP3 frames of edited lines, keep all the others.

Assembling an episode decodes every clip, measures loudness and encodes the whole MP3:
seconds of work that a one-line edit should not repeat. Episodes are encoded without a
bit reservoir (pipeline/audio.py), so every MP3 frame holds its own data and frames can be
cut and joined anywhere. A re-render then:

1. lines up the old script with the new one (difflib) by what each line sounds like
   (speaker, voice, text); runs of unchanged lines keep their frames;
2. for each changed run, cuts the old MP3 at frame boundaries inside the pauses around
   it, and encodes only the new lines (with their pauses, and the loudness chain the
   episode was normalised with) into frames that fill the gap;
3. joins the frames, patches the Info header (frame count, bytes, seek table, end
   padding) and the title tag, and shifts the later transcript times by what the new
   frames added or removed.

Anything unexpected (no manifest of the last render, another encoder layout, a frame
that leans on the bit reservoir) returns None, and the caller assembles the whole episode.
"""

from __future__ import annotations

import difflib
import inspect
import io
import logging
import math
import os
import struct
import tempfile
from dataclasses import dataclass

from mutagen.id3 import ID3, TIT2, ID3NoHeaderError

from podcasts.pipeline import audio
from podcasts.providers.base import SpeechClip
from podcasts.scripts import line_sound, lines_to_voice  # noqa: F401 - used by callers

logger = logging.getLogger(__name__)

SAMPLES_PER_FRAME = 1152  # MPEG-1 Layer III
MARGIN = 0.03  # seconds of the old pause kept on each side of a cut, clear of the speech
_BITRATES = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
_RATES = [44100, 48000, 32000]
_PAUSES = inspect.signature(audio.audio_assemble).parameters


def pause_seconds(before: str | None, after: str | None) -> float:
    """The pause the assembler puts between two speakers' lines (None = episode edge)."""
    if before is None:
        return audio.LEAD_IN_MS / 1000
    if after is None:
        return audio.LEAD_OUT_MS / 1000
    key = "pause_ms" if before == after else "turn_pause_ms"
    return _PAUSES[key].default / 1000


@dataclass
class Mp3Layout:
    head: bytes  # ID3v2 tag, if any
    info: bytes  # the Xing/Info frame
    frames: list[bytes]  # audio frames
    sample_rate: int
    delay: int  # encoder delay, samples
    padding: int  # end padding, samples


def _frame_size(header: bytes) -> tuple[int, int] | None:
    """(size, sample rate) of an MPEG-1 Layer III frame, None for anything else."""
    if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xFE) != 0xFA:
        return None  # not sync + MPEG-1 + Layer III
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if bitrate_index in (0, 15) or rate_index == 3:
        return None
    rate = _RATES[rate_index]
    return 144000 * _BITRATES[bitrate_index] // rate + ((header[2] >> 1) & 1), rate


def _side_info_offset(frame: bytes) -> int:
    return 4 if frame[1] & 1 else 6  # protection bit 0 means a 16-bit CRC follows


def _main_data_begin(frame: bytes) -> int:
    at = _side_info_offset(frame)
    return (frame[at] << 1) | (frame[at + 1] >> 7)


def _info_fields(info: bytes) -> tuple[int, int] | None:
    """Offset of the Xing/Info tag in the frame and its flags."""
    found = max(info.find(b"Xing", 0, 64), info.find(b"Info", 0, 64))
    if found < 0:
        return None
    return found, struct.unpack(">I", info[found + 4 : found + 8])[0]


def _lame_offset(info: bytes) -> int | None:
    fields = _info_fields(info)
    if fields is None:
        return None
    at, flags = fields
    at += 8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4)
    at += 4 * bool(flags & 8)
    if len(info) < at + 24 or not info[at : at + 4].isalpha():
        return None
    return at


def mp3_layout(data: bytes) -> Mp3Layout | None:
    start = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        start = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
    frames = []
    position, rate = start, None
    while position + 4 <= len(data):
        known = _frame_size(data[position : position + 4])
        if known is None:
            if data[position : position + 3] == b"TAG":
                break  # an ID3v1 tag ends the audio
            return None
        size, frame_rate = known
        if rate not in (None, frame_rate):
            return None
        rate = frame_rate
        frames.append(data[position : position + size])
        position += size
    if len(frames) < 2 or _info_fields(frames[0]) is None:
        return None
    info = frames[0]
    lame = _lame_offset(info)
    if lame is None:
        return None
    packed = int.from_bytes(info[lame + 21 : lame + 24], "big")
    return Mp3Layout(
        head=data[:start],
        info=info,
        frames=frames[1:],
        sample_rate=rate,
        delay=packed >> 12,
        padding=packed & 0xFFF,
    )


def _info_patched(info: bytes, *, frames: int, audio_bytes: int, padding: int) -> bytes:
    out = bytearray(info)
    at, flags = _info_fields(info)
    field = at + 8
    if flags & 1:
        out[field : field + 4] = struct.pack(">I", frames)
        field += 4
    if flags & 2:
        out[field : field + 4] = struct.pack(">I", audio_bytes + len(info))
        field += 4
    if flags & 4:  # seek table: constant bitrate, so position is proportional to time
        out[field : field + 100] = bytes(min(255, i * 256 // 100) for i in range(100))
    lame = _lame_offset(info)
    packed = int.from_bytes(out[lame + 21 : lame + 24], "big")
    packed = (packed & ~0xFFF) | (padding & 0xFFF)
    out[lame + 21 : lame + 24] = packed.to_bytes(3, "big")
    return bytes(out)


@dataclass
class Spliced:
    mp3: bytes
    duration: float
    segments: list[dict]
    voiced_seconds: float  # speech of the new lines only
    speech_end: float  # where the last line's speech ends (before the closing silence)


@dataclass
class _Chunk:
    frames: list[bytes]
    delay: int
    padding: int
    # Per new line: (start, end) in seconds from the chunk's first frame's start.
    spans: list[tuple[float, float]]


def _encode_chunk(
    pieces: list[tuple[float, bytes | None]], *, chain: str, title: str
) -> _Chunk | None:
    """Encode silences and lines, [(seconds of silence before, pcm or None)], as frames;
    spans are the lines' times from the start of the chunk's first frame."""
    rate = audio.COMMON_SAMPLE_RATE
    width = audio.SAMPLE_WIDTH
    with tempfile.TemporaryDirectory(prefix="podnex-splice-") as tmp:
        path = os.path.join(tmp, "chunk.pcm")
        spans = []
        position = 0
        with open(path, "wb") as out:
            for silence_before, pcm in pieces:
                gap = audio.silence(int(round(silence_before * 1000)), rate)
                out.write(gap)
                position += len(gap) // width
                if pcm is not None:
                    pcm = pcm if len(pcm) % width == 0 else pcm[:-1]
                    start = position
                    out.write(pcm)
                    position += len(pcm) // width
                    spans.append((start / rate, position / rate))
        encoded = audio.encode_mp3(path, title=title, artist="", chain=chain)
    layout = mp3_layout(encoded)
    if layout is None:
        return None
    offset = layout.delay / layout.sample_rate
    return _Chunk(
        frames=layout.frames,
        delay=layout.delay,
        padding=layout.padding,
        spans=[(start + offset, end + offset) for start, end in spans],
    )


def splice_possible(old_mp3: bytes) -> bool:
    """Whether the old episode's frames can be cut apart (checked before voicing lines)."""
    layout = mp3_layout(old_mp3) if old_mp3 else None
    return layout is not None and not any(_main_data_begin(f) for f in layout.frames)


def _cuts(before, after, *, rate: int, delay: int, count: int) -> tuple[int, int]:
    """Frames [left, right) of the old MP3 to replace: from inside the pause after
    `before` to inside the pause before `after` (or the file's start / end)."""
    left = 0
    if before is not None:
        left = math.ceil(((before["end"] + MARGIN) * rate + delay) / SAMPLES_PER_FRAME)
    right = count
    if after is not None:
        right = math.floor(((after["start"] - MARGIN) * rate + delay) / SAMPLES_PER_FRAME)
    return left, right


def _pieces(
    lines: list[dict],
    *,
    clips: list[SpeechClip | None],
    before: dict | None,
    after: dict | None,
    kept_before: float,
    kept_after: float,
    delay_seconds: float,
) -> list[tuple[float, bytes | None]] | None:
    """The new lines as [(silence before, pcm)], closing with the silence up to the cut.

    The pauses around them add up, with the old silence kept on either side of the cuts
    and the encoder's delay, to the pauses the assembler would have put there."""
    pieces: list[tuple[float, bytes | None]] = []
    previous = before["speaker"] if before else None
    for index, (line, clip) in enumerate(zip(lines, clips)):
        if clip is None:
            return None
        gap = pause_seconds(previous, line["speaker"])
        if index == 0 and before is not None:
            gap -= kept_before + delay_seconds
        pieces.append((max(gap, 0.0), audio.decode_clip(clip)))
        previous = line["speaker"]
    closing = pause_seconds(previous, after["speaker"] if after else None) - kept_after
    if not lines and before is not None:  # lines deleted: one pause, cut on both sides
        closing -= kept_before + delay_seconds
    if after is not None:
        # The encoder pads the chunk to whole frames, 0 to 1 frame of silence: aim half a
        # frame short, so that the pause after it is off by half a frame at most.
        closing -= SAMPLES_PER_FRAME / 2 / audio.OUTPUT_SAMPLE_RATE
    pieces.append((max(closing, 0.0), None))
    return pieces


def splice(
    *,
    old_mp3: bytes,
    old_lines: list[dict],
    new_lines: list[dict],
    clips: dict[int, SpeechClip],
    chain: str,
    title: str,
) -> Spliced | None:
    """The new episode from the old one. `old_lines`: the last render's manifest lines
    [{sound, speaker, start, end}] (seconds; `end` is where speech ends). `new_lines`:
    [{sound, speaker, text, ...}]. `clips`: index in new_lines -> clip, for every new line
    whose sound the old episode lacks (see `lines_to_voice`)."""
    layout = mp3_layout(old_mp3) if old_mp3 else None
    if layout is None or not chain or not old_lines:
        return None
    if any(_main_data_begin(frame) for frame in layout.frames):
        return None  # encoded with a bit reservoir: frames can not be cut apart
    splicer = _Splicer(layout, old_lines, new_lines, clips=clips, chain=chain, title=title)
    matcher = difflib.SequenceMatcher(
        None, [line["sound"] for line in old_lines], [line["sound"] for line in new_lines], False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            splicer.keep(i1, i2, j1)
        elif not splicer.replace(i1, i2, j1, j2):
            return None
    return splicer.finish()


class _Splicer:
    """Builds the new frame list region by region, tracking where every line now plays."""

    def __init__(self, layout: Mp3Layout, old_lines, new_lines, *, clips, chain, title):
        self.layout, self.old_lines, self.new_lines = layout, old_lines, new_lines
        self.clips, self.chain, self.title = clips, chain, title
        self.rate, self.delay = layout.sample_rate, layout.delay
        self.frames: list[bytes] = []
        self.spans: list[tuple[float, float] | None] = [None] * len(new_lines)
        self.taken = 0  # old frames used up so far
        self.shift = 0.0  # how much later than before the old audio now plays
        self.voiced_seconds = 0.0
        self.padding = layout.padding

    def boundary_time(self, k: int) -> float:
        """Playable time at which old frame k starts."""
        return (k * SAMPLES_PER_FRAME - self.delay) / self.rate

    def keep(self, i1: int, i2: int, j1: int) -> None:
        for offset, old in enumerate(self.old_lines[i1:i2]):
            self.spans[j1 + offset] = (old["start"] + self.shift, old["end"] + self.shift)

    def replace(self, i1: int, i2: int, j1: int, j2: int) -> bool:
        """Old lines [i1, i2) become new lines [j1, j2); False when that can't be cut."""
        old = self.old_lines
        before = old[i1 - 1] if i1 > 0 else None
        after = old[i2] if i2 < len(old) else None
        left, right = _cuts(
            before, after, rate=self.rate, delay=self.delay, count=len(self.layout.frames)
        )
        if left < self.taken or right < left:
            return False  # the pause is too short to cut inside it
        pieces = _pieces(
            self.new_lines[j1:j2],
            clips=[self.clips.get(j) for j in range(j1, j2)],
            before=before,
            after=after,
            kept_before=self.boundary_time(left) - before["end"] if before else 0.0,
            kept_after=after["start"] - self.boundary_time(right) if after else 0.0,
            delay_seconds=self.delay / self.rate,
        )
        chunk = _encode_chunk(pieces, chain=self.chain, title=self.title) if pieces else None
        if chunk is None or chunk.delay != self.delay:
            return False  # another encoder: its frames would not line up with ours
        self.frames.extend(self.layout.frames[self.taken : left])
        self.taken = right
        start = self.boundary_time(left) + self.shift
        for offset, (span_start, span_end) in enumerate(chunk.spans):
            self.spans[j1 + offset] = (start + span_start, start + span_end)
            self.voiced_seconds += span_end - span_start
        self.frames.extend(chunk.frames)
        self.shift += (len(chunk.frames) - (right - left)) * SAMPLES_PER_FRAME / self.rate
        if after is None:
            self.padding = chunk.padding
        return True

    def finish(self) -> Spliced:
        frames = self.frames + self.layout.frames[self.taken :]
        body = b"".join(frames)
        info = _info_patched(
            self.layout.info, frames=len(frames), audio_bytes=len(body), padding=self.padding
        )
        mp3 = _retitled(self.layout.head + info + body, self.title)
        duration = (len(frames) * SAMPLES_PER_FRAME - self.delay - self.padding) / self.rate
        limit = int(duration * 1000) / 1000
        segments = [
            {
                "speaker": line["speaker"],
                "text": line["text"],
                "start": min(round(start, 3), limit),
                "end": min(round(end, 3), limit),
            }
            for line, (start, end) in zip(self.new_lines, self.spans)
        ]
        segments[-1]["end"] = limit  # the last line holds the closing silence, as assembled
        return Spliced(
            mp3=mp3,
            duration=duration,
            segments=segments,
            voiced_seconds=self.voiced_seconds,
            speech_end=self.spans[-1][1],
        )


def _retitled(mp3: bytes, title: str) -> bytes:
    buffer = io.BytesIO(mp3)
    try:
        tags = ID3(buffer)
    except ID3NoHeaderError:
        return mp3
    if str(tags.get("TIT2", "")) == title:
        return mp3
    tags.setall("TIT2", [TIT2(encoding=3, text=title)])
    buffer.seek(0)
    tags.save(buffer, v2_version=3)
    return buffer.getvalue()
