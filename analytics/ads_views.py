"""The advertising page: spend per card over a period with views, clicks, CTR, orders, cost per order
and the share of the card's revenue (ДРР), per marketplace; a keyset list and its XLSX/CSV export.

Both read the report's snapshot (analytics.report_cache.ads_snapshot: computed by analytics.ads.ads_report
once per period and marketplace, by beat for the presets, kept while its inputs are unchanged): a page is a
keyset range of the snapshot's rows by position. A custom period longer than LONG_PERIOD_DAYS is not
computed on the page; its export is built in the background (a ReportJob), as for the profit report."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from analytics import ads as selectors
from analytics import report_cache
from analytics.ads import AdsReport, accounts_of
from analytics.exports import report_response
from analytics.jobs import FORMATS, start_report_job
from analytics.models import ReportSnapshotRow
from analytics.period import LONG_PERIOD_DAYS, PERIODS, parse_period
from analytics.report_views import ROW_SORTS
from analytics.tables import marketplace_of, report_sheets
from core.models import Marketplace
from core.pagination import ApproximateCount, keyset_page
from core.roles import EVERYONE, require_role


@require_role(*EVERYONE)
def ads(request: HttpRequest) -> HttpResponse:
    period = parse_period(request.GET)
    marketplace = marketplace_of(request.GET)
    accounts = accounts_of(marketplace)
    long_period = period.days > LONG_PERIOD_DAYS
    # A long custom period is computed by the export's background job, not while the page waits.
    snapshot = report_cache.ads_snapshot(period, accounts, marketplace, compute=not long_period)
    labels = dict(Marketplace.choices)
    context: dict[str, Any] = {
        "period": period, "periods": PERIODS, "marketplaces": Marketplace.choices, "labels": labels,
        "query": _without_cursor(request), "long_period": long_period, "not_computed": snapshot is None,
    }
    if snapshot is None:
        report = AdsReport(period, marketplace, [])
    else:
        page = keyset_page(request, ReportSnapshotRow.objects.filter(snapshot=snapshot), ROW_SORTS,
                           per_page=selectors.PAGE_SIZE)
        page.count = ApproximateCount(snapshot.rows, exact=True)  # the snapshot knows its rows: no count query
        report = report_cache.ads_of(snapshot, period, marketplace, accounts, page.rows)
        report.next_cursor = page.next_cursor if page.has_next else ""
        report.after = request.GET.get("after", "") if page.has_previous else ""
        context.update(page=page, computed_at=snapshot.computed_at)
    context.update(
        report=report,
        by_marketplace=[(labels.get(mp, mp), f) for mp, f in sorted(report.by_marketplace.items()) if f.spend],
    )
    return render(request, "analytics/ads.html", context)


def _without_cursor(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("after", None)
    params.pop("before", None)
    return params.urlencode()


@require_role(*EVERYONE)
def ads_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    if parse_period(request.GET).days > LONG_PERIOD_DAYS:
        # As the profit report's: the job's page shows its progress and the link.
        job = start_report_job(request.user, "ads", fmt, request.GET.dict())
        return redirect("analytics:job", pk=job.pk)
    stem, sheets, _chart = report_sheets("ads", request.GET)
    return report_response(fmt, stem, sheets)  # type: ignore[return-value]
