"""The profit, ABC and advertising reports precomputed: each (period, grouping or measure, marketplace)
computed once by the exact SQL of analytics.profit / analytics.abc / analytics.ads, stored as a snapshot
(analytics.ReportSnapshot, its rows in the report's order in ReportSnapshotRow) and read a page at a time,
by keyset, while its inputs are unchanged.

Exact: a snapshot holds what the report's own code returned, row for row (no second formula).
Fresh: database triggers add a row to analytics.ReportInputChange for every statement that changes the
daily roll-ups (per article and per day), the ad statistics, the cards or the products (migrations 0011,
0013, 0014); a snapshot records the sum of their weights read *before* its figures, with the tax settings
(not for the advertising report, which reads none) and the accounts it covered (its fingerprint), and a page
uses it only while that fingerprint is the current one. Any sync that changes a roll-up or the ad statistics,
an edited cost price, a new legal entity: the next page view computes anew (read first, so a change that
commits during the computation leaves the snapshot stale, never wrong).

Beat runs `warm` every few minutes (analytics.warm_reports): the presets (7/30/90 days up to today) of
every grouping and both ABC measures for all marketplaces, from one pass over the roll-ups per preset (the
article rows in a temporary table, grouped five ways), and the advertising report of each preset (its own
aggregate, analytics.ads.ads_report), skipping what is still current. Other filters and custom periods up
to LONG_PERIOD_DAYS are computed on their first view; a longer custom period is not computed on the page
(the export builds it in the background as a ReportJob).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from analytics.abc import ABC, XYZ, Item, Matrix, matrix_of_groups, weekly_units
from analytics.ads import AdFigures, AdRow, AdsReport, accounts_of, ads_report
from analytics.finance_rollup import FEE_KINDS
from analytics.models import ReportSnapshot, ReportSnapshotRow
from analytics.period import PERIODS, Period
from analytics.profit import (
    ARTICLE_FIGURES_SQL,
    DIMENSIONS,
    Figures,
    Group,
    account_ids,
    daily_series,
    group_of,
    group_sql,
    grouped,
    grouped_params,
    report_settings,
    tax_settings_by_account,
)
from core.models import Marketplace
from core.money import RUB
from pricing.economics import TaxSettings

PROFIT = "profit"
ABC_KIND = "abc"
ADS = "ads"
MEASURES = ("revenue", "profit")
# Bump when what a row's `values` hold changes: older snapshots then no longer match.
LAYOUT = 2  # 2: the ad statistics' spend (Figures.ad_spend)
# The same for the advertising report's rows (its own prefix: a bump leaves the other kinds current).
ADS_LAYOUT = 1
# Snapshots not recomputed for this long (past presets, custom periods seen once) are deleted by `warm`.
KEEP = timedelta(days=1)

_SCALARS = [f for f in dataclasses.fields(Figures) if f.name != "fees"]
FIGURE_VALUES = [f.name for f in _SCALARS] + [f"fee:{kind}" for kind in FEE_KINDS]


# ---------------------------------------------------------------------------------------------
# Rows


def figures_values(figures: Figures) -> list[Decimal]:
    return [Decimal(getattr(figures, f.name)) for f in _SCALARS] + [figures.fees[kind] for kind in FEE_KINDS]


def figures_of_values(values: Sequence[Any]) -> Figures:
    scalars: dict[str, Any] = {f.name: (int(v) if f.type == "int" else Decimal(v))
                               for f, v in zip(_SCALARS, values, strict=False)}
    fees = dict(zip(FEE_KINDS, (Decimal(v) for v in values[len(_SCALARS):]), strict=True))
    return Figures(**scalars, fees=fees)


def group_of_row(row: ReportSnapshotRow, dimension: str) -> Group:
    label = row.label
    if dimension == "product" and row.key.endswith(":"):
        label = gettext("Charges without an article")  # in the reader's language, as analytics.profit.group_of
    return Group(row.key, label, row.detail, row.product_id, figures_of_values(row.values))


# An advertising row: key = the seller article, label = the card's title, detail = the card as the statistics
# name it (item_ref), product_id; values in this order; `summary` holds the totals per marketplace and in all.
AD_VALUES = ["account_id", "listing_id", "campaigns", "spend", "views", "clicks", "orders", "ordered_amount",
             "revenue"]
_AD_FIGURES = ["spend", "views", "clicks", "orders", "ordered_amount", "revenue"]


def ad_figures_values(figures: AdFigures) -> list[str]:
    return [str(getattr(figures, name)) for name in _AD_FIGURES]


def ad_figures_of_values(values: Sequence[Any]) -> AdFigures:
    spend, views, clicks, orders, ordered_amount, revenue = values
    return AdFigures(Decimal(spend), int(views), int(clicks), int(orders), Decimal(ordered_amount), Decimal(revenue))


class StoredAdRow(NamedTuple):
    """The columns of a ReportSnapshotRow that an advertising row reads, without a model instance."""

    key: str
    label: str
    detail: str
    product_id: int | None
    values: list[Decimal | None]


def ad_row_of_row(row: ReportSnapshotRow | StoredAdRow, accounts: dict[int, tuple[str, str]]) -> AdRow:
    """The report's row (analytics.ads.AdRow); the marketplace and the account's name from `accounts`
    ({id: (marketplace, name)}: a renamed account shows its new name)."""
    account_id, listing_id, campaigns, *figures = row.values
    assert account_id is not None and campaigns is not None
    marketplace, name = accounts.get(int(account_id), ("", ""))
    return AdRow(int(account_id), row.key, row.detail, marketplace, name, row.label,
                 None if listing_id is None else int(listing_id), row.product_id, int(campaigns),
                 ad_figures_of_values(figures))


def item_of_row(row: ReportSnapshotRow) -> Item:
    measure, cv = row.values
    assert measure is not None
    return Item(Group(row.key, row.label, row.detail, row.product_id), Decimal(measure), row.cell[0],
                None if cv is None else Decimal(cv).quantize(Decimal("0.1")), row.cell[1])


# ---------------------------------------------------------------------------------------------
# Fingerprints


def input_version() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(weight), 0) FROM analytics_reportinputchange")
        return int(cursor.fetchone()[0])


def fold_changes() -> None:
    """The change rows folded into one of the same total weight (rows inserted meanwhile stay)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("""
            WITH gone AS (DELETE FROM analytics_reportinputchange RETURNING weight)
            INSERT INTO analytics_reportinputchange (weight) SELECT sum(weight) FROM gone HAVING count(*) > 0
        """)


@dataclass(frozen=True)
class Inputs:
    """What a report depends on besides the rows the triggers watch, read after their version."""

    version: int
    taxes: dict[int, TaxSettings]

    def fingerprint(self, accounts: Sequence[int]) -> str:
        taxes = sorted((k, str(t.regime), str(t.rate), str(t.vat_rate), t.cost_includes_vat)
                       for k, t in self.taxes.items())
        digest = hashlib.sha256(repr((list(accounts), taxes)).encode()).hexdigest()[:24]
        return f"{LAYOUT}.{len(FIGURE_VALUES)}:{self.version}:{digest}"


def ads_fingerprint(version: int, accounts: Sequence[int]) -> str:
    """The advertising report reads no tax settings: the inputs' version and the accounts it covered."""
    digest = hashlib.sha256(repr(list(accounts)).encode()).hexdigest()[:24]
    return f"{ADS}{ADS_LAYOUT}.{len(AD_VALUES)}:{version}:{digest}"


def current_inputs() -> Inputs:
    version = input_version()  # first: what is read after it is at least as new
    return Inputs(version, tax_settings_by_account())


@dataclass(frozen=True)
class Key:
    kind: str
    period: Period
    option: str
    marketplace: str = ""
    currency: str = RUB

    def lookup(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": self.period.start, "end": self.period.end, "option": self.option,
                "marketplace": self.marketplace, "currency": self.currency}

    def lock_id(self) -> int:
        text = "|".join(str(v) for v in self.lookup().values())
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big", signed=True)


_LOCK_CLASS = 0x52505453  # "RPTS": advisory locks of report snapshots being computed


def find(key: Key, fingerprint: str) -> ReportSnapshot | None:
    return ReportSnapshot.objects.filter(**key.lookup(), fingerprint=fingerprint).first()


# ---------------------------------------------------------------------------------------------
# Writing


def store(key: Key, fingerprint: str, rows: Iterable[tuple[Any, ...]], summary: dict[str, Any],
          seconds: float) -> ReportSnapshot:
    """Replace the key's snapshot. Rows: (cell, key, label, detail, product_id, values), in order."""
    with transaction.atomic():
        snapshot, _created = ReportSnapshot.objects.select_for_update().get_or_create(
            **key.lookup(), defaults={"fingerprint": fingerprint, "computed_at": timezone.now()})
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM analytics_reportsnapshotrow WHERE snapshot_id = %s", [snapshot.pk])
            count = 0
            with cursor.copy("COPY analytics_reportsnapshotrow (snapshot_id, position, cell, key, label, detail, "
                             "product_id, \"values\") FROM STDIN") as copy:
                for count, (cell, row_key, label, detail, product_id, values) in enumerate(rows, start=1):
                    copy.write_row((snapshot.pk, count, cell, row_key, label, detail, product_id, list(values)))
        snapshot.fingerprint, snapshot.rows, snapshot.summary = fingerprint, count, summary
        snapshot.computed_at, snapshot.seconds = timezone.now(), seconds
        snapshot.save(update_fields=["fingerprint", "rows", "summary", "computed_at", "seconds"])
    return snapshot


def _chart_summary(series: list[tuple[Any, Decimal, Decimal, Decimal]]) -> list[list[str]]:
    return [[day.isoformat(), str(p), str(a), str(paid)] for day, p, a, paid in series]


def store_profit(key: Key, fingerprint: str, groups: list[Group], chart: list[tuple[Any, ...]],
                 seconds: float) -> ReportSnapshot:
    total = Figures()
    for group in groups:
        total.add(group.figures)
    summary = {"total": [str(v) for v in figures_values(total)], "chart": _chart_summary(chart)}
    rows = (("", g.key, g.label, g.detail, g.product_id, figures_values(g.figures)) for g in groups)
    return store(key, fingerprint, rows, summary, seconds)


def store_abc(key: Key, fingerprint: str, matrix: Matrix, seconds: float) -> ReportSnapshot:
    cells = {a + x: [matrix.count(a + x), str(sum((i.measure for i in matrix.cells.get(a + x, [])), Decimal(0)))]
             for a in ABC for x in XYZ}
    summary = {"weeks": matrix.weeks, "cells": cells}
    rows = ((i.cell, i.group.key, i.group.label, i.group.detail, i.group.product_id,
             [i.measure, i.cv]) for i in matrix.items)
    return store(key, fingerprint, rows, summary, seconds)


# ---------------------------------------------------------------------------------------------
# Computing one snapshot (a page's first view)


def store_ads(key: Key, fingerprint: str, report: AdsReport, seconds: float) -> ReportSnapshot:
    summary = {"by_marketplace": {mp: ad_figures_values(f) for mp, f in report.by_marketplace.items()},
               "total": ad_figures_values(report.total)}
    rows = (("", r.offer_id, r.title, r.item_ref, r.product_id,
             [Decimal(r.account_id), None if r.listing_id is None else Decimal(r.listing_id), Decimal(r.campaigns),
              *(Decimal(getattr(r.figures, name)) for name in _AD_FIGURES)]) for r in report.rows)
    return store(key, fingerprint, rows, summary, seconds)


@contextmanager
def _computing(key: Key) -> Iterator[None]:
    """One computation of a key at a time: a second view of it waits, then finds the first's result."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, key.lock_id()])
        yield


def _snapshot(key: Key, fingerprint_now: Callable[[], str], compute: bool,
              build: Callable[[str], ReportSnapshot]) -> ReportSnapshot | None:
    """The key's current snapshot; else, with `compute`, `build(fingerprint)` under the key's lock,
    unless a concurrent request stored it meanwhile."""
    found = find(key, fingerprint_now())
    if found is not None or not compute:
        return found
    with _computing(key):
        fingerprint = fingerprint_now()
        found = find(key, fingerprint)
        return found if found is not None else build(fingerprint)


def profit_snapshot(period: Period, dimension: str, marketplace: str = "", currency: str = RUB, *,
                    compute: bool = True) -> ReportSnapshot | None:
    """The current snapshot of the profit report, computed now if there is none (or None, `compute=False`)."""
    key = Key(PROFIT, period, dimension, marketplace, currency)
    accounts = account_ids(marketplace)

    def build(fingerprint: str) -> ReportSnapshot:
        started = time.perf_counter()
        groups = grouped(period, dimension, accounts, currency=currency)
        chart = daily_series(period, accounts, currency)
        return store_profit(key, fingerprint, groups, chart, time.perf_counter() - started)

    return _snapshot(key, lambda: current_inputs().fingerprint(accounts), compute, build)


def abc_snapshot(period: Period, measure: str, marketplace: str = "", currency: str = RUB, *,
                 compute: bool = True) -> ReportSnapshot | None:
    key = Key(ABC_KIND, period, measure, marketplace, currency)
    accounts = account_ids(marketplace)

    def build(fingerprint: str) -> ReportSnapshot:
        started = time.perf_counter()
        groups = grouped(period, "product", accounts, currency=currency)
        weeks, series = weekly_units(period, accounts, currency)
        matrix = matrix_of_groups(period, measure, groups, weeks, series)
        return store_abc(key, fingerprint, matrix, time.perf_counter() - started)

    return _snapshot(key, lambda: current_inputs().fingerprint(accounts), compute, build)


def ads_snapshot(period: Period, accounts: dict[int, tuple[str, str]], marketplace: str = "", currency: str = RUB,
                 *, compute: bool = True) -> ReportSnapshot | None:
    """The advertising report's current snapshot over `accounts` ({id: (marketplace, name)}, those of
    `marketplace`, analytics.ads.accounts_of), every row as analytics.ads.ads_report returns them."""
    key = Key(ADS, period, "", marketplace, currency)

    def build(fingerprint: str) -> ReportSnapshot:
        started = time.perf_counter()
        report = ads_report(period, accounts, limit=None, currency=currency)
        return store_ads(key, fingerprint, report, time.perf_counter() - started)

    return _snapshot(key, lambda: ads_fingerprint(input_version(), list(accounts)), compute, build)


# ---------------------------------------------------------------------------------------------
# Reading


def total_of(snapshot: ReportSnapshot) -> Figures:
    return figures_of_values(snapshot.summary["total"])


def chart_of(snapshot: ReportSnapshot) -> list[tuple[date, Decimal, Decimal, Decimal]]:
    return [(date.fromisoformat(day), Decimal(p), Decimal(a), Decimal(paid))
            for day, p, a, paid in snapshot.summary["chart"]]


def all_groups(snapshot: ReportSnapshot) -> list[Group]:
    """Every row (the exports), in order."""
    rows = ReportSnapshotRow.objects.filter(snapshot=snapshot).order_by("position")
    return [group_of_row(row, snapshot.option) for row in rows]


def matrix_rows(snapshot: ReportSnapshot) -> list[tuple[str, list[tuple[str, int, Decimal]]]]:
    """As Matrix.rows: per ABC class, per XYZ class (cell, products, measure)."""
    cells = snapshot.summary["cells"]
    return [(a, [(a + x, int(cells[a + x][0]), Decimal(cells[a + x][1])) for x in XYZ]) for a in ABC]


def full_matrix(snapshot: ReportSnapshot, period: Period) -> Matrix:
    """The whole matrix of a snapshot (the exports)."""
    items = [item_of_row(row) for row in ReportSnapshotRow.objects.filter(snapshot=snapshot).order_by("position")]
    matrix = Matrix(period, snapshot.option, int(snapshot.summary["weeks"]), items)
    for item in items:
        matrix.cells.setdefault(item.cell, []).append(item)
    return matrix


def ads_of(snapshot: ReportSnapshot, period: Period, marketplace: str, accounts: dict[int, tuple[str, str]],
           rows: Iterable[ReportSnapshotRow | StoredAdRow]) -> AdsReport:
    """The report of the snapshot's totals and the given rows of it (a page, or all of them)."""
    report = AdsReport(period, marketplace, [ad_row_of_row(row, accounts) for row in rows])
    report.by_marketplace = {mp: ad_figures_of_values(v) for mp, v in snapshot.summary["by_marketplace"].items()}
    report.total = ad_figures_of_values(snapshot.summary["total"])
    return report


def all_ad_rows(snapshot: ReportSnapshot) -> list[StoredAdRow]:
    """Every row (the exports), in order: plain values (the model instances of 3 000 rows cost as much again)."""
    rows = ReportSnapshotRow.objects.filter(snapshot=snapshot).order_by("position")
    return [StoredAdRow(*row) for row in rows.values_list("key", "label", "detail", "product_id", "values")]


# ---------------------------------------------------------------------------------------------
# Warming (beat)


_ARTICLES_TABLE = "report_cache_articles"


def _preset(days: int, today: date) -> Period:
    return Period(today - timedelta(days=days - 1), today, days)


def _groups_from_table(dimension: str, accounts: list[int]) -> list[Group]:
    source = f"(SELECT * FROM {_ARTICLES_TABLE} WHERE account_id = ANY(%(accounts)s)) z"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(group_sql(dimension, source), {"accounts": accounts})
        return [group_of(row, dimension)[1] for row in cursor.fetchall()]


def warm_period(period: Period, marketplaces: Sequence[str] = ("",), currency: str = RUB) -> int:
    """Compute what is not current of the period's reports (every grouping, both ABC measures) for the
    marketplaces ("" = all), from one pass over the roll-ups; returns how many snapshots it wrote."""
    inputs = current_inputs()
    every = account_ids()
    wanted = []
    for marketplace in marketplaces:
        accounts = account_ids(marketplace) if marketplace else every
        fingerprint = inputs.fingerprint(accounts)
        keys = [Key(PROFIT, period, d, marketplace, currency) for d in DIMENSIONS]
        keys += [Key(ABC_KIND, period, m, marketplace, currency) for m in MEASURES]
        stale = [k for k in keys if find(k, fingerprint) is None]
        if stale:
            wanted.append((marketplace, accounts, fingerprint, stale))
    if not wanted:
        return 0
    written = 0
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        report_settings(cursor)
        params = grouped_params(period.start, period.start, period.end, every, currency, inputs.taxes)
        create = f"CREATE TEMP TABLE {_ARTICLES_TABLE} ON COMMIT DROP AS {ARTICLE_FIGURES_SQL} SELECT * FROM z"  # noqa: S608
        cursor.execute(create, params)
        base = time.perf_counter() - started
        for _marketplace, accounts, fingerprint, stale in wanted:
            product_groups: list[Group] | None = None
            chart: list[tuple[Any, ...]] | None = None
            weekly: tuple[int, dict[str, list[int]]] | None = None
            for key in stale:
                started = time.perf_counter()
                if key.kind == PROFIT:
                    groups = _groups_from_table(key.option, accounts)
                    if key.option == "product":
                        product_groups = groups
                    if chart is None:
                        chart = list(daily_series(period, accounts, currency))
                    store_profit(key, fingerprint, groups, chart, base + time.perf_counter() - started)
                else:
                    if product_groups is None:
                        product_groups = _groups_from_table("product", accounts)
                    if weekly is None:
                        weekly = weekly_units(period, accounts, currency)
                    matrix = matrix_of_groups(period, key.option, product_groups, *weekly)
                    store_abc(key, fingerprint, matrix, base + time.perf_counter() - started)
                written += 1
        cursor.execute(f"DROP TABLE {_ARTICLES_TABLE}")
    return written


def warm_ads(period: Period, marketplaces: Sequence[str] = ("",), currency: str = RUB) -> int:
    """Compute the period's advertising report for the marketplaces where it is not current."""
    written = 0
    for marketplace in marketplaces:
        key = Key(ADS, period, "", marketplace, currency)
        version = input_version()  # first, as current_inputs
        accounts = accounts_of(marketplace)
        fingerprint = ads_fingerprint(version, list(accounts))
        if find(key, fingerprint) is not None:
            continue
        started = time.perf_counter()
        report = ads_report(period, accounts, limit=None, currency=currency)
        store_ads(key, fingerprint, report, time.perf_counter() - started)
        written += 1
    return written


@contextmanager
def _only_one_warm() -> Iterator[bool]:
    """A session lock: a warm that outlasts beat's interval is not joined by the next one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, 0)", [_LOCK_CLASS])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, 0)", [_LOCK_CLASS])


def warm(now: datetime | None = None, marketplaces: Sequence[str] = ("",)) -> int:
    """Beat: the presets up to today (all marketplaces by default), and old snapshots deleted. Returns how
    many snapshots it computed (0 while another warm runs)."""
    today = timezone.localtime(now or timezone.now()).date()
    with _only_one_warm() as alone:
        if not alone:
            return 0
        fold_changes()
        written = sum(warm_period(_preset(days, today), marketplaces) + warm_ads(_preset(days, today), marketplaces)
                      for days in PERIODS)
        old = list(ReportSnapshot.objects.filter(computed_at__lt=timezone.now() - KEEP).values_list("pk", flat=True))
        if old:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("DELETE FROM analytics_reportsnapshotrow WHERE snapshot_id = ANY(%s)", [old])
                cursor.execute("DELETE FROM analytics_reportsnapshot WHERE id = ANY(%s)", [old])
    return written


def marketplaces_offered() -> list[str]:
    return ["", *Marketplace.values]
