"""Load with a fault: the production process layout under a steady stream of work, one
Celery worker SIGKILLed part-way, and a check that nothing was lost or charged twice.

Starts, on PostgreSQL + Redis: uvicorn (ASGI, BENCH_WEB_WORKERS processes) and two Celery
workers (offline script writer and eSpeak NG speech), on a fresh database
`<DATABASE_URL name>_bench`, with Redis at REDIS_URL (that Redis database is FLUSHED).
A second process drives it for BENCH_SECONDS: creates at BENCH_CREATE_RATE per second
(each with an Idempotency-Key) while BENCH_POLLERS threads, at BENCH_READ_RATE requests
per second in all (open loop), poll the status of the podcasts created so far (4 in 5)
and list them (1 in 5). Half-way through, the first worker is killed with
SIGKILL; its job comes back after CELERY_VISIBILITY_TIMEOUT (15 s here) on the other one.

Prints requests per second, p50/p99 latency per route and the error count, then waits for
every podcast to reach a final state and checks that every completed one was charged
exactly once (one UsageRecord, counters equal to the completions).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/podnex \\
    REDIS_URL=redis://127.0.0.1:6379/15 python bench/load.py
    BENCH_SECONDS=60 BENCH_CREATE_RATE=0.5 BENCH_READ_RATE=40 python bench/load.py

Without PostgreSQL and Redis configured it says so and exits 0 (make bench runs it).
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
CREATE_RATE = float(os.environ.get("BENCH_CREATE_RATE", "0.5"))  # per second
POLLERS = int(os.environ.get("BENCH_POLLERS", "8"))
# Open loop: reads arrive at this total rate whatever the latency (a closed loop would only
# measure its own queue). 4 in 5 are status polls, 1 in 5 list calls.
READ_RATE = float(os.environ.get("BENCH_READ_RATE", "40"))  # per second
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "1"))
# Workers below the web in CPU priority when they share a machine: speech synthesis and
# ffmpeg are batch work, status polls are interactive. 0 runs them at the web's priority.
WORKER_NICE = int(os.environ.get("BENCH_WORKER_NICE", "10"))
DRAIN_SECONDS = float(os.environ.get("BENCH_DRAIN_SECONDS", "300"))
VISIBILITY_TIMEOUT = 15
NOTES = """# Honeybees
A colony has one queen, thousands of female workers and a few hundred male drones.
Workers change jobs as they age: they clean cells, feed larvae, build comb and forage.
A forager who finds flowers performs a waggle dance; its angle points to the food.
"""


# --- The driver (second process) -----------------------------------------------------------


def drive(base: str, api_key: str, seconds: float) -> None:
    import requests

    headers = {"X-API-Key": api_key}
    created: list[str] = []
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def record(label: str, started: float, response=None, exc=None) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.setdefault(label, []).append(elapsed)
            if exc is not None:
                errors.append(f"{label}: {type(exc).__name__}: {exc}")
            elif response.status_code >= 400:
                errors.append(f"{label}: {response.status_code} {response.text[:200]}")

    def call(session, label, method, url, extra_headers=None, **kwargs):
        started = time.perf_counter()
        try:
            response = session.request(
                method, url, headers={**headers, **(extra_headers or {})}, timeout=30, **kwargs
            )
        except requests.RequestException as exc:
            record(label, started, exc=exc)
            return None
        record(label, started, response)
        return response

    def creator() -> None:
        session = requests.Session()
        next_at = time.monotonic()
        while time.monotonic() < stop_at:
            # Keyed, so that the retry after a lost answer cannot make a second podcast.
            key = {"Idempotency-Key": str(uuid.uuid4())}
            for _attempt in range(2):
                response = call(
                    session,
                    "POST /podcasts",
                    "POST",
                    f"{base}/api/v1/podcasts",
                    extra_headers=key,
                    json={"noteContent": NOTES, "duration": "short"},
                )
                if response is not None:
                    break
            if response is not None and response.status_code == 202:
                with lock:
                    created.append(response.json()["podcast"]["id"])
            next_at += 1 / CREATE_RATE
            time.sleep(max(0.0, next_at - time.monotonic()))

    def poller(index: int) -> None:
        session = requests.Session()
        rng = random.Random(index)
        count = 0
        interval = POLLERS / READ_RATE
        next_at = time.monotonic() + rng.uniform(0, interval)
        while time.monotonic() < stop_at:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
            with lock:
                podcast_id = rng.choice(created) if created else None
            count += 1
            if podcast_id is None or count % 5 == 0:
                call(session, "GET /podcasts", "GET", f"{base}/api/v1/podcasts?limit=20")
            else:
                call(
                    session,
                    "GET /podcasts/{id}/status",
                    "GET",
                    f"{base}/api/v1/podcasts/{podcast_id}/status",
                )

    threads = [threading.Thread(target=creator)]
    threads += [threading.Thread(target=poller, args=(i,)) for i in range(POLLERS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    json.dump(
        {
            "created": created,
            "latencies": latencies,
            "errors": errors,
            "seconds": time.monotonic() - started,
        },
        sys.stdout,
    )


# --- The orchestrator ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_database(url: str) -> str:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/") + "_bench"
    admin = urlunparse(parsed._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(parsed._replace(path=f"/{name}"))


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),  # noqa: SIM115 - lives as long as the process
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        print("bench/load.py: needs DATABASE_URL (PostgreSQL) and REDIS_URL; skipped")
        return
    var_dir = Path(tempfile.mkdtemp(prefix="podnex-load-"))
    env = {
        **os.environ,
        "DATABASE_URL": bench_database(database_url),
        "REDIS_URL": redis_url,
        "PODNEX_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "RATE_LIMIT_MAX_REQUESTS": "1000000000",
        "PODCAST_CREATE_BURST_MAX": "1000000000",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "SCRIPT_WRITER": "offline",
        "TTS_PROVIDER": "espeak",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    import django
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    os.environ["DJANGO_SETTINGS_MODULE"] = "podnex.settings"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
        check=True,
    )  # fmt: skip
    django.setup()
    from apikeys.services import api_key_create
    from billing.models import Subscription, SubscriptionPlan
    from billing.services import subscription_for
    from tests.factories import UserFactory

    user = UserFactory(email="load@example.com")
    subscription = subscription_for(user=user)
    Subscription.objects.filter(pk=subscription.pk).update(
        plan=SubscriptionPlan.BUSINESS, monthly_podcast_limit=None, monthly_minutes_limit=None
    )
    key_row, api_key = api_key_create(user=user, name="load")
    # The limits are not what this measures (a longer run would pass the 100k/hour cap).
    type(key_row).objects.filter(pk=key_row.pk).update(rate_limit=10**9)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = start(
        [sys.executable, "-m", "uvicorn", "podnex.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(WEB_WORKERS), "--no-access-log"],
        env, var_dir / "web.log",
    )  # fmt: skip
    workers = [
        start(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "podnex",
                "worker",
                "-Q",
                "celery,webhooks",
                "--concurrency",
                str(WORKER_CONCURRENCY),
                "-n",
                f"load{i}@%h",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            env,
            var_dir / f"worker{i}.log",
        )  # fmt: skip
        for i in (1, 2)
    ]
    try:
        _wait_for(base)
        print(
            f"web: uvicorn x{WEB_WORKERS}; workers: 2 x concurrency {WORKER_CONCURRENCY} "
            f"(nice {WORKER_NICE}); "
            f"{SECONDS:.0f} s, {CREATE_RATE}/s creates, {READ_RATE}/s reads over {POLLERS} "
            "threads; "
            f"worker 1 SIGKILLed at {SECONDS / 2:.0f} s"
        )
        driver = subprocess.Popen(
            [sys.executable, __file__, "--drive", base, api_key, str(SECONDS)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(SECONDS / 2)
        os.killpg(workers[0].pid, signal.SIGKILL)
        out, _ = driver.communicate(timeout=SECONDS + 120)
        result = json.loads(out)
        _report(result)
        _verify(result["created"], user)
    finally:
        for process in [web, *workers]:
            stop(process)
        print(f"(logs in {var_dir})")


def _wait_for(base: str) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("web server did not start")


def _report(result: dict) -> None:
    total = sum(len(v) for v in result["latencies"].values())
    print(
        f"\n{total} requests in {result['seconds']:.1f} s = {total / result['seconds']:.0f} req/s"
    )
    print(f"{'route':28} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for label, values in sorted(result["latencies"].items()):
        print(
            f"{label:28} {len(values):7d} {statistics.median(values):8.1f} "
            f"{percentile(values, 0.99):8.1f} {max(values):8.1f}"
        )
    print(f"errors: {len(result['errors'])}")
    for line in result["errors"][:10]:
        print(f"  {line}")


def _verify(created: list[str], user) -> None:
    from django.db.models import Count

    from billing.models import Subscription, UsageRecord
    from podcasts.models import FINAL_STATUSES, Podcast, PodcastJob, PodcastStatus

    started = time.monotonic()
    while True:
        pending = Podcast.objects.filter(id__in=created).exclude(status__in=FINAL_STATUSES)
        if not pending.exists() or time.monotonic() - started > DRAIN_SECONDS:
            break
        time.sleep(1)
    drained = time.monotonic() - started
    by_status = dict(
        Podcast.objects.filter(id__in=created)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    completed = set(
        Podcast.objects.filter(id__in=created, status=PodcastStatus.COMPLETED).values_list(
            "id", flat=True
        )
    )
    charges = dict(
        UsageRecord.objects.filter(podcast_id__in=created)
        .values("podcast_id")
        .annotate(n=Count("id"))
        .values_list("podcast_id", "n")
    )
    not_final = len(created) - sum(by_status.get(s, 0) for s in FINAL_STATUSES)
    double = [p for p, n in charges.items() if n > 1]
    uncharged = [p for p in completed if charges.get(p, 0) == 0]
    charged_not_completed = [p for p in charges if p not in completed]
    counter = Subscription.objects.get(user=user).current_podcast_count
    redelivered = PodcastJob.objects.filter(podcast_id__in=created, attempts__gt=1).count()
    print(
        f"\ncreated {len(created)}; after {drained:.0f} s of drain: "
        + ", ".join(f"{s.lower()} {n}" for s, n in sorted(by_status.items()))
    )
    print(
        f"not final: {not_final}; completed charged exactly once: "
        f"{len(completed) - len(uncharged)}/{len(completed)}; double-charged: {len(double)}; "
        f"charged but not completed: {len(charged_not_completed)}; "
        f"subscription counter {counter} (completed {len(completed)}); "
        f"jobs run twice (re-delivered after the kill): {redelivered}"
    )
    ok = not (not_final or double or uncharged or charged_not_completed) and counter == len(
        completed
    )
    print("RESULT:", "nothing lost, nothing double-charged" if ok else "PROBLEM (see above)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        drive(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        main()
