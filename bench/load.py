"""Load with a fault: the production process layout under a steady stream of work, one
Celery worker SIGKILLed part-way, and a check that nothing was lost or charged twice.

Starts, on PostgreSQL + Redis: uvicorn (ASGI, BENCH_WEB_WORKERS processes) and two Celery
workers (offline script writer and eSpeak NG speech), on a fresh database
`<DATABASE_URL name>_bench`, with Redis at REDIS_URL (that Redis database is FLUSHED).
A second process drives it for BENCH_SECONDS: creates at BENCH_CREATE_RATE per second
(each with an Idempotency-Key) while BENCH_POLLERS threads, at BENCH_READ_RATE requests
per second in all (open loop), poll the status of the podcasts created so far (4 in 5)
and list them (1 in 5). From half-way through, the orchestrator asks the first worker (Celery
remote control) what it is running and SIGKILLs it while it is in the middle of a job, and
prints how many jobs were in flight then; those come back after CELERY_VISIBILITY_TIMEOUT
(15 s here) on the other worker.

Prints requests per second, p50/p99 latency per route and the error count; where the stack
saturates (CPU of the web, the workers, PostgreSQL and Redis, sampled each second from
/proc; the Celery queue's length; database connections in use); then waits for every
podcast to reach a final state and checks that every completed one was charged exactly
once (one UsageRecord, counters equal to the completions) and how many jobs ran again.
BENCH_RATE_FACTOR=2 doubles both request rates (the saturation run).

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
RATE_FACTOR = float(os.environ.get("BENCH_RATE_FACTOR", "1"))  # 2: twice the usual load
CREATE_RATE = float(os.environ.get("BENCH_CREATE_RATE", "0.5")) * RATE_FACTOR  # per second
POLLERS = int(os.environ.get("BENCH_POLLERS", "8"))
# Open loop: reads arrive at this total rate whatever the latency (a closed loop would only
# measure its own queue). 4 in 5 are status polls, 1 in 5 list calls.
READ_RATE = float(os.environ.get("BENCH_READ_RATE", "40")) * RATE_FACTOR  # per second
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "1"))
# Workers below the web in CPU priority when they share a machine: speech synthesis and
# ffmpeg are batch work, status polls are interactive. 0 runs them at the web's priority.
# Each process below starts its own session, and where the kernel groups the CPU by session
# (sched_autogroup, on by default) a process's own nice only ranks it within its session:
# the workers' session gets the nice value itself (see lower_priority).
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


def lower_priority(process: subprocess.Popen, nice: int) -> None:
    """Gives the session `process` leads (its children included) the CPU priority `nice`.
    Under sched_autogroup, sessions share the CPU as equals whatever their processes' nice
    values, so `nice -n` alone did not put the workers below the web (measured: status
    requests stalled up to 150 ms while a job started)."""
    autogroup = Path(f"/proc/{process.pid}/autogroup")
    if nice and autogroup.exists():
        autogroup.write_text(str(nice))


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
    nice = ["nice", "-n", str(WORKER_NICE)] if WORKER_NICE else []
    workers = [
        start(
            [
                *nice,
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
    for worker in workers:
        lower_priority(worker, WORKER_NICE)
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
        sampler = Sampler(web=web, workers=workers, database=env["DATABASE_URL"], redis=redis_url)
        sampler.start()
        time.sleep(SECONDS / 2)
        killed = _kill_during_a_job(workers[0], "load1", deadline=time.monotonic() + SECONDS / 2)
        out, _ = driver.communicate(timeout=SECONDS + 120)
        sampler.stop()
        result = json.loads(out)
        _report(result)
        print(killed)
        sampler.report()
        _verify(result["created"], user)
    finally:
        for process in [web, *workers]:
            stop(process)
        print(f"(logs in {var_dir})")


def _kill_during_a_job(worker: subprocess.Popen, name: str, *, deadline: float) -> str:
    """SIGKILL `worker` while it runs a job (asked through Celery's remote control, the
    broker's own view), so that the redelivery path really runs. Returns what it killed."""
    from django.db.models import Q

    from podcasts.models import JobStatus, PodcastJob
    from podnex.celery import app

    destination = [f"{name}@{socket.gethostname()}"]
    while time.monotonic() < deadline:
        active = (app.control.inspect(destination=destination, timeout=1.0).active() or {}).get(
            destination[0], []
        )
        job_ids = [task["id"] for task in active if task.get("name") == "podcasts.generate"]
        # Started for real: its row says PROCESSING (not merely received and about to run).
        running = PodcastJob.objects.filter(
            Q(job_id__in=job_ids), status=JobStatus.PROCESSING
        ).count()
        if running:
            os.killpg(worker.pid, signal.SIGKILL)
            in_flight = PodcastJob.objects.filter(status=JobStatus.PROCESSING).count()
            return (
                f"\nSIGKILL of {name} at {time.strftime('%H:%M:%S')}: {running} job(s) in "
                f"progress on it ({in_flight} processing on all workers)"
            )
        time.sleep(0.2)
    os.killpg(worker.pid, signal.SIGKILL)
    return f"\nSIGKILL of {name}: it never ran a job in the second half; killed idle (0 in flight)"


class Sampler(threading.Thread):
    """Each second: CPU used by each part of the stack (from /proc, as a share of one
    core), the Celery queue's length and the database connections in use."""

    def __init__(self, *, web, workers, database: str, redis: str):
        super().__init__(daemon=True)
        self.groups = {"web": [web.pid], "workers": [w.pid for w in workers]}
        self.database = urlparse(database).path.lstrip("/")
        self.redis_url = redis
        self.samples: list[dict[str, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        import psycopg
        import redis

        client = redis.Redis.from_url(self.redis_url)
        admin = os.environ["DATABASE_URL"].replace(self.database, "postgres")
        with psycopg.connect(admin.replace("postgres://", "postgresql://", 1)) as conn:
            conn.autocommit = True
            previous, at = self._cpu_ticks(), time.monotonic()
            while not self._halt.wait(1.0):
                ticks, now = self._cpu_ticks(), time.monotonic()
                hz = os.sysconf("SC_CLK_TCK") * (now - at)
                sample = {k: (ticks[k] - previous.get(k, 0)) / hz * 100 for k in ticks}
                sample["queue"] = client.llen("celery")
                sample["db_conns"] = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state <> 'idle'",
                    (self.database,),
                ).fetchone()[0]
                self.samples.append(sample)
                previous, at = ticks, now

    def stop(self) -> None:
        self._halt.set()
        self.join(5)

    def _cpu_ticks(self) -> dict[str, int]:
        totals = dict.fromkeys(["web", "workers", "postgres", "redis"], 0)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                comm = stat.read_text().split("(", 1)[1].rsplit(")", 1)[0]
            except (OSError, IndexError):
                continue
            pgrp, used = int(fields[2]), int(fields[11]) + int(fields[12])
            for group, leaders in self.groups.items():
                if pgrp in leaders:
                    totals[group] += used
            if comm.startswith("postgres"):
                totals["postgres"] += used
            elif comm.startswith("redis-server"):
                totals["redis"] += used
        return totals

    def report(self) -> None:
        if not self.samples:
            return
        print(f"\nsaturation ({len(self.samples)} one-second samples; CPU in % of one core)")
        print(f"{'part':10} {'mean':>7} {'p90':>7} {'max':>7}")
        for key in ["web", "workers", "postgres", "redis", "db_conns", "queue"]:
            values = [sample[key] for sample in self.samples]
            print(
                f"{key:10} {statistics.mean(values):7.1f} {percentile(values, 0.9):7.1f} "
                f"{max(values):7.1f}"
            )
        queue = [sample["queue"] for sample in self.samples]
        third = max(1, len(queue) // 3)
        growing = statistics.mean(queue[-third:]) > statistics.mean(queue[:third]) + 1
        print(
            "celery queue "
            + ("grows through the run: the workers are the bottleneck" if growing else "keeps up")
            + f" (cores on this machine: {os.cpu_count()}; load average now "
            + f"{os.getloadavg()[0]:.1f})"
        )


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
