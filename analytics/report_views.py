"""Sales and profit by period and dimension, the ABC × XYZ matrix, their exports, and the background
jobs that build the exports of a long period (more than LONG_PERIOD_DAYS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from analytics import report_cache
from analytics.abc import Item
from analytics.exports import report_response
from analytics.jobs import FORMATS, start_report_job
from analytics.models import ReportJob, ReportSnapshot, ReportSnapshotRow
from analytics.period import LONG_PERIOD_DAYS, PERIODS, parse_period
from analytics.profit import DIMENSIONS, Figures, ProfitReport
from analytics.tables import cell_of, dimension_of, fee_labels, marketplace_of, measure_of, report_sheets
from core.files import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from core.models import Marketplace
from core.pagination import PAGE_SIZE, ApproximateCount, KeysetPage, Sort, Sorts, keyset_page
from core.roles import EVERYONE, require_role

# Rows on a page of the report's table (as the lists, core.pagination.PAGE_SIZE); the next pages by keyset
# over the snapshot's positions.
PAGE_ROWS = PAGE_SIZE
ROW_SORTS = Sorts(ReportSnapshotRow, [Sort("rank", _l("Report order"), ("position", "id"))])


def _page(request: HttpRequest, snapshot: ReportSnapshot, cell: str = "") -> KeysetPage:
    rows = ReportSnapshotRow.objects.filter(snapshot=snapshot)
    if cell:
        rows = rows.filter(cell=cell)
    page = keyset_page(request, rows, ROW_SORTS, per_page=PAGE_ROWS)
    # The snapshot knows its rows (and the cells theirs): no count query.
    total = int(snapshot.summary["cells"][cell][0]) if cell else snapshot.rows
    page.count = ApproximateCount(total, exact=True)
    return page


def _chart(series: list[tuple[Any, ...]]) -> dict[str, list[str]]:
    return {
        "labels": [day.strftime("%d.%m") for day, *_ in series],
        "predicted": [str(row[1]) for row in series],
        "accrued": [str(row[2]) for row in series],
        "paid": [str(row[3]) for row in series],
    }


@require_role(*EVERYONE)
def profit(request: HttpRequest) -> HttpResponse:
    period = parse_period(request.GET)
    marketplace = marketplace_of(request.GET)
    dimension = dimension_of(request.GET)
    long_period = period.days > LONG_PERIOD_DAYS
    # A long custom period is computed by the export's background job, not while the page waits.
    snapshot = report_cache.profit_snapshot(period, dimension, marketplace, compute=not long_period)
    context: dict[str, Any] = {
        "period": period, "periods": PERIODS, "dimensions": list(DIMENSIONS.items()),
        "marketplaces": Marketplace.choices, "long_period": long_period, "not_computed": snapshot is None,
    }
    if snapshot is None:
        report = ProfitReport(period, dimension, [], Figures(), marketplace)
        context.update(report=report, rows=[], table=[], chart=_chart([]), fees=[], total_fee_cells=[])
        return render(request, "analytics/profit.html", context)
    page = _page(request, snapshot)
    rows = [report_cache.group_of_row(row, dimension) for row in page.rows]
    report = ProfitReport(period, dimension, rows, report_cache.total_of(snapshot), marketplace)
    # Only the fees charged in the period: a column of dashes is noise (the export has every kind).
    fees = [(kind, label) for kind, label in fee_labels() if report.total.fees[kind]]
    context.update(
        report=report, rows=rows, page=page, chart=_chart(report_cache.chart_of(snapshot)), fees=fees,
        table=[(g, [g.figures.fees[kind] for kind, _label in fees]) for g in rows],
        total_fee_cells=[report.total.fees[kind] for kind, _label in fees], computed_at=snapshot.computed_at,
    )
    return render(request, "analytics/profit.html", context)


@dataclass
class MatrixPage:
    """The ABC page's matrix: the counts and sums of every cell, and one page of its items."""

    period: Any
    measure: str
    weeks: int
    items: list[Item]
    cell_rows: list[tuple[str, list[tuple[str, int, Any]]]]

    def rows(self) -> list[tuple[str, list[tuple[str, int, Any]]]]:
        return self.cell_rows


@require_role(*EVERYONE)
def abc(request: HttpRequest) -> HttpResponse:
    period = parse_period(request.GET)
    marketplace = marketplace_of(request.GET)
    measure = measure_of(request.GET)
    cell = cell_of(request.GET)
    long_period = period.days > LONG_PERIOD_DAYS
    snapshot = report_cache.abc_snapshot(period, measure, marketplace, compute=not long_period)
    context: dict[str, Any] = {
        "cell": cell, "period": period, "periods": PERIODS, "marketplace": marketplace,
        "marketplaces": Marketplace.choices, "measures": [("revenue", _("Revenue")), ("profit", _("Profit"))],
        "long_period": long_period, "not_computed": snapshot is None,
    }
    if snapshot is None:
        context.update(matrix=MatrixPage(period, measure, 0, [], []), items=[])
        return render(request, "analytics/abc.html", context)
    page = _page(request, snapshot, cell)
    items = [report_cache.item_of_row(row) for row in page.rows]
    matrix = MatrixPage(period, measure, int(snapshot.summary["weeks"]), items, report_cache.matrix_rows(snapshot))
    context.update(matrix=matrix, items=items, page=page, computed_at=snapshot.computed_at)
    return render(request, "analytics/abc.html", context)


# Files of more rows are written by a report job: a workbook of 100k products takes a minute to write.
INLINE_EXPORT_ROWS = 1000


def _in_background(request: HttpRequest, kind: str) -> bool:
    period = parse_period(request.GET)
    if period.days > LONG_PERIOD_DAYS:
        return True
    marketplace = marketplace_of(request.GET)
    if kind == "abc":
        snapshot = report_cache.abc_snapshot(period, measure_of(request.GET), marketplace)
        cell = cell_of(request.GET)
    else:
        snapshot = report_cache.profit_snapshot(period, dimension_of(request.GET), marketplace)
        cell = ""
    assert snapshot is not None
    rows = int(snapshot.summary["cells"][cell][0]) if cell else snapshot.rows
    return rows > INLINE_EXPORT_ROWS


def _export(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    if _in_background(request, kind):
        # A long period, or a large table, is written in the background; the job's page shows its
        # progress and the link.
        job = start_report_job(request.user, kind, fmt, request.GET.dict())
        return redirect("analytics:job", pk=job.pk)
    stem, sheets, chart_sheet = report_sheets(kind, request.GET)
    return report_response(fmt, stem, sheets, chart_sheet)  # type: ignore[return-value]


@require_role(*EVERYONE)
def profit_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, "profit", fmt)


@require_role(*EVERYONE)
def abc_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, "abc", fmt)


def _own_job(request: HttpRequest, pk: int) -> ReportJob:
    return get_object_or_404(ReportJob.objects.defer("content"), pk=pk, user_id=request.user.pk)


@require_role(*EVERYONE)
def job(request: HttpRequest, pk: int) -> HttpResponse:
    context: dict[str, Any] = {"job": _own_job(request, pk)}
    template = "analytics/includes/job_status.html" if request.headers.get("HX-Request") else "analytics/job.html"
    return render(request, template, context)


@require_role(*EVERYONE)
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(ReportJob, pk=pk, user_id=request.user.pk, status=ReportJob.Status.DONE)
    content_type = XLSX_CONTENT_TYPE if found.fmt == "xlsx" else CSV_CONTENT_TYPE
    response = HttpResponse(bytes(found.content or b""), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    return response
