"""Sales and profit by period and dimension, the ABC × XYZ matrix, their exports, and the background
jobs that build the exports of a long period (more than LONG_PERIOD_DAYS)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from analytics.exports import report_response
from analytics.jobs import FORMATS, start_report_job
from analytics.models import ReportJob
from analytics.period import LONG_PERIOD_DAYS, PERIODS, parse_period
from analytics.profit import DIMENSIONS, profit_report
from analytics.tables import (
    cell_of,
    chart_rows,
    dimension_of,
    fee_labels,
    marketplace_of,
    matrix_of,
    report_sheets,
)
from core.files import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from core.models import Marketplace
from core.roles import EVERYONE, require_role

# Rows shown on the page; the export holds them all.
PAGE_ROWS = 200


@require_role(*EVERYONE)
def profit(request: HttpRequest) -> HttpResponse:
    period = parse_period(request.GET)
    marketplace = marketplace_of(request.GET)
    report = profit_report(period, dimension_of(request.GET), marketplace=marketplace)
    series = chart_rows(period, marketplace)
    chart = {
        "labels": [day.strftime("%d.%m") for day, *_ in series],
        "predicted": [str(row[1]) for row in series],
        "accrued": [str(row[2]) for row in series],
        "paid": [str(row[3]) for row in series],
    }
    context = {
        "report": report, "rows": report.groups[:PAGE_ROWS], "more": max(len(report.groups) - PAGE_ROWS, 0),
        "period": period, "periods": PERIODS, "dimensions": list(DIMENSIONS.items()),
        # Only the fees charged in the period: a column of dashes is noise (the export has every kind).
        "fees": [(kind, label) for kind, label in fee_labels() if report.total.fees[kind]],
        "marketplaces": Marketplace.choices, "chart": chart, "long_period": period.days > LONG_PERIOD_DAYS,
    }
    return render(request, "analytics/profit.html", context)


@require_role(*EVERYONE)
def abc(request: HttpRequest) -> HttpResponse:
    matrix = matrix_of(request.GET)
    cell = cell_of(request.GET)
    items = matrix.cells.get(cell, []) if cell else matrix.items
    context = {
        "matrix": matrix, "cell": cell, "items": items[:PAGE_ROWS], "more": max(len(items) - PAGE_ROWS, 0),
        "period": matrix.period, "periods": PERIODS, "marketplace": marketplace_of(request.GET),
        "marketplaces": Marketplace.choices, "measures": [("revenue", _("Revenue")), ("profit", _("Profit"))],
    }
    return render(request, "analytics/abc.html", context)


def _export(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    if parse_period(request.GET).days > LONG_PERIOD_DAYS:
        # A long period runs in the background; the job's page shows its progress and the link.
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
