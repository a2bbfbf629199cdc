"""Loopback HTTP servers speaking the providers' real wire formats, and real MP3 bytes.

Each server runs in a thread of the test process on 127.0.0.1, records every request, and
answers through a `respond(request) -> Reply | None` hook a test may replace (None means
"answer normally").
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from podcasts.pipeline.audio import configure_ffmpeg

TONE_SECONDS = (0.4, 0.8, 1.2)


@cache
def mp3_tone(seconds: float, frequency: int = 440) -> bytes:
    """A real MP3 (with ID3 tag and Xing header, as encoders write them) made by ffmpeg."""
    result = subprocess.run(
        [
            configure_ffmpeg(),
            "-v", "error", "-f", "lavfi",
            "-i", f"sine=frequency={frequency}:duration={seconds}:sample_rate=24000",
            "-ac", "1", "-b:a", "48k", "-f", "mp3", "pipe:1",
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    return result.stdout


def tone_for(text: str) -> float:
    """Which tone length a line gets: lines say "line <n>", so tests can predict it."""
    for word in text.replace(".", " ").split():
        if word.isdigit():
            return TONE_SECONDS[int(word) % len(TONE_SECONDS)]
    return TONE_SECONDS[0]


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts, slow providers)


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.respond: Callable[[Request], Reply | None] = lambda request: None
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every answer

            def log_message(self, *args):  # keep the test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                )
                with server.lock:
                    server.requests.append(request)
                reply = server.respond(request) or server.answer(request)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                content_type = "audio/mpeg"
                if isinstance(body, dict):
                    body, content_type = json.dumps(body).encode(), "application/json"
                elif isinstance(body, str):
                    body, content_type = body.encode(), "text/plain"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def to(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def answer(self, request: Request) -> Reply:
        raise NotImplementedError


class UnrealServer(FakeServer):
    """Unreal Speech v8: POST /stream, Bearer key, JSON {Text, VoiceId, ...} -> MP3."""

    api_key = "unreal-test-key"

    def answer(self, request: Request) -> Reply:
        if request.path != "/stream":
            return Reply(404, {"message": "Not found"})
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(401, {"message": "Unauthorized"})
        body = request.json
        if not body.get("VoiceId") or not body.get("Text"):
            return Reply(400, {"message": "VoiceId and Text are required"})
        if len(body["Text"]) > 1000:
            return Reply(400, {"message": "Text must be at most 1000 characters"})
        return Reply(200, mp3_tone(tone_for(body["Text"])))


class OpenAIServer(FakeServer):
    """OpenAI: /v1/chat/completions (JSON-schema answers) and /v1/audio/speech (MP3)."""

    api_key = "sk-test"

    def __init__(self) -> None:
        super().__init__()
        # What the "model" writes: a function of the chat request's body.
        self.write: Callable[[dict], str] = lambda body: json.dumps(script_json(12))

    def answer(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return openai_error(401, "Incorrect API key provided", "invalid_api_key")
        body = request.json
        if request.path == "/v1/chat/completions":
            return Reply(200, chat_completion(self.write(body), model=body["model"]))
        if request.path == "/v1/audio/speech":
            if len(body["input"]) > 4096:
                return openai_error(400, "input is longer than 4096 characters", None)
            return Reply(200, mp3_tone(tone_for(body["input"])))
        return openai_error(404, f"Unknown path {request.path}", None)


def openai_error(status: int, message: str, code: str | None, headers=None) -> Reply:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return Reply(status, body, headers or {})


def chat_completion(content: str | None, *, model: str, refusal: str | None = None,
                    finish_reason: str = "stop") -> dict:  # fmt: skip
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def script_json(lines: int, words_per_line: int = 50, title: str = "Bees at work") -> dict:
    """A script of `lines` lines saying "line <n>" and enough words to hit a length."""
    filler = " ".join(["buzz"] * (words_per_line - 3))
    return {
        "title": title,
        "lines": [
            {"speaker": "host" if n % 2 == 0 else "guest", "text": f"This is line {n}. {filler}."}
            for n in range(lines)
        ],
    }


def user_prompt(body: dict) -> str:
    return "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")
