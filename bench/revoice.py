"""Re-render after a one-line edit vs a fresh render, side by side in one run.

A 60-line episode (about 25 words a line, some ten minutes of speech) is rendered through
the real pipeline (`episode_render`: line cache, speech, assembly, loudness, MP3), then
one line is edited and the episode rendered again with the same line cache. For each
speech provider the bench prints wall time and provider requests of both renders, and the
re-render as a share of the fresh one (target: <= 15%).

- unreal: the real Unreal Speech client against a loopback server that answers each line
  after LATENCY seconds (a paid provider's usual pace) with real MP3 bytes;
- espeak: eSpeak NG in-process (free and fast, so assembly is most of the work).

    python bench/revoice.py [--lines 60] [--latency 0.4]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")
os.environ.setdefault("PODNEX_VAR_DIR", tempfile.mkdtemp(prefix="podnex-bench-"))

import django  # noqa: E402

django.setup()

from django.test import override_settings  # noqa: E402

from podcasts import storage  # noqa: E402
from podcasts.pipeline import generate  # noqa: E402
from podcasts.pipeline.audio import configure_ffmpeg  # noqa: E402
from podcasts.scripts import new_line_id, new_section_id  # noqa: E402

TARGET = 0.15
SENTENCES = [
    "Honeybees share the way to good flowers with a dance on the comb",
    "the angle of the waggle run points at the food relative to the sun",
    "and the length of the run tells the others how far they have to fly",
    "workers change jobs as they age, from cleaning cells to feeding larvae",
    "a colony can hold forty thousand bees in the middle of the summer",
]


def line_text(n: int) -> str:
    first, second = SENTENCES[n % 5], SENTENCES[(n + 2) % 5]
    return f"Point {n}: {first}, {second}."


def document(lines: int) -> dict:
    speakers = [
        {"id": "host", "name": "Host", "role": "host", "voice": ""},
        {"id": "guest", "name": "Guest", "role": "guest", "voice": ""},
    ]
    rows = [
        {"id": new_line_id(), "speaker": ("host", "guest")[n % 2], "text": line_text(n)}
        for n in range(lines)
    ]
    return {
        "title": "Revoice bench",
        "speakers": speakers,
        "sections": [{"id": new_section_id(), "title": "All", "lines": rows}],
    }


class CountingServer:
    """Unreal Speech /stream on loopback: counts requests, answers after `latency`."""

    def __init__(self, latency: float) -> None:
        command = [configure_ffmpeg(), "-v", "error", "-f", "lavfi", "-i",
                   "sine=frequency=300:duration=9:sample_rate=24000", "-ac", "1",
                   "-b:a", "48k", "-f", "mp3", "pipe:1"]  # fmt: skip
        mp3 = subprocess.run(command, capture_output=True, check=True).stdout
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests += 1
                time.sleep(latency)
                self.send_response(200)
                self.send_header("Content-Type", "audio/mpeg")
                self.send_header("Content-Length", str(len(mp3)))
                self.end_headers()
                self.wfile.write(mp3)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


def render(doc: dict, provider: str, previous=None):
    """(seconds, lines voiced, lines reused, audio seconds, assembly seconds, episode)."""
    marks: dict[int, float] = {}

    def progress(percent: int, step: str) -> None:
        marks[percent] = time.perf_counter()

    started = time.perf_counter()
    episode = generate.episode_render(
        doc, tts_provider=provider, title=doc["title"], progress=progress, previous=previous
    )
    return (
        time.perf_counter() - started,
        episode.lines_voiced,
        episode.lines_reused,
        episode.audio.duration,
        marks[80] - marks[60],
        episode,
    )


def compare(provider: str, lines: int, overrides: dict, counter=None) -> bool:
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media, **overrides):
        doc = document(lines)
        doc["speakers"] = generate.voices_assign(
            provider_name=provider, speakers=doc["speakers"], language="en"
        )
        sent = counter.requests if counter else 0
        fresh = render(doc, provider)
        fresh_requests = (counter.requests - sent) if counter else fresh[1]

        # The re-render sees the episode as a job would: its MP3 in storage, and the
        # manifest of the render that made it.
        key = storage.audio_upload(key="bench/episode.mp3", data=fresh[5].audio.mp3)
        previous = {"key": key, "manifest": fresh[5].manifest}
        doc["sections"][0]["lines"][lines // 2]["text"] = "An edited line, said again."
        sent = counter.requests if counter else 0
        again = render(doc, provider, previous)
        again_requests = (counter.requests - sent) if counter else again[1]

    share = again[0] / fresh[0]
    print(f"\n{provider}: {lines} lines, {fresh[3] / 60:.1f} min of audio")
    for label, run, requests in (("fresh render", fresh, fresh_requests),
                                 ("re-render   ", again, again_requests)):  # fmt: skip
        print(f"  {label}: {run[0]:6.2f} s (assembly {run[4]:5.2f} s), {requests:3d} provider "
              f"requests ({run[1]} voiced, {run[2]} reused)")  # fmt: skip
    requests_share = again_requests / max(fresh_requests, 1)
    print(f"  re-render / fresh: time {share:.0%}, requests {requests_share:.0%} "
          f"(target time <= {TARGET:.0%})")  # fmt: skip
    return share <= TARGET


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.4, help="loopback seconds per line")
    args = parser.parse_args()

    server = CountingServer(args.latency)
    unreal = {
        "UNREAL_SPEECH_API_KEY": "bench",
        "UNREAL_SPEECH_BASE_URL": server.url,
        "TTS_CONCURRENCY_UNREAL": 8,
        "TTS_LINE_CACHE": True,
    }
    print(f"loopback Unreal Speech answers each line after {args.latency * 1000:.0f} ms, "
          "8 lines at once")  # fmt: skip
    results = [
        compare("unreal", args.lines, unreal, counter=server),
        compare("espeak", args.lines, {"TTS_LINE_CACHE": True}),
    ]
    server.httpd.shutdown()
    print("\nOK" if all(results) else "\nBELOW TARGET for at least one provider")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
