"""What the README's commands leave in a clone is ignored by git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "path", ["episode.mp3", "episode.json", "episode.srt", "var/db.sqlite3", "var/shot.png"]
)
def test_the_cli_and_make_run_outputs_are_ignored_by_git(path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, capture_output=True
    )
    assert result.returncode == 0, f"{path} would show up in git status"
