"""The advertising page: spend per card over a period with views, clicks, CTR, orders, cost per order
and the share of the card's revenue (ДРР), per marketplace; a keyset list and its XLSX/CSV export."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from analytics import ads as selectors
from analytics.ads import AdsReport, ads_report
from analytics.exports import report_response
from analytics.period import PERIODS, parse_period
from analytics.tables import marketplace_of
from core.models import Marketplace
from core.roles import EVERYONE, require_role
from integrations.models import MarketplaceAccount

FORMATS = ("xlsx", "csv")


def _accounts(marketplace: str) -> dict[int, tuple[str, str]]:
    accounts = MarketplaceAccount.objects.order_by("pk")
    if marketplace:
        accounts = accounts.filter(marketplace=marketplace)
    return {pk: (mp, name) for pk, mp, name in accounts.values_list("pk", "marketplace", "name")}


@require_role(*EVERYONE)
def ads(request: HttpRequest) -> HttpResponse:
    period = parse_period(request.GET)
    marketplace = marketplace_of(request.GET)
    report = ads_report(period, _accounts(marketplace), after=request.GET.get("after", ""), limit=selectors.PAGE_SIZE)
    report.marketplace = marketplace
    labels = dict(Marketplace.choices)
    context = {
        "report": report, "period": period, "periods": PERIODS, "marketplaces": Marketplace.choices,
        "by_marketplace": [(labels.get(mp, mp), f) for mp, f in sorted(report.by_marketplace.items()) if f.spend],
        "labels": labels, "query": _without_cursor(request),
    }
    return render(request, "analytics/ads.html", context)


def _without_cursor(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("after", None)
    return params.urlencode()


def ads_sheets(report: AdsReport) -> list[tuple[str, list[str], list[list[object]]]]:
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


@require_role(*EVERYONE)
def ads_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    period = parse_period(request.GET)
    report = ads_report(period, _accounts(marketplace_of(request.GET)), limit=None)
    return report_response(fmt, f"ads_{period.start}_{period.end}", ads_sheets(report))  # type: ignore[return-value]
