from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analytics.selectors import sales_by_day
from core.roles import EVERYONE, require_role

PERIODS = (7, 14, 30, 90)
DEFAULT_PERIOD = 14


def _days(request: HttpRequest) -> int:
    value = request.GET.get("days", "")
    return int(value) if value.isdigit() and int(value) in PERIODS else DEFAULT_PERIOD


@require_role(*EVERYONE)
def sales(request: HttpRequest) -> HttpResponse:
    days = _days(request)
    context = {"report": sales_by_day(days=days), "days": days, "periods": PERIODS}
    return render(request, "analytics/sales.html", context)


@require_role(*EVERYONE)
def sales_csv(request: HttpRequest) -> HttpResponse:
    """The same table as CSV: an export every role (Analyst included) may download."""
    report = sales_by_day(days=_days(request))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sales-{report.start}-{report.end}.csv"'
    writer = csv.writer(response)
    writer.writerow(["date", "marketplace", "orders", "revenue", "currency", "units", "returns", "return_amount"])
    for day in report.days:
        for (key, _label), cell in zip(report.marketplaces, day.cells, strict=True):
            if cell:
                writer.writerow([
                    day.day.isoformat(), key, cell.orders, f"{cell.revenue:.2f}", report.currency, cell.units,
                    cell.returns, f"{cell.return_amount:.2f}",
                ])
    return response
