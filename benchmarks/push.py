"""Price push benchmark (a script, not a test): 10k price changes across the three marketplaces
through the real outbox and push task, against the sandbox over loopback with its rate limits on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python benchmarks/push.py [--changes 10000]

The sandbox runs as a real HTTP server in a subprocess with its documented rate limits on
(`manage.py sandbox --limits`); the client keeps its own limits on (MARKETPLACE_LIMITS_ENABLED=1,
shared in Redis). The catalogue (--changes / 3 cards per marketplace) and its prices are synced
into a fresh database <DATABASE_URL's name>_pushbench by the pull sync; then every card gets a new
price through pricing.services.change_prices (one transaction per account), and the push task
(integrations.push_account_outbox, run in this process as the worker runs it) drains each account.
Wildberries' uploads are resolved by later pushes as the sandbox processes them.

Between the two, the outbox table is ANALYZEd as autovacuum would after 10k new rows: with
autovacuum off (as on some test servers) the planner has no statistics of the freshly filled table
and the claim's coalescing UPDATE becomes a nested loop over every row (13 s per claim measured).

Printed: per marketplace, price write requests made vs the minimum the batch limits allow (Ozon
1000, WB 1000, YM 500 items per request), the other requests the push made (WB's upload outcome
reads), the rows' final statuses, and the 429/420 answers. Target: ratio 1.0, 0 limit answers.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.freshness import sandbox_state, stop  # noqa: E402  (after the path is set)
from benchmarks.sync import bench_database, free_port, make_accounts  # noqa: E402

MARKETPLACES = ["ozon", "wildberries", "yandex_market"]
# Items per price write request each marketplace allows (integrations/specs; outbox.BATCH_LIMITS).
REQUEST_ITEMS = {"ozon": 1000, "wildberries": 1000, "yandex_market": 500}
PRICE_WRITE = {  # how the sandbox's route counter names each marketplace's price write
    "ozon": "/v1/product/import/prices",
    "wildberries": "/api/v2/upload/task",
    "yandex_market": "/offer-prices/updates",
}


def start_sandbox(products: int) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    start = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--port", str(port), "--products", str(products),
         "--orders", "10", "--start", start.isoformat(), "--limits"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_control/state", timeout=2).raise_for_status()
            return process, url
        except httpx.HTTPError:
            if process.poll() is not None:
                raise SystemExit("the sandbox server exited") from None
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the sandbox server did not start in 180 s")


def new_price(current: Any) -> Decimal:
    """A different price each marketplace stores exactly (WB keeps whole roubles before its discount)."""
    discount = current.discount_percent or 0
    step = (100 - discount) // math.gcd(100, 100 - discount)
    return Decimal((int(current.price) // step + 2) * step)


def record_changes(accounts: list[Any], changes: int) -> dict[str, int]:
    """One price change per card (`changes` split evenly), one change_prices call (one transaction)
    per account."""
    from pricing.models import Price
    from pricing.services import change_prices

    counts = {}
    for n, account in enumerate(accounts):
        share = changes // len(accounts) + (1 if n < changes % len(accounts) else 0)
        prices = list(Price.objects.filter(listing__account=account).order_by("listing_id")[:share])
        change_prices({p.listing_id: new_price(p) for p in prices}, user=None, force=True)
        counts[account.marketplace] = len(prices)
    return counts


def analyze_outbox() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE integrations_outboxchange")


def drain(url: str, accounts: list[Any], timeout: float) -> None:
    """Push until no row is waiting: each account's first push drains what is due; retries (after
    a 429) and WB's upload outcomes need later pushes, as the sweep would run them."""
    import httpx
    from django.utils import timezone

    from integrations.models import OutboxChange
    from integrations.push_tasks import push_account_outbox

    Status = OutboxChange.Status
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = OutboxChange.objects.filter(status__in=(Status.PENDING, Status.SENDING, Status.SENT))
        if not waiting.exists():
            return
        due = waiting.filter(status=Status.PENDING).order_by("next_attempt_at").values_list(
            "next_attempt_at", flat=True).first()
        if due is not None and due > timezone.now():
            time.sleep(min(5.0, (due - timezone.now()).total_seconds()))
        httpx.post(f"{url}/_control/advance", json={"minutes": 1}, timeout=10)  # WB processes its uploads
        for account in accounts:
            push_account_outbox(account.pk)
        time.sleep(0.2)
    print(f"gave up waiting after {timeout:g}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=10_000, help="price changes across the three marketplaces")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every row's outcome")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("Set DATABASE_URL (PostgreSQL) and REDIS_URL (a Redis database the limiter may use).")
    per_marketplace = math.ceil(args.changes / len(MARKETPLACES))

    os.environ["DATABASE_URL"] = bench_database(os.environ["DATABASE_URL"], "_pushbench")
    os.environ["MARKETPLACE_LIMITS_ENABLED"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    from config.celery import app as celery_app

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # limiter buckets of earlier runs
    call_command("migrate", verbosity=0)
    # The doorbell's message would start a push in the middle of recording: the pushes run below.
    celery_app.conf.task_always_eager = False
    t0 = time.perf_counter()
    # A few more cards than changes: some sandbox cards have no price to change (YM: about 3 %).
    sandbox, url = start_sandbox(math.ceil(per_marketplace * 1.05) + 10)
    print(f"sandbox at {url} in {time.perf_counter() - t0:.1f}s: limits on, {per_marketplace} cards per marketplace",
          flush=True)
    try:
        from integrations.models import OutboxChange
        from integrations.sync import engine

        accounts = make_accounts(url, MARKETPLACES)
        t0 = time.perf_counter()
        for account in accounts:
            for stream in ("listings", "prices"):
                engine.run_stream(account, stream, trigger="bench", flush_rows=engine.BATCH_ROWS)
        print(f"catalogue and prices synced in {time.perf_counter() - t0:.1f}s", flush=True)
        before = sandbox_state(url)
        t0 = time.perf_counter()
        counts = record_changes(accounts, args.changes)
        recorded = time.perf_counter() - t0
        analyze_outbox()
        t0 = time.perf_counter()
        drain(url, accounts, args.timeout)
        elapsed = time.perf_counter() - t0
        after = sandbox_state(url)
    finally:
        stop([sandbox])

    routes = Counter(after["requests_by_route"]) - Counter(before["requests_by_route"])
    statuses = Counter(OutboxChange.objects.values_list("account__marketplace", "status"))
    print(f"\n{sum(counts.values())} price changes recorded in {recorded:.1f}s; pushed, every outcome stored, "
          f"in {elapsed:.1f}s")
    print(f"{'marketplace':14} {'changes':>7} {'writes':>6} {'minimum':>7} {'ratio':>5}  statuses; other requests")
    made_total = minimum_total = 0
    for marketplace in MARKETPLACES:
        writes = sum(n for route, n in routes.items()
                     if route.startswith(f"{marketplace} POST") and route.endswith(PRICE_WRITE[marketplace]))
        others = {route.split(" ", 1)[1]: n for route, n in routes.items()
                  if route.startswith(marketplace + " ") and not route.endswith(PRICE_WRITE[marketplace])}
        minimum = math.ceil(counts[marketplace] / REQUEST_ITEMS[marketplace])
        made_total, minimum_total = made_total + writes, minimum_total + minimum
        states = {status: n for (mp, status), n in statuses.items() if mp == marketplace}
        print(f"{marketplace:14} {counts[marketplace]:>7} {writes:>6} {minimum:>7} {writes / minimum:>5.2f}  "
              f"{states}; {others}")
    violations = {k: after["limit_answers"][k] - before["limit_answers"].get(k, 0) for k in after["limit_answers"]}
    ratio = made_total / minimum_total
    print(f"{'all':14} {sum(counts.values()):>7} {made_total:>6} {minimum_total:>7} {ratio:>5.2f}")
    print(f"429/420 answers from the sandbox while pushing: {sum(violations.values())} {violations}")
    target = ratio == 1.0 and not sum(violations.values())
    print("target (ratio 1.0, 0 limit answers): " + ("met" if target else "NOT met"))


if __name__ == "__main__":
    main()
