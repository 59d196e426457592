"""Benchmark of the reports against the raw rows (a script, not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything .venv/bin/python benchmarks/reports.py [--scale 0.1]

Loads the page benchmark's data (benchmarks.pages.load: 100k listings, ~1M order lines, ~1M finance
operations at scale 1) into a fresh database <DATABASE_URL's name>_reportbench (benchmarks.sync's
bench_database), adds fee lines of more kinds up to ~2M, and rebuilds both daily roll-ups. Then, for
each report, times the report as the page computes it (roll-ups, tax and grouping included) against
the single equivalent SQL GROUP BY over the raw rows (orders and lines, finance operations and fee
lines) in the same run: median of --rounds runs each, warm caches. Target: report / raw <= 1.5.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sync import bench_database  # noqa: E402

TARGET_RATIO = 1.5
WARM = "warm preset"  # not a report: several at once, shown for the record

# What the reports compute, straight from the raw rows: orders and their lines (with the cards'
# products for the cost price, brand and category), finance operations and their fee lines, grouped
# by account and article (the profit report, the ABC's measure).
RAW_ORDERS = """
    SELECT o.account_id, l.offer_id, count(DISTINCT o.id), sum(l.quantity), sum(l.price * l.quantity),
           sum(l.quantity * p.cost_price), min(p.brand), min(li.category)
    FROM orders_order o JOIN orders_orderline l ON l.order_id = o.id
    LEFT JOIN catalog_listing li ON li.id = l.listing_id LEFT JOIN catalog_product p ON p.id = li.product_id
    WHERE o.ordered_at >= %(since)s AND o.status <> ALL(ARRAY['cancelled', 'returned'])
    GROUP BY 1, 2
"""
RAW_FINANCE = """
    SELECT f.account_id, f.offer_id, sum(f.sale_amount), sum(f.amount),
           sum(fl.amount) FILTER (WHERE fl.kind = 'commission'), sum(fl.amount) FILTER (WHERE fl.kind = 'logistics'),
           sum(fl.amount) FILTER (WHERE fl.kind = 'acquiring'), sum(fl.amount) FILTER (WHERE fl.kind = 'storage'),
           sum(fl.amount) FILTER (WHERE fl.kind = 'advertising')
    FROM analytics_financeoperation f LEFT JOIN analytics_feeline fl ON fl.operation_id = f.id
    WHERE f.operation_at >= %(since)s
    GROUP BY 1, 2
"""
RAW_WEEKLY = """
    SELECT li.product_id, (now()::date - o.ordered_at::date) / 7, sum(l.quantity)
    FROM orders_order o JOIN orders_orderline l ON l.order_id = o.id
    LEFT JOIN catalog_listing li ON li.id = l.listing_id
    WHERE o.ordered_at >= %(since)s AND o.status <> ALL(ARRAY['cancelled', 'returned'])
    GROUP BY 1, 2
"""
RAW_BY_DAY = """
    SELECT (o.ordered_at AT TIME ZONE 'Europe/Moscow')::date, a.marketplace, count(*), sum(o.total_amount)
    FROM orders_order o JOIN integrations_marketplaceaccount a ON a.id = o.account_id
    WHERE o.ordered_at >= %(since)s AND o.status <> ALL(ARRAY['cancelled', 'returned'])
    GROUP BY 1, 2
"""


def more_fee_lines() -> None:
    """Logistics on every operation, and one of acquiring / storage / advertising on every other."""
    from django.db import connection, transaction

    from benchmarks.pages import insert

    with transaction.atomic(), connection.cursor() as c:
        insert(c, "analytics_feeline", {
            "kind": "'logistics'", "name": "'Логистика'", "amount": "-(20 + id % 180)", "operation_id": "id",
        }, "FROM analytics_financeoperation")
        insert(c, "analytics_feeline", {
            "kind": "(ARRAY['acquiring','storage','advertising'])[1 + id % 3]", "name": "'Услуга'",
            "amount": "-(1 + id % 50)", "operation_id": "id",
        }, "FROM analytics_financeoperation WHERE id % 2 = 0")
        c.execute("ANALYZE analytics_feeline")


def rebuild_finance() -> None:
    from analytics import finance_rollup
    from integrations.models import MarketplaceAccount

    started = time.perf_counter()
    for account_id in MarketplaceAccount.objects.values_list("pk", flat=True):
        finance_rollup.rebuild(account_id)
    print(f"  finance roll-up rebuilt in {time.perf_counter() - started:.1f}s", flush=True)


def raw(*queries: str, days: int) -> Callable[[], Any]:
    from django.db import connection
    from django.utils import timezone

    def run() -> None:
        since = timezone.now() - timedelta(days=days)
        with connection.cursor() as cursor:
            for sql in queries:
                cursor.execute(sql, {"since": since})
                cursor.fetchall()

    return run


def median_seconds(func: Callable[[], Any], rounds: int) -> float:
    func()  # warm: plans, caches, the buffer pool
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def reports() -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    from django.core.cache import cache

    from analytics.abc import abc_xyz
    from analytics.period import Period, today
    from analytics.profit import account_ids, profit_report
    from analytics.selectors import sales_by_day
    from dashboard.selectors import overview

    def period(days: int) -> Period:
        return Period(today() - timedelta(days=days - 1), today(), days)

    def abc(days: int) -> None:
        abc_xyz(period(days), "profit", account_ids())

    def cold_overview(days: int) -> None:
        cache.clear()  # the overview's minute cache: time the computation, not the cache
        overview(period(days))

    def page(kind: str, days: int, option: str) -> None:
        """What a page view reads: its current snapshot (computed ahead by warm) and the first page of rows."""
        from analytics.models import ReportSnapshotRow
        from analytics.report_cache import abc_snapshot, profit_snapshot

        find = profit_snapshot if kind == "profit" else abc_snapshot
        snapshot = find(period(days), option, compute=False)
        assert snapshot is not None, "warm first"
        list(ReportSnapshotRow.objects.filter(snapshot=snapshot).order_by("position", "id")[:101])

    def warm_preset(days: int) -> None:
        """Beat's recomputation of a preset after a change: five groupings and two ABC measures."""
        from django.db import connection

        from analytics.report_cache import warm_period

        with connection.cursor() as c:  # as a sync's change does: every snapshot of the preset is stale
            c.execute("INSERT INTO analytics_reportinputchange (weight) VALUES (1)")
        warm_period(period(days))

    return [
        ("sales by day 90 days", lambda: sales_by_day(days=90), raw(RAW_BY_DAY, days=90)),
        ("profit by product 30 days", lambda: profit_report(period(30), "product"),
         raw(RAW_ORDERS, RAW_FINANCE, days=30)),
        ("profit by product 90 days", lambda: profit_report(period(90), "product"),
         raw(RAW_ORDERS, RAW_FINANCE, days=90)),
        ("profit by brand 90 days", lambda: profit_report(period(90), "brand"),
         raw(RAW_ORDERS, RAW_FINANCE, days=90)),
        ("profit by marketplace 90 days", lambda: profit_report(period(90), "marketplace"),
         raw(RAW_ORDERS, RAW_FINANCE, days=90)),
        ("ABC x XYZ by profit 90 days", lambda: abc(90), raw(RAW_ORDERS, RAW_FINANCE, RAW_WEEKLY, days=90)),
        # The overview: orders and revenue per day and marketplace, and the profit per marketplace (cost
        # prices per article, tax per account) of the period and the one before: 60 days.
        ("overview 30 days (cold cache)", lambda: cold_overview(30),
         raw(RAW_BY_DAY, RAW_ORDERS, RAW_FINANCE, days=60)),
        # The pages read what warm computed (analytics.report_cache); warm's own cost for a preset, seven
        # reports from one pass over the roll-ups, is shown against one GROUP BY, outside the target (last:
        # it makes the other presets' snapshots stale).
        ("profit page 30 days (snapshot)", lambda: page("profit", 30, "product"),
         raw(RAW_ORDERS, RAW_FINANCE, days=30)),
        ("ABC page 90 days (snapshot)", lambda: page("abc", 90, "profit"),
         raw(RAW_ORDERS, RAW_FINANCE, RAW_WEEKLY, days=90)),
        (f"{WARM} 90 days (7 reports)", lambda: warm_preset(90), raw(RAW_ORDERS, RAW_FINANCE, RAW_WEEKLY, days=90)),
        (f"{WARM} 30 days (7 reports)", lambda: warm_preset(30), raw(RAW_ORDERS, RAW_FINANCE, RAW_WEEKLY, days=30)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the database an earlier run loaded")
    parser.add_argument("--only", default="", help="run only the reports whose name contains this text")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL (a PostgreSQL server; the benchmark uses its own database on it).")
    from benchmarks.pages import Volumes, load

    volumes = Volumes.at(args.scale)
    if not args.reuse:
        os.environ["DATABASE_URL"] = bench_database(os.environ["DATABASE_URL"], "_reportbench")
    else:
        from urllib.parse import urlparse, urlunparse

        parts = urlparse(os.environ["DATABASE_URL"])
        os.environ["DATABASE_URL"] = urlunparse(parts._replace(path=parts.path.rstrip("/") + "_reportbench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if not args.reuse:
        call_command("migrate", verbosity=0)
        print(f"loading scale {args.scale}: {volumes}", flush=True)
        started = time.perf_counter()
        load(volumes)  # the sales and finance roll-ups are rebuilt at its end
        more_fee_lines()
        rebuild_finance()
        with connection.cursor() as c:
            c.execute("VACUUM ANALYZE")
        print(f"loaded in {time.perf_counter() - started:.0f}s", flush=True)
    with connection.cursor() as c:
        counts = {}
        for table in ("orders_orderline", "analytics_feeline", "analytics_financeoperation", "analytics_salesdaily",
                      "analytics_financedaily"):
            c.execute(f"SELECT count(*) FROM {table}")
            counts[table] = c.fetchone()[0]
    print("rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
    if any(args.only.lower() in name.lower() and ("snapshot" in name or name.startswith(WARM))
           for name, *_ in reports()):
        from analytics.report_cache import warm

        started = time.perf_counter()
        print(f"report snapshots warmed: {warm()} in {time.perf_counter() - started:.1f}s", flush=True)
    print(f"{'report':34} {'report ms':>10} {'raw ms':>10} {'ratio':>7}", flush=True)
    worst = 0.0
    for name, report, raw_query in reports():
        if args.only.lower() not in name.lower():
            continue
        report_s = median_seconds(report, args.rounds)
        raw_s = median_seconds(raw_query, args.rounds)
        ratio = report_s / raw_s
        if name.startswith(WARM):
            flag = "  (not a report: no target)"
        else:
            worst = max(worst, ratio)
            flag = "" if ratio <= TARGET_RATIO else "  OVER TARGET"
        print(f"{name:34} {report_s * 1000:10.0f} {raw_s * 1000:10.0f} {ratio:7.2f}{flag}", flush=True)
    print(f"worst ratio {worst:.2f} (target <= {TARGET_RATIO})", flush=True)
    with open("/proc/loadavg") as f:
        print(f"load average: {f.read().strip()}", flush=True)


if __name__ == "__main__":
    main()
