"""Sales and profit per article of each account over a period, from the two daily roll-ups
(analytics.SalesDaily from the orders, analytics.FinanceDaily from the finance reports), grouped
by marketplace, account, product, brand or category.

Three views of the money, as the marketplaces' cabinets show them:
- predicted: what the orders placed in the period are worth (orders − returns, the seller's price);
- accrued: what the finance reports accrued for sales in the period;
- paid: what they paid out, after every fee (sale + fees = payout; fees are negative).
Profit = paid − cost of the units sold (today's cost price × units net of returns) − tax of the
account's legal entity on the accrued sale (pricing.economics). One SQL statement returns one row
per (account, article); tax and grouping are arithmetic on those rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from analytics.finance_rollup import FEE_KINDS
from analytics.period import Period
from core.money import RUB
from integrations.models import MarketplaceAccount
from pricing.economics import DEFAULT_TAX_RATES, TaxRegime, TaxSettings, kopecks, tax_amounts
from pricing.models import LegalEntityAccount

ZERO = Decimal(0)

DIMENSIONS = {
    "product": _("Product"),
    "brand": _("Brand"),
    "category": _("Category"),
    "marketplace": _("Marketplace"),
    "account": _("Account"),
}
DEFAULT_DIMENSION = "product"


# The unique keys lead with the account: `account_id = ANY(every account)` lets the day range use them.
_SALES_FIGURES = ["orders", "units", "revenue", "returns", "return_units", "return_amount"]
_FINANCE_FIGURES = ["quantity", "sale_amount", "payout", *FEE_KINDS]
_AD_FIGURES = ["ad_spend"]
_SALES_SUMS = ", ".join(f"sum({n}) AS {n}" for n in _SALES_FIGURES)
_FINANCE_SUMS = ", ".join(f"sum({n}) AS {n}" for n in _FINANCE_FIGURES)
_JOINED = ", ".join(f"coalesce({n}, 0) AS {n}" for n in _SALES_FIGURES + _FINANCE_FIGURES)
_ANY_FIGURE = " OR ".join(f"{n} <> 0" for n in _SALES_FIGURES + _FINANCE_FIGURES + _AD_FIGURES)
# The roll-ups' rows of the period per (account, article, which period): sales and finance each
# aggregated on its own (every row sums only its own figures: a union padded with the other's zeros
# summed twice the columns, and its wide rows were sorted on disk), then joined on that key with the ad
# statistics' spend per card (analytics.AdSpendDaily), whose (account, period) total comes as
# `ad_total` on the empty article's row.
#
# Advertising is counted once: the finance reports charge it per account (FinanceDaily.advertising
# under the empty article), the ad statistics per card. The cards' ad spend is charged to them, and
# the same amount, up to what the finance reports charged for ads in that account and period, is
# taken off the account's row ("charges without an article"); spend the finance reports do not
# hold yet stays charged. So an account's ad cost is max(finance advertising, ad statistics).
_CTES = f"""
    WITH s AS (
        SELECT account_id, offer_id, day >= %(split)s AS current, {_SALES_SUMS}
        FROM analytics_salesdaily
        WHERE account_id = ANY(%(accounts)s) AND day BETWEEN %(start)s AND %(end)s AND currency = %(currency)s
        GROUP BY 1, 2, 3
    ), f AS (
        SELECT account_id, offer_id, day >= %(split)s AS current, {_FINANCE_SUMS}
        FROM analytics_financedaily
        WHERE account_id = ANY(%(accounts)s) AND day BETWEEN %(start)s AND %(end)s AND currency = %(currency)s
        GROUP BY 1, 2, 3
    ), d AS (
        -- One row per key: a card not matched to an article yet ('') and the account's total share it.
        SELECT account_id, offer_id, current, sum(ad_spend) AS ad_spend, sum(ad_total) AS ad_total
        FROM (
            SELECT account_id, CASE WHEN GROUPING(offer_id) = 1 THEN '' ELSE offer_id END AS offer_id, current,
                   CASE WHEN GROUPING(offer_id) = 1 THEN 0 ELSE sum(spend) END AS ad_spend,
                   CASE WHEN GROUPING(offer_id) = 1 THEN sum(spend) ELSE 0 END AS ad_total
            FROM (SELECT account_id, offer_id, day >= %(split)s AS current, spend FROM analytics_adspenddaily
                  WHERE account_id = ANY(%(accounts)s) AND day BETWEEN %(start)s AND %(end)s
                    AND currency = %(currency)s) d0
            GROUP BY GROUPING SETS ((account_id, current, offer_id), (account_id, current))
        ) d1
        GROUP BY 1, 2, 3
    ), a AS (
        SELECT * FROM (
            SELECT account_id, offer_id, current, {_JOINED},
                   coalesce(ad_spend, 0) - least(coalesce(ad_total, 0), greatest(-coalesce(advertising, 0), 0))
                       AS ad_spend
            FROM s FULL JOIN f USING (account_id, offer_id, current) FULL JOIN d USING (account_id, offer_id, current)
        ) a1
        WHERE offer_id <> '' OR {_ANY_FIGURE}  -- the empty article's row of ads alone: nothing left
    )
"""  # noqa: S608 - kinds are the model's constants; values are parameters
_ARTICLES = """
    SELECT a.*, m.marketplace, m.name AS account_name, l.id AS listing_id, l.title, l.category,
           p.id AS product_id, p.article, p.name AS product_name,
           coalesce(nullif(p.brand, ''), l.brand, '') AS brand, p.cost_price
    FROM a
    JOIN integrations_marketplaceaccount m ON m.id = a.account_id
    -- The account's first card of the article, as the ingests link them (one pass over the cards,
    -- hashed: cheaper than a lookup per article once a period holds thousands of them).
    LEFT JOIN (
        SELECT DISTINCT ON (account_id, offer_id) account_id, offer_id, id, product_id, title, category, brand
        FROM catalog_listing WHERE account_id = ANY(%(accounts)s) ORDER BY account_id, offer_id, id
    ) l ON l.account_id = a.account_id AND l.offer_id = a.offer_id AND a.offer_id <> ''
    LEFT JOIN catalog_product p ON p.id = l.product_id
"""
ARTICLES_SQL = _CTES + _ARTICLES

# The same rows with their cost, fees and tax (pricing.economics' formulas per the account's legal
# entity, rounded to kopecks half up as there), summed per group in SQL: the page gets one row per
# product (brand, …), never one per article to add up in Python.
_FEES_TOTAL = " + ".join(f"x.{kind}" for kind in FEE_KINDS)
_VAT_PART = "({amount}) * t.vat_rate / (100 + t.vat_rate)"
_FEE_GROUP_SUMS = ", ".join(f"sum({kind})" for kind in FEE_KINDS)
ARTICLE_FIGURES_SQL = _CTES + f""",
    x AS ({_ARTICLES}),
    t AS (
        SELECT * FROM unnest(%(tax_accounts)s::bigint[], %(tax_regimes)s::text[], %(tax_rates)s::numeric[],
                             %(tax_vats)s::numeric[], %(tax_cost_vat)s::boolean[])
            AS t(account_id, regime, rate, vat_rate, cost_vat)
    ),
    y AS (
        SELECT x.*, -({_FEES_TOTAL}) AS fees_total,
               coalesce(round(x.cost_price * (x.units - x.return_units), 2), 0) AS cost,
               (x.cost_price IS NULL AND x.units <> x.return_units AND x.offer_id <> '')::int AS cost_unknown,
               t.regime, t.rate, t.vat_rate, t.cost_vat
        FROM x LEFT JOIN t ON t.account_id = x.account_id
    ),
    v AS (
        SELECT y.*, CASE WHEN coalesce(t.vat_rate, 0) = 0 THEN 0 ELSE round(
                   {_VAT_PART.format(amount="y.sale_amount")}
                   - CASE WHEN t.regime = 'osno' THEN {_VAT_PART.format(amount="y.fees_total")}
                          + CASE WHEN t.cost_vat THEN {_VAT_PART.format(amount="y.cost")} ELSE 0 END
                     ELSE 0 END, 2) END AS vat
        FROM y LEFT JOIN t ON t.account_id = y.account_id
    ),
    z AS (
        SELECT v.*, CASE
            WHEN v.regime IS NULL OR (v.sale_amount = 0 AND v.payout = 0) THEN 0
            WHEN v.regime = 'usn_income' THEN v.vat + round((v.sale_amount - v.vat) * v.rate / 100, 2)
            WHEN v.regime = 'osno' THEN v.vat + round(greatest((
                v.sale_amount - v.sale_amount * v.vat_rate / (100 + v.vat_rate)
                - CASE WHEN v.cost_vat THEN v.cost - v.cost * v.vat_rate / (100 + v.vat_rate) ELSE v.cost END
                - (v.fees_total - v.fees_total * v.vat_rate / (100 + v.vat_rate))) * v.rate / 100, 0), 2)
            ELSE v.vat + round(greatest((v.sale_amount - v.vat - v.cost - v.fees_total) * v.rate / 100, 0), 2)
        END AS tax
        FROM v
    )
"""  # noqa: S608 - kinds are the model's constants
# The groups of the article rows (`z`, or a table holding them: analytics.report_cache).
GROUP_SELECT = f"""
    SELECT current, {{key}} AS key, min({{label}}) AS label, min({{detail}}) AS detail, min(product_id) AS product_id,
           sum(orders), sum(units), sum(returns), sum(return_units), sum(revenue - return_amount),
           sum(sale_amount), sum(payout), sum(cost), sum(tax), sum(cost_unknown), sum(ad_spend), {_FEE_GROUP_SUMS}
    FROM {{source}}
    GROUP BY 1, 2
    ORDER BY 1, sum(sale_amount) DESC, sum(revenue - return_amount) DESC, 2
"""  # noqa: S608 - kinds are the model's constants; dimensions are the constants below
GROUPED_SQL = ARTICLE_FIGURES_SQL + GROUP_SELECT

_PRODUCT_KEY = ("CASE WHEN product_id IS NOT NULL THEN 'p' || product_id "
                "ELSE 'a' || account_id || ':' || offer_id END")
GROUPINGS = {
    "product": (_PRODUCT_KEY, "coalesce(product_name, nullif(title, ''), offer_id)",
                "coalesce(article, nullif(offer_id, ''), account_name)"),
    "brand": ("brand", "brand", "''"),
    "category": ("coalesce(category, '')", "coalesce(category, '')", "''"),
    "marketplace": ("marketplace", "marketplace", "''"),
    "account": ("account_id::text", "account_name", "marketplace"),
}


@dataclass
class Figures:
    orders: int = 0
    units: int = 0
    returns: int = 0
    return_units: int = 0
    predicted: Decimal = ZERO  # orders' revenue net of returns
    accrued: Decimal = ZERO
    paid: Decimal = ZERO
    fees: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(FEE_KINDS, ZERO))
    cost: Decimal = ZERO
    tax: Decimal = ZERO
    cost_unknown: int = 0  # articles sold whose product has no cost price
    # Ad statistics' spend on the cards (analytics.AdSpendDaily); on the account's row without an
    # article, minus the part of the finance reports' advertising the cards now carry (see _CTES).
    ad_spend: Decimal = ZERO

    @property
    def fees_total(self) -> Decimal:
        """Charged by the marketplace, as a positive amount."""
        return -sum(self.fees.values(), ZERO)

    @property
    def profit(self) -> Decimal:
        return self.paid - self.cost - self.tax - self.ad_spend

    @property
    def ad_share(self) -> Decimal | None:
        """The ads' share of the profit they were paid from (profit before the ads), percent."""
        before = self.profit + self.ad_spend
        if not self.ad_spend or before <= 0:
            return None
        return (self.ad_spend * 100 / before).quantize(Decimal("0.1"))

    @property
    def margin(self) -> Decimal | None:
        return (self.profit * 100 / self.accrued).quantize(Decimal("0.1")) if self.accrued else None

    def fee(self, kind: str) -> Decimal:
        return -self.fees[kind]

    def add(self, other: Figures) -> None:
        for name in ("orders", "units", "returns", "return_units", "predicted", "accrued", "paid", "cost", "tax",
                     "cost_unknown", "ad_spend"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind in FEE_KINDS:
            self.fees[kind] += other.fees[kind]


@dataclass
class Group:
    key: str
    label: str
    detail: str = ""  # a second line: the product's article, the account's marketplace
    product_id: int | None = None
    figures: Figures = field(default_factory=Figures)


def tax_settings_by_account() -> dict[int, TaxSettings]:
    """Every account's legal entity's tax, in one query."""
    result = {}
    for link in LegalEntityAccount.objects.select_related("legal_entity"):
        entity = link.legal_entity
        regime = TaxRegime(entity.tax_regime)
        rate = entity.tax_rate if entity.tax_rate is not None else DEFAULT_TAX_RATES[regime]
        result[link.account_id] = TaxSettings(regime, Decimal(rate), Decimal(entity.vat_rate),
                                              entity.cost_includes_vat)
    return result


def article_rows(period: Period, *, currency: str = RUB, accounts: Iterable[int] | None = None
                 ) -> list[dict[str, Any]]:
    if accounts is None:
        accounts = account_ids()
    params: dict[str, Any] = {
        "accounts": list(accounts), "start": period.start, "end": period.end, "split": period.start,
        "currency": currency,
    }
    with connection.cursor() as cursor:
        cursor.execute(ARTICLES_SQL, params)
        columns = [c.name for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def figures_of(row: dict[str, Any], tax: TaxSettings | None) -> Figures:
    net_units = int(row["units"]) - int(row["return_units"])
    figures = Figures(
        orders=int(row["orders"]), units=int(row["units"]), returns=int(row["returns"]),
        return_units=int(row["return_units"]), predicted=Decimal(row["revenue"]) - Decimal(row["return_amount"]),
        accrued=Decimal(row["sale_amount"]), paid=Decimal(row["payout"]),
        fees={kind: Decimal(row[kind]) for kind in FEE_KINDS}, ad_spend=Decimal(row.get("ad_spend") or 0),
    )
    if row["cost_price"] is not None:
        figures.cost = kopecks(Decimal(row["cost_price"]) * net_units)
    elif net_units and row["offer_id"]:
        figures.cost_unknown = 1
    if tax is not None and (figures.accrued or figures.paid):
        vat, income_tax = tax_amounts(figures.accrued, figures.cost, figures.fees_total, tax, rounded=True)
        figures.tax = vat + income_tax
    return figures


@dataclass
class ProfitReport:
    period: Period
    dimension: str
    groups: list[Group]
    total: Figures
    marketplace: str = ""

    @property
    def has_ads(self) -> bool:
        """Whether any row carries ad statistics' spend (the page shows its columns only then)."""
        return any(group.figures.ad_spend for group in self.groups)


def report_settings(cursor: Any) -> None:
    """Each report is one statement over a few hundred thousand roll-up rows: hash them in memory
    (not in spilled sorts) and without parallel workers, whose start costs more than they save here."""
    cursor.execute("SELECT set_config('work_mem', '64MB', true), "
                   "set_config('max_parallel_workers_per_gather', '0', true)")


def grouped(period: Period, dimension: str, accounts: list[int], *, currency: str = RUB) -> list[Group]:
    """One Group per product (brand, category, marketplace, account) with its figures, by accrued
    sales, largest first: a single SQL statement over the two roll-ups."""
    return _grouped(period.start, period.start, period.end, dimension, accounts, currency)[0]


def grouped_with_previous(period: Period, dimension: str, accounts: list[int], *, currency: str = RUB
                          ) -> tuple[list[Group], list[Group]]:
    """The period's groups and the previous period's, in one pass over both."""
    return _grouped(period.previous().start, period.start, period.end, dimension, accounts, currency)


def grouped_params(start: date, split: date, end: date, accounts: list[int], currency: str,
                   taxes: dict[int, TaxSettings] | None = None) -> dict[str, Any]:
    """The parameters of ARTICLE_FIGURES_SQL / GROUPED_SQL: the days, the accounts, their taxes."""
    if taxes is None:
        taxes = tax_settings_by_account()
    return {
        "accounts": accounts, "start": start, "end": end, "split": split, "currency": currency,
        "tax_accounts": list(taxes), "tax_regimes": [str(t.regime) for t in taxes.values()],
        "tax_rates": [t.rate for t in taxes.values()], "tax_vats": [t.vat_rate for t in taxes.values()],
        "tax_cost_vat": [t.cost_includes_vat for t in taxes.values()],
    }


def group_sql(dimension: str, source: str = "z") -> str:
    """GROUP_SELECT grouped by the dimension, over `source` (the article rows)."""
    key, label, detail = GROUPINGS[dimension]
    return GROUP_SELECT.format(key=key, label=label, detail=detail, source=source)


def group_of(row: tuple[Any, ...], dimension: str) -> tuple[bool, Group]:
    """(whether of the current period, the group) of a row of GROUP_SELECT."""
    (is_current, group_key, group_label, group_detail, product_id, orders, units, returns, return_units,
     predicted, accrued, paid, cost, tax, cost_unknown, ad_spend, *fees) = row
    figures = Figures(
        orders=int(orders), units=int(units), returns=int(returns), return_units=int(return_units),
        predicted=Decimal(predicted), accrued=Decimal(accrued), paid=Decimal(paid),
        fees={kind: Decimal(amount) for kind, amount in zip(FEE_KINDS, fees, strict=True)},
        cost=Decimal(cost), tax=Decimal(tax), cost_unknown=int(cost_unknown), ad_spend=Decimal(ad_spend),
    )
    if dimension == "product" and group_key.endswith(":"):
        group_label = gettext("Charges without an article")  # storage, ads of the account as a whole
    return bool(is_current), Group(group_key, group_label or "", group_detail or "", product_id, figures)


def _grouped(start: date, split: date, end: date, dimension: str, accounts: list[int], currency: str
             ) -> tuple[list[Group], list[Group]]:
    """Groups of the days from `split` to `end`, and of those from `start` to the day before `split`."""
    params = grouped_params(start, split, end, accounts, currency)
    current: list[Group] = []
    previous: list[Group] = []
    with transaction.atomic(), connection.cursor() as cursor:
        report_settings(cursor)
        cursor.execute(ARTICLE_FIGURES_SQL + group_sql(dimension), params)
        for row in cursor.fetchall():
            is_current, group = group_of(row, dimension)
            (current if is_current else previous).append(group)
    return current, previous


def account_ids(marketplace: str = "") -> list[int]:
    accounts = MarketplaceAccount.objects.order_by("pk")
    if marketplace:
        accounts = accounts.filter(marketplace=marketplace)
    return list(accounts.values_list("pk", flat=True))


def profit_report(period: Period, dimension: str = DEFAULT_DIMENSION, *, marketplace: str = "",
                  currency: str = RUB) -> ProfitReport:
    if dimension not in DIMENSIONS:
        dimension = DEFAULT_DIMENSION
    groups = grouped(period, dimension, account_ids(marketplace), currency=currency)
    total = Figures()
    for group in groups:
        total.add(group.figures)
    return ProfitReport(period, dimension, groups, total, marketplace)


DAILY_SQL = """
    SELECT d.day, coalesce(s.revenue, 0), coalesce(f.sale_amount, 0), coalesce(f.payout, 0)
    FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d(day)
    LEFT JOIN (
        SELECT day, sum(revenue - return_amount) AS revenue FROM analytics_salesdaytotal
        WHERE account_id = ANY(%(accounts)s) AND day BETWEEN %(start)s AND %(end)s AND currency = %(currency)s
        GROUP BY 1
    ) s ON s.day = d.day
    LEFT JOIN (
        SELECT day, sum(sale_amount) AS sale_amount, sum(payout) AS payout FROM analytics_financedaily
        WHERE account_id = ANY(%(accounts)s) AND day BETWEEN %(start)s AND %(end)s AND currency = %(currency)s
        GROUP BY 1
    ) f ON f.day = d.day
    ORDER BY 1
"""


def daily_series(
    period: Period, accounts: list[int], currency: str = RUB
) -> list[tuple[Any, Decimal, Decimal, Decimal]]:
    """(day, predicted, accrued, paid) for every day of the period: the chart's data."""
    params: dict[str, Any] = {"accounts": accounts, "start": period.start, "end": period.end, "currency": currency}
    with connection.cursor() as cursor:
        cursor.execute(DAILY_SQL, params)
        return [(day.date(), Decimal(p), Decimal(a), Decimal(paid)) for day, p, a, paid in cursor.fetchall()]
