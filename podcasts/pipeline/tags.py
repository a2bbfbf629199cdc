"""ID3 frames added to the finished MP3 with mutagen: chapters (CHAP + CTOC, the ID3v2
Chapter Frame Addendum that podcast apps read) and the cover art (APIC)."""

from __future__ import annotations

import os
import tempfile

from mutagen.id3 import APIC, CHAP, CTOC, ID3, TIT2, CTOCFlags, ID3NoHeaderError

from podcasts.chapters import Chapter


def mp3_tag(mp3: bytes, *, chapters: list[Chapter], artwork: bytes | None, mime: str) -> bytes:
    """The same MP3 with chapter and cover frames added to its ID3v2 tag."""
    with tempfile.TemporaryDirectory(prefix="podnex-tags-") as tmp:
        path = os.path.join(tmp, "episode.mp3")
        with open(path, "wb") as out:
            out.write(mp3)
        try:
            tags = ID3(path)
        except ID3NoHeaderError:
            tags = ID3()
        for frame in ("CHAP", "CTOC", "APIC"):
            tags.delall(frame)
        ids = [f"chp{index}" for index in range(len(chapters))]
        tags.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text=["Chapters"])],
            )
        )
        for element_id, chapter in zip(ids, chapters):
            tags.add(
                CHAP(
                    element_id=element_id,
                    start_time=int(chapter.start * 1000),
                    end_time=int(chapter.end * 1000),
                    sub_frames=[TIT2(encoding=3, text=[chapter.title])],
                )
            )
        if artwork:
            tags.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=artwork))
        tags.save(path, v2_version=3)
        with open(path, "rb") as tagged:
            return tagged.read()
