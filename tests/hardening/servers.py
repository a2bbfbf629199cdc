"""Real processes for the fault tests: the web server and Celery workers as subprocesses on
the test database, and a TCP proxy in front of PostgreSQL that a test can cut and restore."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(*, host: str | None = None, port: int | None = None) -> str:
    """The test database (pytest-django's test_<name>), as a URL for a subprocess."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{host or db.get('HOST') or '127.0.0.1'}:"
        f"{port or db.get('PORT') or 5432}/{db['NAME']}"
    )


def subprocess_env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "PODNEX_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DATABASE_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


class Process:
    """A subprocess in its own process group, its output in a log file."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path):
        self.log = log
        self._log_file = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the whole group (a prefork worker's parent and children): no clean-up."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")


def web_server(tmp_path: Path, *, env: dict[str, str]) -> tuple[Process, str]:
    port = free_port()
    process = Process(
        [sys.executable, "-m", "uvicorn", "podnex.asgi:application", "--port", str(port),
         "--host", "127.0.0.1", "--no-access-log"],
        env=env,
        log=tmp_path / f"web-{port}.log",
    )  # fmt: skip
    return process, _wait_until_serving(process, f"http://127.0.0.1:{port}")


def celery_worker(tmp_path: Path, name: str, *, env: dict[str, str]) -> Process:
    return Process(
        [sys.executable, "-m", "celery", "-A", "podnex", "worker", "-Q", "celery,webhooks",
         "--concurrency", "1", "-n", f"{name}@%h", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle"],
        env=env,
        log=tmp_path / f"worker-{name}.log",
    )  # fmt: skip


class TcpProxy:
    """127.0.0.1:<port> forwarded to a target. `cut()` drops every connection and refuses
    new ones (the database "goes away"); `restore()` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener:
            # shutdown() wakes the thread blocked in accept(); close() alone would leave the
            # port listening until that accept() returned.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    close = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def procfile_command(process_type: str) -> str:
    """The Procfile's command line for one process type, as a shell would run it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process_type:
            # Same interpreter as the tests; loopback only (the Procfile serves 0.0.0.0).
            command = command.strip().replace("python ", f"{sys.executable} ", 1)
            return command.replace("--host 0.0.0.0", "--host 127.0.0.1")
    raise AssertionError(f"no {process_type!r} line in the Procfile")


def procfile_web(tmp_path: Path, *, env: dict[str, str]) -> tuple[Process, str]:
    """The Procfile's `web` line, started through a shell as honcho would, on a free port."""
    port = free_port()
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": "1"}
    process = Process(
        ["bash", "-c", f"exec {procfile_command('web')}"],
        env=env,
        log=tmp_path / f"procfile-web-{port}.log",
    )
    return process, _wait_until_serving(process, f"http://127.0.0.1:{port}")


def _wait_until_serving(process: Process, base: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            # The first request of a fresh process is slow on a busy machine: wait for it.
            requests.get(f"{base}/api/health", timeout=20, allow_redirects=False)
            return base
        except requests.RequestException:
            if process.popen.poll() is not None or time.monotonic() > deadline:
                process.stop()
                raise AssertionError(f"web server did not start:\n{process.output()}") from None
            time.sleep(0.1)


def sqlite_or_postgres_url() -> str:
    """The test database as a URL for a subprocess, whichever engine the suite runs on."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{connection.settings_dict['NAME']}"
    return database_url()
