"""Speech step of one job, sequential vs parallel, against a loopback TTS server.

A 40-line script is voiced through the real Unreal Speech client and the real pipeline
(`episode_produce`), the server answering every line after 300 ms with real MP3 bytes.
The speech step (progress 25% -> 60%) is timed with concurrency 1 and 8 in the same run
and compared with the ideal, ceil(40 / 8) x 300 ms.

    python bench/pipeline_parallel.py
"""

from __future__ import annotations

import math
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

from podcasts.pipeline import generate  # noqa: E402
from podcasts.pipeline.audio import configure_ffmpeg  # noqa: E402
from podcasts.providers import registry  # noqa: E402
from podcasts.providers.base import GUEST, HOST, Script, ScriptLine  # noqa: E402

LINES = 40
LATENCY = 0.300  # seconds the server takes per line
TARGET_SPEEDUP = 5.0
TARGET_OF_IDEAL = 1.3


def tone_mp3() -> bytes:
    command = [configure_ffmpeg(), "-v", "error", "-f", "lavfi", "-i",
               "sine=frequency=440:duration=0.5:sample_rate=24000", "-ac", "1", "-b:a", "48k",
               "-f", "mp3", "pipe:1"]  # fmt: skip
    return subprocess.run(command, capture_output=True, check=True).stdout


def tts_server(mp3: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every answer

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(LATENCY)
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", str(len(mp3)))
            self.end_headers()
            self.wfile.write(mp3)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class FortyLines:
    name = "bench"

    def write(self, **kwargs) -> Script:
        lines = [
            ScriptLine(HOST if n % 2 == 0 else GUEST, f"Line {n}: a sentence worth saying.")
            for n in range(LINES)
        ]
        return Script(title="Benchmark", lines=lines)


def speech_step_seconds(concurrency: int, base_url: str) -> float:
    marks: dict[int, float] = {}

    def progress(percent: int, step: str) -> None:
        if percent in (25, 60):
            marks.setdefault(percent, time.perf_counter())

    request = generate.EpisodeRequest(
        notes="-", duration="SHORT", title="Benchmark", host_voice="host",
        guest_voice="guest", tts_provider="unreal",
    )  # fmt: skip
    # A fresh media folder per run: the line cache must not turn the second run into hits.
    with (
        tempfile.TemporaryDirectory() as media,
        override_settings(
            MEDIA_ROOT=media,
            UNREAL_SPEECH_API_KEY="bench",
            UNREAL_SPEECH_BASE_URL=base_url,
            TTS_CONCURRENCY_UNREAL=concurrency,
        ),
    ):
        generate.episode_produce(request, progress=progress)
    return marks[60] - marks[25]


def main() -> int:
    registry.script_writer = FortyLines  # the script step is not what is measured
    server = tts_server(tone_mp3())
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    speech_step_seconds(8, base_url)  # warm-up: imports, ffmpeg, connection pool

    sequential = speech_step_seconds(1, base_url)
    parallel = speech_step_seconds(8, base_url)
    ideal = math.ceil(LINES / 8) * LATENCY
    speedup = sequential / parallel
    of_ideal = parallel / ideal

    print(f"{LINES} lines, server latency {LATENCY * 1000:.0f} ms per line")
    print(f"  speech step, concurrency 1: {sequential:6.2f} s")
    print(f"  speech step, concurrency 8: {parallel:6.2f} s")
    print(f"  ideal, ceil({LINES}/8) x {LATENCY * 1000:.0f} ms: {ideal:6.2f} s")
    print(f"  speed-up {speedup:.1f}x (target >= {TARGET_SPEEDUP:g}x), "
          f"{of_ideal:.2f}x the ideal (target <= {TARGET_OF_IDEAL:g}x)")  # fmt: skip
    server.shutdown()
    ok = speedup >= TARGET_SPEEDUP and of_ideal <= TARGET_OF_IDEAL
    print("OK" if ok else "BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
