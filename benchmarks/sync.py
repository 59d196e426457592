"""Benchmark of the pull sync against the sandbox (a script, not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything .venv/bin/python benchmarks/sync.py [--scale 0.1]

At scale 1: 100k listings and about 1M order lines across the three marketplaces. The sandbox runs
as a real HTTP server in a subprocess (rate limits off; MARKETPLACE_LIMITS_ENABLED=0 for the
client), so this process's memory is the sync's own. The data goes into a fresh database
<DATABASE_URL's name>_syncbench, dropped and re-created on every run.

Prints rows/s per stream, the full sync's time over a raw COPY of the same rows into the same
tables (same run), the time of a resync of unchanged data over the first sync, and the peak RSS of
the largest worker process. Each (account, stream) is a task, as beat dispatches them, run by
--workers forked processes as the Celery worker's prefork pool runs them; --workers 1 runs them in
this process. Targets: full sync <= 3x COPY, unchanged resync <= 0.5x first, peak memory <= 500 MB.

Two resyncs of the unchanged data are timed: the one beat runs (change streams from their saved
cursors, catalogue streams in full), and a forced full re-read of everything (`sync --full`, which
downloads and compares every row again).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LISTINGS_AT_SCALE_1 = 100_000  # across the three marketplaces (the same catalogue on each)
ORDER_LINES_AT_SCALE_1 = 1_000_000
LINES_PER_ORDER = 1.33  # what the three sandboxes generate on average (measured at small scale)

# Tables the sync writes, children after parents (the order COPY restores them in).
TABLES = [
    "catalog_warehouse", "catalog_product", "catalog_listing", "pricing_price", "catalog_stocklevel",
    "orders_order", "orders_orderline", "orders_orderstatuschange", "orders_return", "reviews_review",
    "reviews_question", "pricing_promotion", "pricing_promotionoffer", "analytics_financeoperation",
    "analytics_feeline",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_database(url: str, suffix: str = "_syncbench") -> str:
    """A fresh database next to the one DATABASE_URL names (its name + suffix); returns its URL."""
    import psycopg

    parts = urlparse(url)
    name = (parts.path.lstrip("/") or "postgres") + suffix
    admin = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(parts._replace(path=f"/{name}"))


def start_sandbox(products: int, orders: int, start: datetime) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--port", str(port), "--products", str(products),
         "--orders", str(orders), "--start", start.replace(tzinfo=None).isoformat()],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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


def cpu_seconds(pid: int | None = None) -> float:
    """User+system CPU of this process (or of `pid`, a child still running), from the kernel."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float | None:
    """CPU of the local PostgreSQL server: the postmaster's children (live and exited backends,
    its helpers). None when the server is not on this machine or not readable."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid = int(stat.parent.name)
            if pid == postmaster:  # its own time and that of every child it has reaped
                total += sum(int(f) for f in fields[11:15])
            elif int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def machine_busy_seconds() -> float:
    """CPU-seconds all cores spent not idle, from /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_children() -> float:
    """User+system CPU of this process's finished children (the worker processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def make_accounts(url: str, marketplaces: list[str]) -> list[Any]:
    from integrations.models import MarketplaceAccount
    from integrations.sandbox import credentials as sb

    specs = [
        ("ozon", {"client_id": sb.OZON_CLIENT_ID}, {"api_key": sb.OZON_API_KEY,
                                                     "performance_client_id": sb.OZON_PERFORMANCE_CLIENT_ID,
                                                     "performance_client_secret": sb.OZON_PERFORMANCE_CLIENT_SECRET}),
        ("wildberries", {}, {"token": sb.WB_TOKEN}),
        ("yandex_market", {"business_id": str(sb.YM_BUSINESS_ID)}, {"api_key": sb.YM_API_KEY}),
    ]
    accounts = []
    for marketplace, fields, secrets in specs:
        if marketplace not in marketplaces:
            continue
        account = MarketplaceAccount(marketplace=marketplace, name=f"bench {marketplace}",
                                     base_url=f"{url}/{marketplace}", **fields)
        account.set_credentials(secrets)
        account.save()
        accounts.append(account)
    return accounts


class IngestTimer:
    """Wraps each stream's ingest function to time the database side of the sync."""

    installed: IngestTimer

    def __init__(self) -> None:
        IngestTimer.installed = self
        from integrations.sync import streams

        self.seconds: dict[str, float] = defaultdict(float)
        for name in ["_warehouses", "_listings", "_prices", "_stocks", "_orders", "_returns", "_sales", "_reviews",
                     "_questions", "_promotions", "_finance"]:
            setattr(streams, name, self._wrap(getattr(streams, name), name.lstrip("_")))
        original = streams.ingest_promotion_offers
        streams.ingest_promotion_offers = self._wrap(original, "promotions")  # type: ignore[assignment]

    def _wrap(self, function: Callable[..., Any], stream: str) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args)
            finally:
                elapsed = time.perf_counter() - started
                self.seconds["total"] += elapsed
                self.seconds[stream] += elapsed

        return timed


# What a stream needs stored before it runs (it links its rows to them); everything else about
# the order is free, as with the Celery tasks beat dispatches. Listings and warehouses come first.
NEEDS: dict[str, tuple[str, ...]] = {
    "warehouses": (), "listings": (), "returns": ("orders",), "sales": ("orders",),
}
CATALOGUE = ("warehouses", "listings")
# Longest first, so the pool's last minutes are not one long stream running alone.
WEIGHT = {"orders": 4, "finance": 4, "stocks": 2, "reviews": 2}


def _needs(stream: str) -> tuple[str, ...]:
    return NEEDS.get(stream, CATALOGUE)


def _sync_unit(account: Any, stream: str, full: bool) -> tuple[str, float, int, float, int]:
    """One (account, stream) task, as a Celery worker process runs it; returns the stream, its
    seconds, rows fetched, seconds in ingest and this process's peak RSS (KB) so far."""
    from integrations.sync import engine

    timer = IngestTimer.installed  # a forked worker has its own copy, wrapped around its streams
    ingest_before = timer.seconds[stream]
    t0 = time.perf_counter()
    # The batching the Celery task and the `sync` command use.
    run = engine.run_stream(account, stream, full=full, trigger="bench", flush_rows=engine.BATCH_ROWS)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"  {account.marketplace:14} {stream:11} {run.fetched:>9} fetched {run.created:>9} created "
          f"{run.updated:>7} updated {run.unchanged:>9} unchanged {seconds:7.1f}s peak {peak // 1024} MB", flush=True)
    return stream, seconds, run.fetched, timer.seconds[stream] - ingest_before, peak


def _warm_worker() -> None:
    """What a Celery worker process has loaded before its first task: the adapters."""
    from integrations import registry

    for marketplace in ("ozon", "wildberries", "yandex_market"):
        registry.client_class(marketplace)


def sync_everything(
    accounts: list[Any], full: bool, workers: int
) -> tuple[float, float, dict[str, list[float]], float]:
    """Every (account, stream) as its own task, as beat dispatches them, in `workers` forked
    processes that live for the whole sync (the Celery worker's prefork pool), or in this process
    if 1. A task starts once the streams it links to are stored for its account (NEEDS).
    Returns wall seconds, ingest seconds summed over tasks, per-stream sums, peak RSS in MB of
    the largest worker process."""
    import multiprocessing

    from django.db import connections

    from integrations.sync.streams import STREAM_ORDER

    pending = {(account.pk, stream) for account in accounts for stream in STREAM_ORDER}
    by_pk = {account.pk: account for account in accounts}
    done: set[tuple[int, str]] = set()
    results: list[tuple[str, float, int, float, int]] = []

    def ready() -> list[tuple[int, str]]:
        units = [u for u in pending if all((u[0], need) in done for need in _needs(u[1]))]
        return sorted(units, key=lambda u: (-WEIGHT.get(u[1], 1), STREAM_ORDER.index(u[1]), u[0]))

    started = time.perf_counter()
    if workers <= 1:
        while pending:
            for unit in ready():
                pending.discard(unit)
                results.append(_sync_unit(by_pk[unit[0]], unit[1], full))
                done.add(unit)
    else:
        connections.close_all()  # a forked child must open its own connection
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            running: dict[tuple[int, str], Any] = {}
            while pending or running:
                for unit in ready():
                    pending.discard(unit)
                    running[unit] = pool.apply_async(_sync_unit, (by_pk[unit[0]], unit[1], full))
                finished = [unit for unit, result in running.items() if result.ready()]
                for unit in finished:
                    results.append(running.pop(unit).get())  # re-raises a task's error
                    done.add(unit)
                if not finished:
                    time.sleep(0.05)
    wall = time.perf_counter() - started
    per_stream: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for stream, seconds, fetched, ingest, _ in results:
        per_stream[stream] = [a + b for a, b in zip(per_stream[stream], (seconds, fetched, ingest), strict=True)]
    peak_mb = max(peak for *_, peak in results) / 1024
    return wall, sum(ingest for _, _, _, ingest, _ in results), per_stream, peak_mb


def table_rows() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def raw_copy_seconds(rounds: int = 3) -> float:
    """COPY the synced rows out, then `rounds` times empty the tables and time COPYing the same
    rows back in; the median, because one round swings with PostgreSQL's checkpoints."""
    from django.db import connection, transaction

    dumps: dict[str, bytes] = {}
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table in TABLES:
            buffer = io.BytesIO()
            with raw.copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
                for chunk in copy:
                    buffer.write(chunk)
            dumps[table] = buffer.getvalue()
    times = []
    for _ in range(rounds):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
            raw = cursor.cursor
            started = time.perf_counter()
            for table in TABLES:
                with raw.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                    copy.write(dumps[table])
            times.append(time.perf_counter() - started)
    print("raw COPY rounds: " + ", ".join(f"{t:.1f}s" for t in times), flush=True)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100k listings and ~1M order lines")
    parser.add_argument("--workers", type=int, default=2,
                        help="worker processes syncing accounts at once (as scripts/run's worker); 1 = in this process")
    parser.add_argument("--marketplaces", default="ozon,wildberries,yandex_market",
                        help="comma-separated subset to sync (the sandbox always serves all three)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL (a PostgreSQL server; the benchmark uses its own database on it).")

    products = max(10, round(LISTINGS_AT_SCALE_1 * args.scale / 3))
    orders = max(10, round(ORDER_LINES_AT_SCALE_1 * args.scale / 3 / LINES_PER_ORDER))
    os.environ["DATABASE_URL"] = bench_database(os.environ["DATABASE_URL"])
    os.environ["MARKETPLACE_LIMITS_ENABLED"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("REDIS_URL", None)  # in-process limiter; nothing here needs Redis
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    print(f"sandbox: {products} products x 3 marketplaces, {orders} orders per marketplace", flush=True)
    t0 = time.perf_counter()
    sandbox, url = start_sandbox(products, orders, start)
    print(f"sandbox ready in {time.perf_counter() - t0:.1f}s at {url}", flush=True)
    try:
        accounts = make_accounts(url, args.marketplaces.split(","))
        IngestTimer()
        _warm_worker()  # before forking, as a Celery worker imports its tasks' modules at start
        cpu_before = (cpu_seconds(), cpu_children(), cpu_seconds(sandbox.pid), postgres_cpu_seconds(),
                      machine_busy_seconds())
        print(f"first sync ({args.workers} worker processes):", flush=True)
        first, first_db, per_stream, first_peak = sync_everything(accounts, True, args.workers)
        rows = table_rows()
        cpu_after = (cpu_seconds(), cpu_children(), cpu_seconds(sandbox.pid), postgres_cpu_seconds(),
                     machine_busy_seconds())
        print("full re-read of the unchanged data (--full):", flush=True)
        resync, resync_db, per_stream_again, resync_peak = sync_everything(accounts, True, args.workers)
        if table_rows() != rows:
            raise SystemExit("the resync changed row counts")
        print("resync of the unchanged data as beat runs it (incremental from the saved cursors):", flush=True)
        scheduled, scheduled_db, _, scheduled_peak = sync_everything(accounts, False, args.workers)
        if table_rows() != rows:
            raise SystemExit("the scheduled resync changed row counts")
        copy_time = raw_copy_seconds()
        if table_rows() != rows:
            raise SystemExit("the COPY round trip changed row counts")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)

    peak_mb = max(first_peak, resync_peak, scheduled_peak)
    total_rows = sum(rows.values())
    print()
    print(f"{'stream':12} {'fetched':>10} {'seconds':>9} {'rows/s':>10} {'ingest s':>9} "
          f"{'re-read s':>9} {'ingest s':>9}")
    for stream, (seconds, fetched, ingest) in per_stream.items():
        again, _, ingest_again = per_stream_again[stream]
        print(f"{stream:12} {int(fetched):>10} {seconds:>9.1f} {fetched / seconds if seconds else 0:>10.0f} "
              f"{ingest:>9.1f} {again:>9.1f} {ingest_again:>9.1f}")
    print()
    print("rows in the database: " + ", ".join(f"{t.split('_', 1)[1]}={n}" for t, n in rows.items()))
    print(f"listings: {rows['catalog_listing']}, order lines: {rows['orders_orderline']}, all rows: {total_rows}")
    print(f"first sync            {first:8.1f}s  ({total_rows / first:,.0f} rows/s; ingest {first_db:.1f}s summed over "
          f"{args.workers} worker(s))")
    print(f"unchanged resync      {scheduled:8.1f}s  (ingest {scheduled_db:.1f}s; as beat runs it: change streams "
          "from their cursors, catalogue in full)")
    print(f"full re-read          {resync:8.1f}s  (ingest {resync_db:.1f}s; --full: all downloaded and compared)")
    print(f"raw COPY of the rows  {copy_time:8.1f}s  ({total_rows / copy_time:,.0f} rows/s)")
    print(f"full sync / COPY      {first / copy_time:8.2f}x   "
          f"(target <= 3; summed ingest: {first_db / copy_time:.2f}x)")
    print(f"resync / first sync   {scheduled / first:8.2f}x   (target <= 0.5; the full re-read: {resync / first:.2f}x, "
          f"its ingest alone {resync_db / first_db:.2f}x)")
    print(f"peak memory (RSS)     {peak_mb:8.0f} MB (largest worker process; target <= 500)")
    syncing = cpu_after[0] - cpu_before[0] + cpu_after[1] - cpu_before[1]
    postgres = (f"PostgreSQL {cpu_after[3] - cpu_before[3]:.1f}s, "
                if cpu_after[3] is not None and cpu_before[3] is not None else "")
    busy = (cpu_after[4] - cpu_before[4]) / (first * (os.cpu_count() or 1))
    print(f"CPU during the first sync: syncing processes {syncing:.1f}s, sandbox {cpu_after[2] - cpu_before[2]:.1f}s, "
          f"{postgres}the machine {busy:.0%} busy on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
