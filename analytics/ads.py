"""Advertising spend per card and day (analytics.AdSpendDaily): the bulk ingest of the `ads` sync
stream, and the report of the ads page (spend, views, clicks, CTR, orders, cost per order and the
share of the card's revenue, ДРР) and its export.

The report is one SQL aggregate over AdSpendDaily joined with SalesDaily's revenue of the same
articles and period: per (account, article), in the order (spend, account, article) descending. At
a large seller's scale that takes a few hundred milliseconds, so the page and the export do not run
it: they read its snapshot (analytics.report_cache.ads_snapshot, every row of `ads_report(...,
limit=None)` stored in order, recomputed once the ad statistics, the sales roll-ups or the cards
change), a page at a time by keyset over the rows' positions. `after`/`limit` page the live report.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection

from analytics.period import Period
from core.bulk import Upsert, UpsertCounts, dedupe_last, upsert
from core.money import RUB
from integrations.base import AdStatDTO
from integrations.models import MarketplaceAccount

PAGE_SIZE = 50
ZERO = Decimal(0)

_FIELDS = ["campaign_name", "currency", "spend", "views", "clicks", "orders", "ordered_amount"]
_AD_SPEND = Upsert(
    table="analytics_adspenddaily",
    stage=list(zip(
        ["account_id", "day", "campaign_id", "item_ref", *_FIELDS],
        ["bigint", "date", "text", "text", "text", "text", "numeric(14,2)", "integer", "integer", "integer",
         "numeric(16,2)"],
        strict=True,
    )),
    insert=["account_id", "day", "campaign_id", "item_ref", *_FIELDS, "offer_id", "listing_id"],
    # The account's card with this marketplace sku (WB nmID, Ozon sku), through its index.
    source="""
        SELECT s.*, coalesce(l.offer_id, '') AS offer_id, l.id AS listing_id
        FROM {stage} s
        LEFT JOIN LATERAL (
            SELECT l.id, l.offer_id FROM catalog_listing l
            WHERE l.account_id = s.account_id AND l.marketplace_sku = s.item_ref ORDER BY l.id LIMIT 1
        ) l ON true
    """,
    conflict=["account_id", "day", "campaign_id", "item_ref"],
    compare=[*_FIELDS, "offer_id", "listing_id"],
    on_insert=["updated_at"],
    on_update=["updated_at"],
)


def ingest_ad_stats(account_id: int, items: Sequence[AdStatDTO]) -> UpsertCounts:
    """Upsert the statistics rows of one page; the same figures again change nothing."""
    rows = dedupe_last(
        [(account_id, item.day, item.campaign_id[:40], item.item_ref[:100], item.campaign_name[:200],
          item.currency, item.spend, item.views, item.clicks, item.orders, item.ordered_amount) for item in items],
        key=lambda row: (row[1], row[2], row[3]),
    )
    counts, _ = upsert(_AD_SPEND, rows)
    return counts


# ---------------------------------------------------------------------------------------------
# The ads page


def accounts_of(marketplace: str = "") -> dict[int, tuple[str, str]]:
    """The accounts a report covers ({id: (marketplace, name)}): all, or those of one marketplace."""
    accounts = MarketplaceAccount.objects.order_by("pk")
    if marketplace:
        accounts = accounts.filter(marketplace=marketplace)
    return {pk: (mp, name) for pk, mp, name in accounts.values_list("pk", "marketplace", "name")}


@dataclass
class AdFigures:
    spend: Decimal = ZERO
    views: int = 0
    clicks: int = 0
    orders: int = 0
    ordered_amount: Decimal = ZERO  # the orders the ads brought, by the ad statistics
    revenue: Decimal = ZERO  # the article's orders in the period less returns (analytics.SalesDaily)

    @property
    def ctr(self) -> Decimal | None:
        """Clicks per 100 views."""
        return _ratio(self.clicks * 100, self.views, "0.01")

    @property
    def cost_per_order(self) -> Decimal | None:
        return _ratio(self.spend, self.orders, "0.01")

    @property
    def cost_per_click(self) -> Decimal | None:
        return _ratio(self.spend, self.clicks, "0.01")

    @property
    def drr(self) -> Decimal | None:
        """ДРР: ad spend as a share of the revenue, percent."""
        return _ratio(self.spend * 100, self.revenue, "0.1")

    def add(self, other: AdFigures) -> None:
        for name in ("spend", "views", "clicks", "orders", "ordered_amount", "revenue"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _ratio(numerator: Decimal | int, denominator: Decimal | int, places: str) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(places), ROUND_HALF_UP)


@dataclass
class AdRow:
    account_id: int
    offer_id: str
    item_ref: str
    marketplace: str
    account_name: str
    title: str
    listing_id: int | None
    product_id: int | None
    campaigns: int
    figures: AdFigures

    def cursor(self) -> str:
        return encode_cursor(self.figures.spend, self.account_id, self.offer_id)


@dataclass
class AdsReport:
    period: Period
    marketplace: str
    rows: list[AdRow]
    by_marketplace: dict[str, AdFigures] = field(default_factory=dict)
    total: AdFigures = field(default_factory=AdFigures)
    next_cursor: str = ""
    after: str = ""


def encode_cursor(spend: Decimal, account_id: int, offer_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([str(spend), account_id, offer_id]).encode()).decode()


def decode_cursor(token: str) -> tuple[Decimal, int, str] | None:
    try:
        spend, account_id, offer_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        return Decimal(spend), int(account_id), str(offer_id)
    except (binascii.Error, ValueError, TypeError, ArithmeticError, UnicodeDecodeError):
        return None


# Every article's ad figures of the period (one row per account and article), and each account's
# total (GROUPING SETS), in one pass over the period's rows through the unique key; the page is a
# keyset over (spend, account, article), largest spend first; its cards are looked up for its rows only.
_ADS_SQL = """
    WITH ad AS MATERIALIZED (
        SELECT account_id, coalesce(offer_id, '') AS offer_id, GROUPING(offer_id) AS is_total,
               min(item_ref) AS item_ref, count(DISTINCT campaign_id) AS campaigns,
               sum(spend) AS spend, sum(views) AS views, sum(clicks) AS clicks, sum(orders) AS orders,
               sum(ordered_amount) AS ordered_amount
        FROM analytics_adspenddaily
        WHERE account_id = ANY(%(accounts)s) AND day BETWEEN %(start)s AND %(end)s AND currency = %(currency)s
        GROUP BY GROUPING SETS ((account_id, offer_id), (account_id))
    )
    (SELECT p.*, l.id AS listing_id, l.title, l.product_id
     FROM (SELECT * FROM ad WHERE is_total = 0 {after}
           ORDER BY spend DESC, account_id DESC, offer_id DESC {limit}) p
     LEFT JOIN LATERAL (
         SELECT l.id, l.title, l.product_id FROM catalog_listing l
         WHERE l.account_id = p.account_id AND l.offer_id = p.offer_id AND p.offer_id <> '' ORDER BY l.id LIMIT 1
     ) l ON true
     ORDER BY p.spend DESC, p.account_id DESC, p.offer_id DESC)
    UNION ALL
    (SELECT ad.*, NULL, NULL, NULL FROM ad WHERE is_total = 1)
"""
_AFTER = "AND (spend, account_id, offer_id) < (%(after_spend)s, %(after_account)s, %(after_offer)s)"

# Orders' revenue net of returns of the given articles (analytics.SalesDaily) over the period.
_REVENUE_SQL = """
    SELECT account_id, offer_id, sum(revenue - return_amount)
    FROM analytics_salesdaily
    WHERE account_id = ANY(%(accounts)s) AND day BETWEEN %(start)s AND %(end)s AND currency = %(currency)s
      AND offer_id = ANY(%(offers)s)
    GROUP BY 1, 2
"""
_ACCOUNT_REVENUE_SQL = """
    SELECT account_id, sum(revenue - return_amount) FROM analytics_salesdaytotal
    WHERE account_id = ANY(%(accounts)s) AND day BETWEEN %(start)s AND %(end)s AND currency = %(currency)s
    GROUP BY 1
"""


def ads_report(period: Period, accounts: dict[int, tuple[str, str]], *, after: str = "", limit: int | None = PAGE_SIZE,
               currency: str = RUB) -> AdsReport:
    """The period's ad figures per article of `accounts` ({id: (marketplace, name)}), a page of
    `limit` rows after the cursor `after` (None: every row, for the export), with the totals per
    marketplace (ДРР there against the marketplace's whole revenue). Three statements."""
    params: dict[str, Any] = {"accounts": list(accounts), "start": period.start, "end": period.end,
                              "currency": currency}
    cursor_values = decode_cursor(after) if after else None
    after_sql = ""
    if cursor_values is not None:
        after_sql = _AFTER
        params.update(after_spend=cursor_values[0], after_account=cursor_values[1], after_offer=cursor_values[2])
    limit_sql = f"LIMIT {int(limit) + 1}" if limit is not None else ""
    report = AdsReport(period, "", [], after=after if cursor_values else "")
    account_totals: dict[int, AdFigures] = {}
    with connection.cursor() as sql:
        sql.execute(_ADS_SQL.format(after=after_sql, limit=limit_sql), params)
        columns = [c.name for c in sql.description]
        for values in sql.fetchall():
            row = dict(zip(columns, values, strict=True))
            figures = AdFigures(Decimal(row["spend"]), int(row["views"]), int(row["clicks"]), int(row["orders"]),
                                Decimal(row["ordered_amount"]))
            if row["is_total"]:
                account_totals[row["account_id"]] = figures
                continue
            marketplace, name = accounts[row["account_id"]]
            report.rows.append(AdRow(row["account_id"], row["offer_id"], row["item_ref"], marketplace, name,
                                     row["title"] or "", row["listing_id"], row["product_id"],
                                     int(row["campaigns"]), figures))
        if limit is not None and len(report.rows) > limit:
            report.rows = report.rows[:limit]
            report.next_cursor = report.rows[-1].cursor()
        if report.rows:
            sql.execute(_REVENUE_SQL, {**params, "offers": sorted({r.offer_id for r in report.rows if r.offer_id})})
            revenue = {(account_id, offer_id): Decimal(amount) for account_id, offer_id, amount in sql.fetchall()}
            for r in report.rows:
                r.figures.revenue = revenue.get((r.account_id, r.offer_id), ZERO)
        sql.execute(_ACCOUNT_REVENUE_SQL, params)
        for account_id, amount in sql.fetchall():
            account_totals.setdefault(account_id, AdFigures()).revenue = Decimal(amount)
    for account_id, figures in sorted(account_totals.items()):
        marketplace = accounts[account_id][0]
        report.by_marketplace.setdefault(marketplace, AdFigures()).add(figures)
        report.total.add(figures)
    return report
