"""The reconciliation screen (analytics.reconciliation): the period's figures per marketplace, the
discrepancies as a keyset list with their export to take to support, and a refresh on demand."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from analytics.models import Discrepancy
from analytics.period import PERIODS, Period, parse_period
from analytics.reconciliation import (
    DISCREPANCY_SORTS,
    discrepancies,
    export_header,
    export_rows,
    payout_days,
    reconciliation,
    refresh_state,
    request_refresh,
    tolerance,
)
from analytics.reconciliation_filters import DiscrepancyFilter
from analytics.tables import fee_labels
from core.files import export_response
from core.models import Marketplace
from core.pagination import ApproximateCount, keyset_page
from core.roles import EDITORS, EVERYONE, require_role
from integrations.models import MarketplaceAccount

FORMATS = ("xlsx", "csv")
# The export holds every page of the filter up to this many rows (the page says so).
EXPORT_LIMIT = 100_000


def _filtered(request: HttpRequest) -> tuple[Period, DiscrepancyFilter]:
    """The period (7/30/90 days or a custom range, as the other reports) becomes the filter's start/end."""
    period = parse_period(request.GET)
    data: QueryDict = request.GET.copy()
    data["start"], data["end"] = period.start.isoformat(), period.end.isoformat()
    return period, DiscrepancyFilter(data, queryset=discrepancies())


def _accounts_of(filterset: DiscrepancyFilter, accounts: list[MarketplaceAccount]) -> list[int]:
    cleaned: dict[str, Any] = filterset.form.cleaned_data if filterset.is_valid() else {}
    chosen = cleaned.get("account")
    marketplace = cleaned.get("marketplace") or ""
    return [a.pk for a in accounts
            if (chosen is None or a.pk == chosen.pk) and (not marketplace or a.marketplace == marketplace)]


@require_GET
@require_role(*EVERYONE)
def reconciliation_page(request: HttpRequest) -> HttpResponse:
    period, filterset = _filtered(request)
    accounts = list(MarketplaceAccount.objects.order_by("name").only("pk", "name", "marketplace"))
    account_ids = _accounts_of(filterset, accounts)
    page = keyset_page(request, filterset.qs, DISCREPANCY_SORTS)
    report = reconciliation(period, account_ids)
    cleaned = filterset.form.cleaned_data
    kind = cleaned.get("kind") or ""
    query = request.GET.copy()
    for name in ("after", "before", "kind"):
        query.pop(name, None)
    # The list's count is the daily table's (written with the rows, by the same filters): exact, and no
    # count over the discrepancies themselves.
    page.count = ApproximateCount(
        next((k.count for k in report.kinds if k.kind == kind), 0) if kind else report.total.discrepancies, exact=True)
    fees = [(name, label) for name, label in fee_labels() if report.total.fees[name]]
    # Each summary row with its fee cells in the columns' order (charges as positive amounts).
    summary = [(row, [-row.fees[name] for name, _label in fees]) for row in report.marketplaces]
    total_fees = [-report.total.fees[name] for name, _label in fees]
    context = {
        "period": period, "periods": PERIODS, "report": report, "page": page, "rows": page.rows,
        "filterset": filterset, "accounts": accounts, "marketplaces": Marketplace.choices,
        "marketplace": cleaned.get("marketplace") or "", "account": cleaned.get("account"), "kind": kind,
        "kinds": Discrepancy.Kind.choices, "sorts": DISCREPANCY_SORTS.options, "sort": page.sort.key,
        "kind_query": query.urlencode(), "export_query": _export_query(request), "export_limit": EXPORT_LIMIT,
        "state": refresh_state(account_ids) if account_ids else None, "fees": fees, "summary": summary,
        "total_fees": total_fees,
        "payout_days": sorted({payout_days(m) for m, _label in Marketplace.choices}), "tolerance": tolerance(),
    }
    return render(request, "analytics/reconciliation.html", context)


def _export_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    for name in ("after", "before"):
        query.pop(name, None)
    return query.urlencode()


@require_GET
@require_role(*EVERYONE)
def reconciliation_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every page of the filtered discrepancies (up to EXPORT_LIMIT), in the page's order."""
    if fmt not in FORMATS:
        raise Http404
    _period, filterset = _filtered(request)
    sort = DISCREPANCY_SORTS.pick(request.GET.get("sort"))
    rows = export_rows(filterset.qs, sort, limit=EXPORT_LIMIT)
    return export_response(fmt, "reconciliation", _("Discrepancies"), export_header(), rows)  # type: ignore[return-value]


@require_POST
@require_role(*EDITORS)
def reconciliation_refresh(request: HttpRequest) -> HttpResponse:
    runs = request_refresh(user=request.user)
    if runs:
        messages.success(request, ngettext(
            "Recomputing the reconciliation of %(count)d account: the figures update in a minute or two.",
            "Recomputing the reconciliation of %(count)d accounts: the figures update in a minute or two.",
            len(runs)) % {"count": len(runs)})
    else:
        messages.info(request, _("The reconciliation is already being recomputed."))
    # Back to the page with its filters (a query string only: the path is ours).
    back = request.POST.get("query", "").lstrip("?")
    return redirect(reverse("analytics:reconciliation") + (f"?{back}" if back else ""))
