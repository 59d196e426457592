"""The reports as tables (header and rows) for the exports: the same figures as the pages, every row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from analytics import report_cache
from analytics.abc import ABC, MEASURES, XYZ, Matrix
from analytics.ads import AdsReport, accounts_of
from analytics.finance_rollup import FEE_KINDS
from analytics.models import FeeLine
from analytics.period import Period, parse_period
from analytics.profit import (
    DEFAULT_DIMENSION,
    DIMENSIONS,
    ProfitReport,
    account_ids,
    daily_series,
)
from core.models import Marketplace

Sheet = tuple[str, Sequence[Any], Sequence[Sequence[Any]]]


def marketplace_of(params: Mapping[str, str]) -> str:
    value = params.get("marketplace", "")
    return value if value in Marketplace.values else ""


def dimension_of(params: Mapping[str, str]) -> str:
    value = params.get("by", "")
    return value if value in DIMENSIONS else DEFAULT_DIMENSION


def cell_of(params: Mapping[str, str]) -> str:
    cell = params.get("cell", "").upper()
    return cell if len(cell) == 2 and cell[0] in ABC and cell[1] in XYZ else ""


def fee_labels() -> list[tuple[str, str]]:
    names = {"commission": _("Commission"), "logistics": _("Logistics"), "storage": _("Storage"),
             "acquiring": _("Acquiring"), "advertising": _("Advertising"), "penalty": _("Penalties"),
             "other": _("Other fees")}
    labels = dict(FeeLine.Kind.choices)
    return [(kind, str(names.get(kind, labels[kind]))) for kind in FEE_KINDS]


def chart_rows(period: Period, marketplace: str) -> list[tuple[Any, ...]]:
    return list(daily_series(period, account_ids(marketplace)))


def profit_sheets(report: ProfitReport, chart: list[tuple[Any, ...]]) -> list[Sheet]:
    fees = fee_labels()
    header = [str(DIMENSIONS[report.dimension]), _("Article / marketplace"), _("Orders"), _("Units"), _("Returns"),
              _("Predicted from orders"), _("Accrued"), *[label for _, label in fees], _("Fees total"), _("Paid"),
              _("Cost price"), _("Tax"), _("Ad spend"), _("Ad share of profit, %"), _("Profit"), _("Margin, %")]
    rows = []
    for group in [*report.groups, None]:
        f = group.figures if group else report.total
        rows.append([group.label if group else _("Total"), group.detail if group else "", f.orders, f.units,
                     f.returns, f.predicted, f.accrued, *[f.fee(kind) for kind, _ in fees], f.fees_total, f.paid,
                     f.cost, f.tax, f.ad_spend, f.ad_share, f.profit, f.margin])
    chart_header = [_("Date"), _("Predicted from orders"), _("Accrued"), _("Paid")]
    return [(_("Sales and profit"), header, rows), (_("By day"), chart_header, [list(r) for r in chart])]


def measure_of(params: Mapping[str, str]) -> str:
    measure = params.get("measure", "")
    return measure if measure in MEASURES else "revenue"


def matrix_of(params: Mapping[str, str]) -> Matrix:
    """The whole matrix, from its snapshot (analytics.report_cache; computed if not current)."""
    period = parse_period(params)
    snapshot = report_cache.abc_snapshot(period, measure_of(params), marketplace_of(params))
    assert snapshot is not None
    return report_cache.full_matrix(snapshot, period)


def profit_of(params: Mapping[str, str]) -> tuple[ProfitReport, list[tuple[Any, ...]]]:
    """The whole report and its chart rows, from its snapshot (computed if not current)."""
    period = parse_period(params)
    marketplace = marketplace_of(params)
    dimension = dimension_of(params)
    snapshot = report_cache.profit_snapshot(period, dimension, marketplace)
    assert snapshot is not None
    report = ProfitReport(period, dimension, report_cache.all_groups(snapshot), report_cache.total_of(snapshot),
                          marketplace)
    return report, list(report_cache.chart_of(snapshot))


def abc_sheets(matrix: Matrix, cell: str) -> list[Sheet]:
    items = matrix.cells.get(cell, []) if cell else matrix.items
    header = [_("Product"), _("Article / marketplace"), _("Revenue") if matrix.measure == "revenue" else _("Profit"),
              "ABC", _("Variation of weekly units, %"), "XYZ", _("Cell")]
    rows = [[i.group.label, i.group.detail, i.measure, i.abc, i.cv, i.xyz, i.cell] for i in items]
    matrix_rows = [[a, *[count for _, count, _ in cells]] for a, cells in matrix.rows()]
    return [("ABC XYZ", header, rows), (_("Matrix"), ["", *XYZ], matrix_rows)]


def ads_of(params: Mapping[str, str]) -> AdsReport:
    """The advertising report with every row, from its snapshot (computed if not current)."""
    period = parse_period(params)
    marketplace = marketplace_of(params)
    accounts = accounts_of(marketplace)
    snapshot = report_cache.ads_snapshot(period, accounts, marketplace)
    assert snapshot is not None
    return report_cache.ads_of(snapshot, period, marketplace, accounts, report_cache.all_ad_rows(snapshot))


def ads_sheets(report: AdsReport) -> list[Sheet]:
    labels = dict(Marketplace.choices)
    header = [_("Marketplace"), _("Account"), _("Seller article"), _("Card"), _("Campaigns"), _("Spend"),
              _("Impressions"), _("Clicks"), _("CTR, %"), _("Orders from ads"), _("Cost per order"),
              _("Ordered from ads"), _("Revenue"), _("Ad spend share of revenue (ДРР), %")]
    rows: list[list[object]] = []
    for r in report.rows:
        f = r.figures
        rows.append([str(labels.get(r.marketplace, r.marketplace)), r.account_name, r.offer_id or r.item_ref, r.title,
                     r.campaigns, f.spend, f.views, f.clicks, f.ctr, f.orders, f.cost_per_order, f.ordered_amount,
                     f.revenue, f.drr])
    by_marketplace: list[list[object]] = [
        [str(labels.get(mp, mp)), f.spend, f.views, f.clicks, f.ctr, f.orders, f.cost_per_order, f.revenue, f.drr]
        for mp, f in sorted(report.by_marketplace.items())
    ]
    summary_header = [_("Marketplace"), _("Spend"), _("Impressions"), _("Clicks"), _("CTR, %"), _("Orders from ads"),
                      _("Cost per order"), _("Revenue"), _("Ad spend share of revenue (ДРР), %")]
    return [(_("Advertising"), header, rows), (_("By marketplace"), summary_header, by_marketplace)]


def report_sheets(kind: str, params: Mapping[str, str]) -> tuple[str, list[Sheet], int | None]:
    """(file name stem, sheets, the sheet with a chart) of a report by its kind and query string."""
    if kind == "ads":
        ads = ads_of(params)
        return f"ads_{ads.period.start}_{ads.period.end}", ads_sheets(ads), None
    if kind == "abc":
        matrix = matrix_of(params)
        return f"abc_xyz_{matrix.period.start}_{matrix.period.end}", abc_sheets(matrix, cell_of(params)), None
    report, chart = profit_of(params)
    return f"profit_{report.period.start}_{report.period.end}", profit_sheets(report, chart), 1
