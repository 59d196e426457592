"""Order freshness benchmark (a script, not a test): how long a new order, or a status change,
takes to reach our database while beat runs the streams against rate-limited marketplaces.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python benchmarks/freshness.py [--minutes 5]

The sandbox runs as a real HTTP server in a subprocess with its documented rate limits on
(`manage.py sandbox --limits`) and its clock following the wall clock (`--real-time TICK`), so
orders appear as they are made: on Ozon and WB one every 60 days / --orders (30 s by default), on
YM two per tick, and older orders move through their statuses. The client keeps its own limits on
(MARKETPLACE_LIMITS_ENABLED=1). A real Celery beat and worker (prefork, one process per
marketplace queue by default) run the beat schedule of config/schedule.py against Redis, on a
fresh database <DATABASE_URL's name>_freshbench.

Before the window the shop is in a steady state: its catalogue synced, and every change stream
synced once from two hours back (as if it had been running), so beat runs only what is due.

Printed: per marketplace and scheme, p50/p95 of the delay from an order's creation to its row in
our database (also from the sandbox tick that made it visible), p50/p95 from a status change (of
an order stored before it) to its OrderStatusChange row,
and the 429/420 answers the sandbox gave. Target: p95 <= 90 s for FBS orders, 0 limit answers.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sync import bench_database, free_port, make_accounts  # noqa: E402  (after the path is set)

CATALOGUE = ("warehouses", "listings", "prices", "stocks", "promotions")
CHANGES = ("orders", "returns", "reviews", "questions", "finance")
HISTORY = timedelta(hours=2)  # how far back the steady state's change streams were synced
QUEUES = "celery,sync_ozon,sync_wildberries,sync_yandex_market"


def start_sandbox(products: int, orders: int, tick: float) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    start = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--port", str(port), "--products", str(products),
         "--orders", str(orders), "--start", start.isoformat(), "--limits", "--real-time", str(tick)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_control/state", timeout=2).raise_for_status()
            return process, url
        except httpx.HTTPError:
            if process.poll() is not None:
                raise SystemExit("the sandbox server exited") from None
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the sandbox server did not start in 120 s")


def sandbox_state(url: str) -> dict[str, Any]:
    import httpx

    return httpx.get(f"{url}/_control/state", timeout=10).json()  # type: ignore[no-any-return]


def steady_state(accounts: list[Any]) -> None:
    """The catalogue synced, and each change stream synced once from HISTORY back."""
    from django.utils import timezone

    from integrations.models import SyncState
    from integrations.sync import engine

    since = timezone.now() - HISTORY + engine.overlap()  # the engine reads from watermark - overlap
    for account in accounts:
        for stream in CATALOGUE:
            engine.run_stream(account, stream, trigger="bench", flush_rows=engine.BATCH_ROWS)
        for stream in CHANGES:
            SyncState.objects.update_or_create(account=account, stream=stream, defaults={"watermark": since})
            run = engine.run_stream(account, stream, trigger="bench", flush_rows=engine.BATCH_ROWS)
            print(f"  {account.marketplace:14} {stream:10} {run.fetched:>6} rows", flush=True)


def start_celery(env: dict[str, str], workdir: Path, concurrency: int) -> list[subprocess.Popen[bytes]]:
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    log = open(workdir / "celery.log", "wb")  # noqa: SIM115  (closed with the processes)
    worker = subprocess.Popen(
        [*celery, "worker", "--loglevel=INFO", f"--concurrency={concurrency}", "-Q", QUEUES,
         "--hostname", f"freshbench-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    beat = subprocess.Popen(
        [*celery, "beat", "--loglevel=INFO", "--schedule", str(workdir / "celerybeat-schedule")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    return [worker, beat]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Each was started in its own session: its group holds it and its children (the pool)."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def summary(values: list[float]) -> str:
    if not values:
        return "     —         —      (0)"
    return f"{percentile(values, 0.5):6.1f} s  {percentile(values, 0.95):6.1f} s  ({len(values)})"


def collect(window_start: datetime, tick: float) -> tuple[Any, ...]:
    """Delays of orders made in the window (creation -> stored, visible -> stored), and of status
    changes in the window of orders stored before them."""
    from orders.models import Order, OrderStatusChange

    created: dict[tuple[str, str], list[float]] = defaultdict(list)
    visible: dict[tuple[str, str], list[float]] = defaultdict(list)
    for marketplace, scheme, ordered_at, stored_at in Order.objects.filter(ordered_at__gte=window_start).values_list(
        "account__marketplace", "scheme", "ordered_at", "created_at"
    ):
        key = (marketplace, scheme)
        created[key].append((stored_at - ordered_at).total_seconds())
        stamp = ordered_at.timestamp()
        shown = math.ceil(stamp / tick) * tick  # the first tick of the sandbox's clock at or after it
        visible[key].append(stored_at.timestamp() - shown)
    changed: dict[tuple[str, str], list[float]] = defaultdict(list)
    undated: dict[tuple[str, str], int] = defaultdict(int)
    for marketplace, scheme, changed_at, recorded_at in (
        OrderStatusChange.objects.filter(changed_at__gte=window_start, order__created_at__lt=window_start)
        .exclude(from_status="")
        .values_list("order__account__marketplace", "order__scheme", "changed_at", "recorded_at")
    ):
        if changed_at == recorded_at:  # the marketplace gave no time of the change: ingest stamped it
            undated[(marketplace, scheme)] += 1
            continue
        changed[(marketplace, scheme)].append((recorded_at - changed_at).total_seconds())
    return created, visible, changed, undated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the measured window")
    parser.add_argument("--orders", type=int, default=172_800,
                        help="orders per marketplace over the sandbox's 60 days of history: sets the rate")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--tick", type=float, default=5.0, help="seconds between moves of the sandbox's clock")
    parser.add_argument("--concurrency", type=int, default=3, help="worker processes (one per marketplace)")
    parser.add_argument("--drain", type=float, default=120.0,
                        help="seconds after the window for orders made in it to arrive (counted if they do)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("Set DATABASE_URL (PostgreSQL) and REDIS_URL (a Redis database beat and the worker may use).")

    os.environ["DATABASE_URL"] = bench_database(os.environ["DATABASE_URL"], "_freshbench")
    os.environ["MARKETPLACE_LIMITS_ENABLED"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # stale messages, locks and buckets of earlier runs
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    sandbox, url = start_sandbox(args.products, args.orders, args.tick)
    print(f"sandbox at {url} in {time.perf_counter() - t0:.1f}s: limits on, clock real time (tick {args.tick:g}s),"
          f" {args.orders} orders/marketplace of history", flush=True)
    processes: list[subprocess.Popen[bytes]] = [sandbox]
    workdir = Path(tempfile.mkdtemp(prefix="freshbench-"))
    try:
        accounts = make_accounts(url, ["ozon", "wildberries", "yandex_market"])
        t0 = time.perf_counter()
        steady_state(accounts)
        print(f"steady state in {time.perf_counter() - t0:.1f}s", flush=True)
        limits_before = sandbox_state(url)["limit_answers"]
        processes += start_celery(dict(os.environ), workdir, args.concurrency)
        window_start = datetime.now(UTC)
        print(f"window: {args.minutes:g} min from {window_start:%H:%M:%S} UTC (beat + worker, log {workdir})",
              flush=True)
        time.sleep(args.minutes * 60)
        window_end = datetime.now(UTC)
        time.sleep(args.drain)
        limits = sandbox_state(url)["limit_answers"]
    finally:
        stop(processes[1:])
        stop(processes[:1])

    from orders.models import Order

    created, visible, changed, undated = collect(window_start, args.tick)
    made_late = Order.objects.filter(ordered_at__gte=window_end).count()
    print(f"\norders made {window_start:%H:%M:%S}-{window_end:%H:%M:%S} UTC, stored by +{args.drain:g}s "
          f"(made after the window and stored: {made_late}, not counted)")
    print(f"{'marketplace':14} {'scheme':6} {'creation -> stored p50/p95 (n)':32} {'visible -> stored p50/p95':26}"
          f" {'status change -> stored p50/p95 (n)'}")
    keys = sorted(set(created) | set(changed) | set(undated))
    for key in keys:
        window_created = created.get(key, [])
        note = f"  (+{undated[key]} without a change time)" if undated.get(key) else ""
        print(f"{key[0]:14} {key[1]:6} {summary(window_created):32} {summary(visible.get(key, [])):26} "
              f"{summary(changed.get(key, []))}{note}")
    fbs = [d for (_, scheme), values in created.items() if scheme == "FBS" for d in values]
    everything = [d for values in created.values() for d in values]
    changes = [d for values in changed.values() for d in values]
    print(f"{'all':14} {'FBS':6} {summary(fbs)}")
    print(f"{'all':14} {'any':6} {summary(everything)}{'':6}status changes: {summary(changes)}")
    violations = {k: limits[k] - limits_before.get(k, 0) for k in limits}
    print(f"429/420 answers from the sandbox in the window: {sum(violations.values())} {violations}"
          f" (while the steady state was synced, before it: {limits_before})")
    target = fbs and percentile(fbs, 0.95) <= 90 and not sum(violations.values())
    print("target (FBS p95 <= 90 s, 0 limit answers): " + ("met" if target else "NOT met"))


if __name__ == "__main__":
    main()
