"""The generation pipeline's metrics: how long each step and each attempt took, and which
provider errors it met. Recorded by the worker that runs the job (see podnex.metrics for
how several processes' samples reach one scrape)."""

from __future__ import annotations

import threading
import time

from prometheus_client import Counter, Histogram

SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
STEPS = ("script", "speech", "combine", "store", "save")

step_duration = Histogram(
    "podnex_pipeline_step_duration_seconds",
    "Duration of each generation step",
    ["step"],
    buckets=SECONDS,
)
job_duration = Histogram(
    "podnex_job_duration_seconds",
    "Duration of a generation attempt, by how it ended",
    ["outcome"],
    buckets=SECONDS,
)
provider_errors = Counter(
    "podnex_provider_errors", "Provider errors met by the pipeline", ["step", "kind"]
)

# Pipeline phases, derived from the progress figures the pipeline reports (DESIGN.md):
# script 0-25, speech 25-60, combine 60-80, store 80-95, save 95-100.
_phase_lock = threading.Lock()
_phases: dict[str, tuple[str, float]] = {}  # job id -> (step, started at)


def step_of(percent: int) -> str:
    if percent < 25:
        return "script"
    if percent < 60:
        return "speech"
    if percent < 80:
        return "combine"
    if percent < 95:
        return "store"
    return "save"


def pipeline_progress_observe(*, job_id: str, percent: int) -> None:
    """Called on every progress write: closes the previous step when a new one begins."""
    step, now = step_of(percent), time.monotonic()
    with _phase_lock:
        previous = _phases.get(job_id)
        if previous and previous[0] == step:
            return
        _phases[job_id] = (step, now)
    if previous:
        step_duration.labels(step=previous[0]).observe(now - previous[1])


def pipeline_job_finished(*, job_id: str, outcome: str, seconds: float) -> None:
    """Called once an attempt ends: closes its last open step and times the attempt."""
    with _phase_lock:
        previous = _phases.pop(job_id, None)
    if previous and outcome == "completed":
        step_duration.labels(step=previous[0]).observe(time.monotonic() - previous[1])
    job_duration.labels(outcome=outcome).observe(seconds)


def provider_error_observe(*, job_id: str, permanent: bool) -> None:
    with _phase_lock:
        current = _phases.get(job_id)
    provider_errors.labels(
        step=current[0] if current else "unknown",
        kind="permanent" if permanent else "transient",
    ).inc()
