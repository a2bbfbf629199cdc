"""Real documents nobody on this project wrote, for the writer's benchmarks, and the
shared machinery: run the real offline pipeline on one and measure what came out.

Documents: READMEs copied from installed packages' METADATA (tests/fixtures/readmes, see
SOURCES.txt there), an HTML page rendered from one by docutils, and texts that ship with
the system, read where they are: Python's LICENSE (the history of the software, prose
then legal text), Debian's apt README (reference), bash's NEWS (a changelog) and the
Filesystem Hierarchy README of base-files (prose). Missing system files are skipped.

    python bench/_corpus.py   # lists the corpus and each document's size
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")
os.environ.setdefault("PODNEX_VAR_DIR", tempfile.mkdtemp(prefix="podnex-bench-"))

READMES = ROOT / "tests" / "fixtures" / "readmes"
STDLIB = Path(sysconfig.get_paths()["stdlib"])


@dataclass
class Document:
    name: str
    kind: str
    text: str


def _read(path: Path) -> str | None:
    try:
        if path.suffix == ".gz":
            return gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


CANDIDATES = [
    ("celery README", "readme (rst)", READMES / "celery.rst"),
    ("ruff README", "readme (badges, tables)", READMES / "ruff.md"),
    ("openai README", "readme (code-heavy)", READMES / "openai.md"),
    ("python-dotenv README", "readme + changelog", READMES / "python_dotenv.md"),
    ("charset-normalizer README", "readme + tables + changelog", READMES / "charset_normalizer.md"),
    ("sentry-sdk README", "short readme", READMES / "sentry_sdk.md"),
    ("dj-database-url README", "reference (rst)", READMES / "dj_database_url.rst"),
    ("kombu page", "html page", READMES / "kombu_docutils.html"),
    ("Python LICENSE", "prose + legal", STDLIB / "LICENSE.txt"),
    ("apt README", "reference (md)", Path("/usr/share/doc/apt/README.md.gz")),
    ("bash NEWS", "changelog (plain)", Path("/usr/share/doc/bash/NEWS.gz")),
    ("base-files FHS README", "prose (plain)", Path("/usr/share/doc/base-files/README.FHS")),
]


def corpus() -> list[Document]:
    documents = []
    for name, kind, path in CANDIDATES:
        text = _read(path)
        if text and text.strip():
            documents.append(Document(name, kind, text))
    return documents


def produce(text: str, duration: str):
    """The real offline pipeline (offline writer, eSpeak NG, assembly): an Episode."""
    from podcasts.pipeline.generate import EpisodeRequest, episode_produce  # noqa: PLC0415

    request = EpisodeRequest(
        notes=text, duration=duration.upper(), title=None, host_voice="host",
        guest_voice="guest", tts_provider="espeak",
    )  # fmt: skip
    return episode_produce(request, progress=lambda percent, step: None)


def loudness(mp3: bytes) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's ebur128 filter."""
    with tempfile.NamedTemporaryFile(suffix=".mp3") as handle:
        handle.write(mp3)
        handle.flush()
        result = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-nostats", "-i", handle.name,
             "-af", "ebur128=peak=true", "-f", "null", "-"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    summary = result.stderr[result.stderr.rfind("Summary:") :]
    integrated = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    return (
        float(integrated.group(1)) if integrated else float("nan"),
        float(peak.group(1)) if peak else float("nan"),
    )


def setup() -> None:
    import django  # noqa: PLC0415 - the environment above must be set first

    django.setup()


if __name__ == "__main__":
    for document in corpus():
        print(f"{document.name:28} {document.kind:30} {len(document.text):>7} characters")
