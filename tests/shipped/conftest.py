"""The stack a newcomer gets: a copy of the project in a temporary folder, started with the
README's `make run` on a free port, with no environment beyond what `make run` itself sets
(no DATABASE_URL, REDIS_URL, EMAIL_URL, broker or cache overrides). Tests talk to it over
HTTP and read the e-mails it prints, as a person would."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 300
# What a fresh clone does not have: build output, caches and the developer's own var/.
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "var", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules"
)
# Variables of the developer's or CI's shell that a newcomer does not have.
NOT_INHERITED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "PODNEX_ENV",
    "NODE_ENV",
    "PODNEX_VAR_DIR",
    "MEDIA_ROOT",
    "DJANGO_SETTINGS_MODULE",
    "BETTER_AUTH_URL",
    "PUBLIC_BASE_URL",
    "FRONTEND_URL",
    "PORT",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    base: str
    folder: Path
    output: Path

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def mailed_link(self, pattern: str, *, after: int = 0, timeout: float = 30) -> str:
        """The first link matching `pattern` printed (console e-mail) after offset `after`."""
        regex = re.compile(re.escape(self.base) + pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = regex.search(self.log(), after)
            if found:
                return found.group(0)
            time.sleep(0.3)
        pytest.fail(f"no e-mail with {pattern} was printed; output:\n{self.log()[-4000:]}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    folder = tmp_path_factory.mktemp("fresh-clone") / "podnex"
    shutil.copytree(ROOT, folder, ignore=NOT_COPIED)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    venv = sys.prefix  # the venv running the tests: `make run` would install the same one
    output = folder.parent / "make-run.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            # -o: the venv is installed already; never reinstall it from the copy's files.
            ["make", "-o", f"{venv}/.installed", "run", f"PORT={port}", f"VENV={venv}"],
            cwd=folder,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )
    stack = Stack(base=f"http://127.0.0.1:{port}", folder=folder, output=output)
    try:
        wait_until_up(stack, process)
        yield stack
    finally:
        stop(process)


def wait_until_up(stack: Stack, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make run exited with {process.returncode}:\n{stack.log()[-6000:]}")
        try:
            if requests.get(f"{stack.base}/api/health", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    pytest.fail(f"make run did not serve in {START_SECONDS}s:\n{stack.log()[-6000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # honcho stops web, worker, beat and webhooks
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
