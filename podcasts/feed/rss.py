"""The feed document: RSS 2.0 with the itunes and podcast (Podcasting 2.0) namespaces.

Built with the standard library's ElementTree, which escapes every text and attribute.
Every URL in it lives under the feed's token (`/feeds/<token>/...`), so it works exactly
as long as the feed URL does, whatever storage holds the files.
"""

from __future__ import annotations

import math
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from django.conf import settings

from podcasts import transcripts
from podcasts.chapters import CHAPTERS_CONTENT_TYPE, chapters_of
from podcasts.feed import services
from podcasts.models import Feed, Podcast
from podcasts.storage import AUDIO_CONTENT_TYPE

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
for _prefix, _uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
    ET.register_namespace(_prefix, _uri)

DESCRIPTION_CHARS = 3800  # Apple cuts descriptions at 4000


def base_url(token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/feeds/{token}"


def feed_cover_url(feed: Feed, token: str) -> str:
    return f"{base_url(token)}/cover-{int(feed.updated_at.timestamp())}.jpg"


def episode_cover_url(podcast: Podcast, base: str) -> str:
    stamp = int(podcast.updated_at.timestamp())  # a new cover saves the podcast
    return f"{base}/episodes/{podcast.id}/cover-{stamp}.jpg"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _it(name: str) -> str:
    return f"{{{ITUNES}}}{name}"


def _pc(name: str) -> str:
    return f"{{{PODCAST}}}{name}"


def _duration(seconds: float | None) -> str:
    total = max(int(math.ceil(seconds or 0)), 0)
    hours, rest = divmod(total, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def episode_description(podcast: Podcast) -> str:
    """From the script: its opening lines, then the chapters."""
    segments = podcast.transcript or []
    opening = " ".join(segment["text"] for segment in segments[:2]).strip()
    chapters = chapters_of(
        segments, duration=podcast.audio_duration or 0, title=podcast.title or "Episode"
    )
    parts = [opening] if opening else []
    if len(chapters) > 1:
        listed = "\n".join(f"{_duration(c.start)} {c.title}" for c in chapters)
        parts.append(f"Chapters:\n{listed}")
    text = "\n\n".join(parts) or (podcast.title or "Episode")
    return text[:DESCRIPTION_CHARS]


def feed_xml(feed: Feed, token: str, episodes: list[Podcast]) -> bytes:
    base = base_url(token)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    title = services.feed_title(feed)
    _sub(channel, "title", title)
    _sub(channel, "link", settings.PUBLIC_BASE_URL + "/")
    _sub(channel, "description", feed.description or f"Episodes made with PodNex: {title}.")
    _sub(channel, "language", feed.language)
    _sub(channel, "generator", "PodNex")
    _sub(channel, f"{{{ATOM}}}link", href=f"{base}.xml", rel="self", type="application/rss+xml")
    newest = max(
        [feed.updated_at] + [p.completed_at for p in episodes if p.completed_at], default=None
    )
    if newest:
        _sub(channel, "lastBuildDate", format_datetime(newest))
    cover = feed_cover_url(feed, token)
    image = _sub(channel, "image")
    _sub(image, "url", cover)
    _sub(image, "title", title)
    _sub(image, "link", settings.PUBLIC_BASE_URL + "/")
    author = services.feed_author(feed)
    _sub(channel, _it("author"), author)
    owner = _sub(channel, _it("owner"))
    _sub(owner, _it("name"), author)
    _sub(channel, _it("image"), href=cover)
    _sub(channel, _it("category"), text=feed.category)
    _sub(channel, _it("explicit"), "true" if feed.explicit else "false")
    _sub(channel, _it("type"), "episodic")
    # A private feed: directories must not list it, nor anyone import it as theirs.
    _sub(channel, _it("block"), "Yes")
    _sub(channel, _pc("locked"), "yes")
    for podcast in episodes:
        _item(channel, podcast, base, feed)
    ET.indent(rss)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def _item(channel: ET.Element, podcast: Podcast, base: str, feed: Feed) -> None:
    item = _sub(channel, "item")
    episode = f"{base}/episodes/{podcast.id}"
    title = podcast.title or "Episode"
    _sub(item, "title", title)
    _sub(item, "guid", f"podnex:{podcast.id}", isPermaLink="false")
    _sub(item, "description", episode_description(podcast))
    _sub(item, "pubDate", format_datetime(podcast.completed_at or podcast.created_at))
    _sub(
        item,
        "enclosure",
        url=f"{episode}.mp3",
        length=str(podcast.audio_size or 0),
        type=AUDIO_CONTENT_TYPE,
    )
    _sub(item, _it("title"), title)
    _sub(item, _it("duration"), _duration(podcast.audio_duration))
    _sub(item, _it("image"), href=episode_cover_url(podcast, base))
    _sub(item, _it("explicit"), "true" if feed.explicit else "false")
    _sub(item, _it("episodeType"), "full")
    language = podcast.language or feed.language
    # VTT (with the speakers' names) last: feedparser keeps the last transcript it sees.
    for extension in ("srt", "vtt"):
        _sub(
            item,
            _pc("transcript"),
            url=f"{episode}.{extension}",
            type=transcripts.RENDERERS[extension][1].split(";")[0],
            language=language,
            rel="captions" if extension == "vtt" else None,
        )
    _sub(item, _pc("chapters"), url=f"{episode}/chapters.json", type=CHAPTERS_CONTENT_TYPE)
