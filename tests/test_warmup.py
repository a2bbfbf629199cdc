"""A web process pays its start-up costs before it serves (podnex.warmup): the URLconf with
every view imported, and the heap that outlives every request moved out of the collector's
way. Checked in a fresh interpreter, as uvicorn and gunicorn start one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.conf import settings

PROBE = """
import gc, json, sys
import {module}
print(json.dumps({{
    "views": [m for m in ("podcasts.views", "billing.views", "ops.staff") if m in sys.modules],
    "frozen": gc.get_freeze_count(),
}}))
"""


@pytest.mark.parametrize("module", ["podnex.asgi", "podnex.wsgi"])
def test_a_web_process_imports_its_views_and_freezes_its_heap_before_serving(module):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout.strip().splitlines()[-1])
    # Without the warm-up the first request imported these (0.5 s while others waited).
    assert state["views"] == ["podcasts.views", "billing.views", "ops.staff"]
    # Django, the apps and their libraries: far more than a bare interpreter's few thousand.
    assert state["frozen"] > 100_000
