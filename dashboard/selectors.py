"""Reads for the overview page. A fixed number of queries: the figures by day come from the sales
roll-up (one query covers today, the period, the previous period and the chart); counts over whole
tables (listings, unanswered reviews and questions, stock) and the profit (which joins the cards
for cost prices) are computed once a minute and shared by every page view."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone

from analytics.models import SalesDayTotal
from analytics.period import Period
from analytics.profit import ZERO, account_ids, grouped_with_previous
from catalog.models import Listing
from catalog.selectors import LOW_STOCK
from core.models import Marketplace
from integrations.models import MarketplaceAccount
from integrations.selectors import accounts_with_health, with_health
from reviews.models import Question, Review


@dataclass
class Figures:
    orders: int = 0
    revenue: Decimal = ZERO
    returns: int = 0
    profit: Decimal | None = None  # None until the finance reports have anything for the days

    def add(self, other: Figures) -> None:
        self.orders += other.orders
        self.revenue += other.revenue
        self.returns += other.returns
        if other.profit is not None:
            self.profit = (self.profit or ZERO) + other.profit


def change_percent(now: Decimal | int | None, before: Decimal | int | None) -> Decimal | None:
    if now is None or not before:
        return None
    return (Decimal(now - before) * 100 / abs(Decimal(before))).quantize(Decimal("1"))


@dataclass
class MarketplaceSummary:
    marketplace: str
    label: str
    listings: int = 0
    orders_today: int = 0
    unanswered_reviews: int = 0
    unanswered_questions: int = 0
    low_stock: int = 0
    out_of_stock: int = 0
    failing_syncs: int = 0
    today: Figures = field(default_factory=Figures)
    period: Figures = field(default_factory=Figures)
    previous: Figures = field(default_factory=Figures)
    accounts: list[MarketplaceAccount] = field(default_factory=list)

    def change(self, name: str) -> Decimal | None:
        return change_percent(getattr(self.period, name), getattr(self.previous, name))

    @property
    def orders_change(self) -> Decimal | None:
        return self.change("orders")

    @property
    def revenue_change(self) -> Decimal | None:
        return self.change("revenue")

    @property
    def profit_change(self) -> Decimal | None:
        return self.change("profit")

    @property
    def returns_change(self) -> Decimal | None:
        return self.change("returns")


@dataclass
class Overview:
    period: Period
    today: date
    summaries: list[MarketplaceSummary]
    total: MarketplaceSummary
    chart: dict[str, Any]
    money_at_risk: int | None  # None: the figure is not available in this installation


# Counts over whole tables and the period's profit, shared by every page view. Beat warms them every
# OVERVIEW_WARM_MINUTES (dashboard.tasks.warm_overview) and they live three times that, so a page view never
# waits for the computation (20 s for a 30-day profit at a large seller's scale) unless beat is down.
OVERVIEW_COUNTS_KEY = "overview:counts:v1"
OVERVIEW_WARM_MINUTES = 5
OVERVIEW_COUNTS_SECONDS = 3 * OVERVIEW_WARM_MINUTES * 60


def _per_marketplace(queryset: QuerySet[Any], total: Any = None) -> dict[str, int]:
    rows = queryset.values("account__marketplace").annotate(n=total or Count("id")).order_by()
    return {row["account__marketplace"]: int(row["n"] or 0) for row in rows}


# Products (as the products list's stock filter counts them: units available over all their cards,
# warehouses and sizes) per marketplace they have a card on; NULL marketplace = every product.
_STOCK_SQL = """
    WITH totals AS (
        SELECT l.product_id, sum(greatest(s.present - s.reserved, 0)) AS total
        FROM catalog_stocklevel s JOIN catalog_listing l ON l.id = s.listing_id
        WHERE l.product_id IS NOT NULL GROUP BY 1
    ), cards AS (
        SELECT DISTINCT l.product_id, a.marketplace
        FROM catalog_listing l JOIN integrations_marketplaceaccount a ON a.id = l.account_id
        WHERE l.product_id IS NOT NULL
    )
    SELECT c.marketplace, count(DISTINCT c.product_id) FILTER (WHERE t.total > 0 AND t.total <= %(low)s),
           count(DISTINCT c.product_id) FILTER (WHERE coalesce(t.total, 0) = 0)
    FROM cards c LEFT JOIN totals t ON t.product_id = c.product_id
    GROUP BY ROLLUP (c.marketplace)
"""


def _stock_counts() -> dict[str, tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(_STOCK_SQL, {"low": LOW_STOCK})
        return {marketplace or "": (int(low), int(out)) for marketplace, low, out in cursor.fetchall()}


def _slow_counts() -> dict[str, Any]:
    return {
        "listings": _per_marketplace(Listing.objects.filter(archived=False)),
        "reviews": _per_marketplace(Review.objects.filter(is_answered=False)),
        "questions": _per_marketplace(Question.objects.filter(is_answered=False)),
        "stock": _stock_counts(),
        "money_at_risk": money_at_risk(),
    }


def _profits(period: Period, *, refresh: bool = False) -> dict[str, dict[str, Decimal | None]]:
    """Profit after every fee and tax (analytics.profit) per marketplace, of the period and the one
    before, in one statement; None where no finance operation counted."""

    def compute() -> dict[str, dict[str, Decimal | None]]:
        current, previous = grouped_with_previous(period, "marketplace", account_ids())
        return {
            name: {g.key: (g.figures.profit if (g.figures.paid or g.figures.accrued) else None) for g in groups}
            for name, groups in (("period", current), ("previous", previous))
        }

    key = f"overview:profit:v1:{period.start}:{period.end}"
    if refresh:
        value = compute()
        cache.set(key, value, OVERVIEW_COUNTS_SECONDS)
        return value
    return cache.get_or_set(key, compute, OVERVIEW_COUNTS_SECONDS)  # type: ignore[return-value]


def warm(now: datetime | None = None) -> int:
    """Recompute the cached counts and the presets' profits (7/30/90 days up to today); returns how many."""
    from analytics.period import PERIODS, Period

    cache.set(OVERVIEW_COUNTS_KEY, _slow_counts(), OVERVIEW_COUNTS_SECONDS)
    end = timezone.localtime(now or timezone.now()).date()
    for days in PERIODS:
        _profits(Period(end - timedelta(days=days - 1), end, days), refresh=True)
    return 1 + len(PERIODS)


def money_at_risk() -> int | None:
    """pricing.risk.money_at_risk_count() where that module is installed; None otherwise."""
    try:
        risk = importlib.import_module("pricing.risk")
    except ImportError:
        return None
    count = getattr(risk, "money_at_risk_count", None)
    return int(count()) if callable(count) else None


def _chart(period: Period, daily: dict[date, dict[str, Figures]]) -> dict[str, Any]:
    """Revenue and orders per day of the period against the same day of the previous one."""
    shift = timedelta(days=period.days)
    labels, revenue, previous_revenue, orders, previous_orders = [], [], [], [], []
    for offset in range(period.days):
        day = period.start + timedelta(days=offset)
        now_total, before_total = Figures(), Figures()
        for cell in daily.get(day, {}).values():
            now_total.add(cell)
        for cell in daily.get(day - shift, {}).values():
            before_total.add(cell)
        labels.append(day.strftime("%d.%m"))
        revenue.append(str(now_total.revenue))
        previous_revenue.append(str(before_total.revenue))
        orders.append(now_total.orders)
        previous_orders.append(before_total.orders)
    return {"labels": labels, "revenue": revenue, "previous_revenue": previous_revenue, "orders": orders,
            "previous_orders": previous_orders}


def overview(period: Period, now: datetime | None = None) -> Overview | None:
    """The overview's figures, or None when no account is connected yet."""
    accounts = with_health(list(accounts_with_health()))
    if not accounts:
        return None
    today = timezone.localtime(now or timezone.now()).date()
    summaries = {m.value: MarketplaceSummary(m.value, str(m.label)) for m in Marketplace}
    for account in accounts:
        summaries[account.marketplace].accounts.append(account)
        if account.health == "error":  # type: ignore[attr-defined]
            summaries[account.marketplace].failing_syncs += 1

    counts: dict[str, Any] = cache.get_or_set(OVERVIEW_COUNTS_KEY, _slow_counts, OVERVIEW_COUNTS_SECONDS)  # type: ignore[assignment]
    first = min(period.previous().start, today)
    last = max(period.end, today)
    rows = (
        SalesDayTotal.objects.filter(day__gte=first, day__lte=last)
        .values("day", "account__marketplace")
        .annotate(sales=Sum("orders"), placed=Sum(F("orders") + F("cancelled")), income=Sum("revenue"),
                  came_back=Sum("returns"))
        .order_by()
    )
    daily: dict[date, dict[str, Figures]] = {}
    previous = period.previous()
    for row in rows:
        marketplace, day = row["account__marketplace"], row["day"]
        cell = Figures(int(row["sales"]), Decimal(row["income"]), int(row["came_back"]))
        daily.setdefault(day, {})[marketplace] = cell
        summary = summaries[marketplace]
        if day == today:
            summary.orders_today += int(row["placed"])
            summary.today.add(cell)
        if period.start <= day <= period.end:
            summary.period.add(cell)
        if previous.start <= day <= previous.end:
            summary.previous.add(cell)

    profits = _profits(period)
    for key, summary in summaries.items():
        summary.listings = counts["listings"].get(key, 0)
        summary.unanswered_reviews = counts["reviews"].get(key, 0)
        summary.unanswered_questions = counts["questions"].get(key, 0)
        summary.low_stock, summary.out_of_stock = counts["stock"].get(key, (0, 0))
        summary.period.profit = profits["period"].get(key)
        summary.previous.profit = profits["previous"].get(key)

    shown = [s for s in summaries.values() if s.accounts]
    total = MarketplaceSummary("", "")
    for summary in shown:
        for name in ("listings", "orders_today", "unanswered_reviews", "unanswered_questions", "failing_syncs"):
            setattr(total, name, getattr(total, name) + getattr(summary, name))
        total.today.add(summary.today)
        total.period.add(summary.period)
        total.previous.add(summary.previous)
    total.low_stock, total.out_of_stock = counts["stock"].get("", (0, 0))
    return Overview(period, today, shown, total, _chart(period, daily), counts.get("money_at_risk"))


def overview_summary(now: datetime | None = None) -> list[MarketplaceSummary]:
    """Counts per marketplace (only marketplaces with at least one account)."""
    today = timezone.localtime(now or timezone.now()).date()
    result = overview(Period(today, today), now)
    return result.summaries if result else []

