"""Fixtures of the operations tests: staff users, a gated fast episode producer, an
S3-compatible server (moto) on loopback, and PodNex itself under uvicorn (ASGI)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.test import Client

from podcasts import services
from tests.factories import SAMPLE_NOTES, UserFactory
from tests.webhooks_app.conftest import allow_loopback, receiver, workers  # noqa: F401

TINY_MP3 = (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(413)) * 8


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True)


def queued_podcast(user, **fields):
    return services.podcast_create(
        user=user, note_content=SAMPLE_NOTES, tts_provider="espeak", **fields
    )


class GatedEpisode:
    """Stands in for the script/speech/combine steps (their own tests live in
    tests/podcasts): it reports the pipeline's progress figures, and when `gated` it waits
    for the test's go-ahead before each report, so a test can watch events one by one."""

    STEPS = [
        (0, "Writing script"),
        (25, "Script generated"),
        (40, "Voicing line 1 of 2"),
        (60, "Audio generated"),
        (80, "Audio combined"),
    ]

    def __init__(self, *, gated: bool = False):
        self.gated = gated
        self.go = threading.Semaphore(0)
        self.calls = 0

    def release(self, n: int = 1) -> None:
        for _ in range(n):
            self.go.release()

    def __call__(self, request, *, progress):
        from podcasts.pipeline.audio import AssembledAudio
        from podcasts.pipeline.generate import Episode
        from podcasts.providers.base import HOST, Script, ScriptLine

        self.calls += 1
        for percent, step in self.STEPS:
            if self.gated:
                assert self.go.acquire(timeout=30), "the test never released the next step"
            progress(percent, step)
        if self.gated:  # and once more, so that the last step is seen before the upload
            assert self.go.acquire(timeout=30), "the test never released the upload"
        script = Script(title="Bees", lines=[ScriptLine(HOST, "Hello bees.")])
        audio = AssembledAudio(
            mp3=TINY_MP3,
            duration=3.0,
            segments=[{"speaker": "host", "text": "Hello bees.", "start": 0.0, "end": 3.0}],
        )
        return Episode(title=request.title or "Bees", script=script, audio=audio)


@pytest.fixture
def episode(monkeypatch):
    from podcasts.pipeline import generate

    producer = GatedEpisode()
    monkeypatch.setattr(generate, "episode_produce", producer)
    return producer


# --- S3 ------------------------------------------------------------------------------------

BUCKET = "podnex-test-audio"


@pytest.fixture(scope="session")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


ACCESS_KEY, SECRET_KEY = "test-key", "test-secret"


def presigned_refusal(method: str, host: str, path_and_query: str) -> str | None:
    """What S3 checks on a presigned request and moto does not: the SigV4 signature over the
    URL (so the expiry cannot be edited) and the expiry itself. None when acceptable."""
    from datetime import UTC, datetime, timedelta
    from unittest import mock
    from urllib.parse import parse_qsl, urlencode, urlsplit

    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    parts = urlsplit(path_and_query)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(pairs)
    if "X-Amz-Signature" not in params:
        return None
    signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expires = int(params["X-Amz-Expires"])
    region = params["X-Amz-Credential"].split("/")[2]
    unsigned = [(k, v) for k, v in pairs if not k.startswith("X-Amz-")]
    request = AWSRequest(method=method, url=f"http://{host}{parts.path}?{urlencode(unsigned)}")
    signer = S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", region, expires=expires)
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        signer.add_auth(request)
    expected = dict(parse_qsl(urlsplit(request.url).query))["X-Amz-Signature"]
    if expected != params["X-Amz-Signature"]:
        return "SignatureDoesNotMatch"
    if datetime.now(UTC) > signed_at + timedelta(seconds=expires):
        return "Request has expired"
    return None


@pytest.fixture(scope="session")
def s3_endpoint(moto_server):
    """moto behind a loopback proxy that refuses presigned requests S3 would refuse."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import requests

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _forward(self):
            refusal = presigned_refusal(self.command, self.headers["Host"], self.path)
            if refusal:
                body = (
                    f"<Error><Code>AccessDenied</Code><Message>{refusal}</Message></Error>"
                ).encode()
                self.send_response(403)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            data = self._body()
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in ("host", "transfer-encoding", "content-length", "expect")
            }
            upstream = requests.request(
                self.command,
                moto_server + self.path,
                data=data,
                headers=headers,
                timeout=10,
                allow_redirects=False,
            )
            self.send_response(upstream.status_code)
            for name, value in upstream.headers.items():
                if name.lower() not in (
                    "transfer-encoding",
                    "connection",
                    "content-length",
                    "content-encoding",
                    "server",
                    "date",
                ):
                    self.send_header(name, value)
            length = len(upstream.content)
            if self.command == "HEAD":
                length = upstream.headers.get("Content-Length", "0")
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(upstream.content)

        def _body(self) -> bytes | None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else None

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def s3(settings, s3_endpoint):
    """Switch storage to S3 on the moto server, the way S3_BUCKET_NAME does in settings."""
    import boto3

    moto_server = s3_endpoint
    client = boto3.client(
        "s3",
        endpoint_url=moto_server,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.S3_BUCKET_NAME = BUCKET
    settings.S3_CDN_URL = ""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "region_name": "us-east-1",
                "endpoint_url": moto_server,
                "querystring_auth": True,
                "file_overwrite": True,
                "default_acl": None,
                "signature_version": "s3v4",
                "addressing_style": "path",
            },
        },
    }
    yield client
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in listed:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


# --- PodNex under an ASGI server -------------------------------------------------------------


class AsgiServer:
    def __init__(self):
        import uvicorn

        from podnex.asgi import application

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(application, lifespan="off", log_config=None, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def asgi_server(transactional_db):
    with AsgiServer() as server:
        yield server
    from django.db import connections

    connections.close_all()


def session_cookie(user) -> dict[str, str]:
    """A real Django session for `user`, as a browser's EventSource would send it."""
    client = Client()
    client.force_login(user)
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
