"""Mail in these tests goes where production's would go through Django's file backend: one
file per connection under a temporary folder, read back and parsed with the `email` package.
A loopback SMTP server speaks the real protocol for the retry tests."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

SEPARATOR = b"\n" + b"-" * 79 + b"\n"


class Mailbox:
    def __init__(self, folder: Path):
        self.folder = folder

    def messages(self) -> list[EmailMessage]:
        found = []
        for path in sorted(self.folder.glob("*.log")):
            for raw in path.read_bytes().split(SEPARATOR):
                if raw.strip():
                    found.append(email.message_from_bytes(raw, policy=email.policy.default))
        return found

    def wait_for(self, count: int, timeout: float = 60) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages()
            if len(messages) >= count:
                return messages
            time.sleep(0.2)
        pytest.fail(f"expected {count} mail(s), got {len(self.messages())}")


@pytest.fixture
def mailbox(settings, tmp_path) -> Mailbox:
    folder = tmp_path / "mail"
    folder.mkdir()
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(folder)
    return Mailbox(folder)


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a multipart/alternative mail."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: answers MAIL FROM with the next queued
    reply (e.g. 421 busy) and otherwise accepts the message."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self):
        server = self.server
        self.reply("220 loopback ESMTP")
        while True:
            line = self.rfile.readline().decode(errors="replace").strip()
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 loopback")
            elif verb == "MAIL":
                refusal = server.refusals.pop(0) if server.refusals else None
                self.reply(refusal or "250 OK")
            elif verb == "RCPT":
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data)
                server.received.append(b"".join(lines))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def smtp_server(settings):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    server.refusals = []
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.shutdown()
    server.server_close()


from tests.billing.conftest import webhook_key  # noqa: E402, F401  (Dodo's signing key fixture)
