"""Sales and profit by period and dimension, and the ABC × XYZ matrix: pages and their exports."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from analytics.abc import ABC, MEASURES, XYZ, Matrix, abc_xyz
from analytics.exports import report_response
from analytics.finance_rollup import FEE_KINDS
from analytics.models import FeeLine
from analytics.period import PERIODS, Period, parse_period
from analytics.profit import (
    DEFAULT_DIMENSION,
    DIMENSIONS,
    ProfitReport,
    account_ids,
    article_rows,
    daily_series,
    profit_report,
    tax_settings_by_account,
)
from core.models import Marketplace
from core.roles import EVERYONE, require_role

FORMATS = ("xlsx", "csv")
# Rows shown on the page; the export holds them all.
PAGE_ROWS = 200


def _marketplace(request: HttpRequest) -> str:
    value = request.GET.get("marketplace", "")
    return value if value in Marketplace.values else ""


def _dimension(request: HttpRequest) -> str:
    value = request.GET.get("by", "")
    return value if value in DIMENSIONS else DEFAULT_DIMENSION


def fee_labels() -> list[tuple[str, str]]:
    labels = dict(FeeLine.Kind.choices)
    names = {"commission": _("Commission"), "logistics": _("Logistics"), "storage": _("Storage"),
             "acquiring": _("Acquiring"), "advertising": _("Advertising"), "penalty": _("Penalties"),
             "other": _("Other fees")}
    return [(kind, str(names.get(kind, labels[kind]))) for kind in FEE_KINDS]


def _chart(period: Period, marketplace: str) -> dict[str, Any]:
    series = daily_series(period, account_ids(marketplace))
    return {
        "labels": [day.strftime("%d.%m") for day, *_ in series],
        "predicted": [str(p) for _, p, _, _ in series],
        "accrued": [str(a) for _, _, a, _ in series],
        "paid": [str(paid) for _, _, _, paid in series],
        "rows": series,
    }


@require_role(*EVERYONE)
def profit(request: HttpRequest) -> HttpResponse:
    period = parse_period(request.GET)
    marketplace = _marketplace(request)
    report = profit_report(period, _dimension(request), marketplace=marketplace)
    chart = _chart(period, marketplace)
    context = {
        "report": report, "rows": report.groups[:PAGE_ROWS], "more": max(len(report.groups) - PAGE_ROWS, 0),
        "period": period, "periods": PERIODS, "dimensions": list(DIMENSIONS.items()), "fees": fee_labels(),
        "marketplaces": Marketplace.choices, "chart": {k: v for k, v in chart.items() if k != "rows"},
    }
    return render(request, "analytics/profit.html", context)


def _profit_table(report: ProfitReport) -> tuple[list[str], list[list[Any]]]:
    fees = fee_labels()
    header = [str(DIMENSIONS[report.dimension]), _("Article / marketplace"), _("Orders"), _("Units"), _("Returns"),
              _("Predicted from orders"), _("Accrued"), *[label for _, label in fees], _("Fees total"), _("Paid"),
              _("Cost price"), _("Tax"), _("Profit"), _("Margin, %")]
    rows = []
    for group in [*report.groups, None]:
        f = group.figures if group else report.total
        rows.append([group.label if group else _("Total"), group.detail if group else "", f.orders, f.units,
                     f.returns, f.predicted, f.accrued, *[f.fee(kind) for kind, _ in fees], f.fees_total, f.paid,
                     f.cost, f.tax, f.profit, f.margin])
    return header, rows


@require_role(*EVERYONE)
def profit_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    period = parse_period(request.GET)
    marketplace = _marketplace(request)
    report = profit_report(period, _dimension(request), marketplace=marketplace)
    header, rows = _profit_table(report)
    chart = _chart(period, marketplace)
    chart_header = [_("Date"), _("Predicted from orders"), _("Accrued"), _("Paid")]
    return report_response(fmt, f"profit_{period.start}_{period.end}", [
        (_("Sales and profit"), header, rows),
        (_("By day"), chart_header, [list(row) for row in chart["rows"]]),
    ], chart_sheet=1)  # type: ignore[return-value]


def _matrix(request: HttpRequest) -> tuple[Matrix, str]:
    period = parse_period(request.GET)
    measure = request.GET.get("measure", "")
    measure = measure if measure in MEASURES else "revenue"
    marketplace = _marketplace(request)
    accounts = account_ids(marketplace)
    rows = [row for row in article_rows(period, accounts=accounts) if row["offer_id"]]
    return abc_xyz(period, measure, rows, tax_settings_by_account(), accounts), marketplace


def _cell(request: HttpRequest) -> str:
    cell = request.GET.get("cell", "").upper()
    return cell if len(cell) == 2 and cell[0] in ABC and cell[1] in XYZ else ""


@require_role(*EVERYONE)
def abc(request: HttpRequest) -> HttpResponse:
    matrix, marketplace = _matrix(request)
    cell = _cell(request)
    items = matrix.cells.get(cell, []) if cell else matrix.items
    context = {
        "matrix": matrix, "cell": cell, "items": items[:PAGE_ROWS], "more": max(len(items) - PAGE_ROWS, 0),
        "period": matrix.period, "periods": PERIODS, "marketplace": marketplace, "marketplaces": Marketplace.choices,
        "measures": [("revenue", _("Revenue")), ("profit", _("Profit"))],
    }
    return render(request, "analytics/abc.html", context)


@require_role(*EVERYONE)
def abc_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    matrix, _marketplace_value = _matrix(request)
    cell = _cell(request)
    items = matrix.cells.get(cell, []) if cell else matrix.items
    header = [_("Product"), _("Article / marketplace"), _("Revenue") if matrix.measure == "revenue" else _("Profit"),
              "ABC", _("Variation of weekly units, %"), "XYZ", _("Cell")]
    rows = [[i.group.label, i.group.detail, i.measure, i.abc, i.cv, i.xyz, i.cell] for i in items]
    matrix_header = ["", *XYZ]
    matrix_rows = [[a, *[count for _, count, _ in cells]] for a, cells in matrix.rows()]
    return report_response(fmt, f"abc_xyz_{matrix.period.start}_{matrix.period.end}", [
        ("ABC XYZ", header, rows), (_("Matrix"), matrix_header, matrix_rows),
    ])  # type: ignore[return-value]
