"""Sales by day and marketplace, read from the daily roll-up (analytics.rollup; days in Europe/Moscow)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from analytics.models import SalesDayTotal
from core.models import Marketplace


@dataclass
class SalesCell:
    orders: int = 0
    units: int = 0
    revenue: Decimal = Decimal("0")
    returns: int = 0
    return_amount: Decimal = Decimal("0")

    def add(self, other: SalesCell) -> None:
        self.orders += other.orders
        self.units += other.units
        self.revenue += other.revenue
        self.returns += other.returns
        self.return_amount += other.return_amount

    def __bool__(self) -> bool:
        return bool(self.orders or self.units or self.revenue or self.returns or self.return_amount)


@dataclass
class SalesDay:
    day: date
    by_marketplace: dict[str, SalesCell] = field(default_factory=dict)
    cells: list[SalesCell] = field(default_factory=list)  # in the report's marketplace order
    total: SalesCell = field(default_factory=SalesCell)


@dataclass
class SalesReport:
    start: date
    end: date
    currency: str
    marketplaces: list[tuple[str, str]]
    days: list[SalesDay]
    totals: list[SalesCell]
    grand_total: SalesCell


def sales_rows(*, start: date, end: date, currency: str) -> list[dict[str, Any]]:
    """One row per (day, marketplace) from start to end inclusive. One query over the roll-up's
    per-account days (a few hundred rows for 90 days), never over the orders."""
    queryset = (
        SalesDayTotal.objects.filter(day__gte=start, day__lte=end, currency=currency)
        .values("day", "account__marketplace")
        .annotate(
            orders=Sum("orders"), units=Sum("units"), revenue=Sum("revenue"), returns=Sum("returns"),
            return_amount=Sum("return_amount"),
        )
        .order_by("-day", "account__marketplace")
    )
    return [dict(row) for row in queryset]


def sales_by_day(*, days: int = 14, currency: str = "RUB", now: datetime | None = None) -> SalesReport:
    end = timezone.localtime(now or timezone.now()).date()
    start = end - timedelta(days=days - 1)
    rows = sales_rows(start=start, end=end, currency=currency)
    by_day: dict[date, SalesDay] = {}
    by_marketplace: dict[str, SalesCell] = {}
    grand = SalesCell()
    for row in rows:
        cell = SalesCell(
            orders=int(row["orders"]), units=int(row["units"]), revenue=Decimal(row["revenue"]),
            returns=int(row["returns"]), return_amount=Decimal(row["return_amount"]),
        )
        if not cell:
            continue
        day: date = row["day"]
        marketplace: str = row["account__marketplace"]
        sales_day = by_day.setdefault(day, SalesDay(day=day))
        sales_day.by_marketplace[marketplace] = cell
        for target in (sales_day.total, by_marketplace.setdefault(marketplace, SalesCell()), grand):
            target.add(cell)
    marketplaces = [(m.value, str(m.label)) for m in Marketplace if m.value in by_marketplace]
    ordered_days = [by_day[d] for d in sorted(by_day, reverse=True)]
    for sales_day in ordered_days:
        sales_day.cells = [sales_day.by_marketplace.get(key, SalesCell()) for key, _ in marketplaces]
    return SalesReport(
        start=start,
        end=end,
        currency=currency,
        marketplaces=marketplaces,
        days=ordered_days,
        totals=[by_marketplace[key] for key, _ in marketplaces],
        grand_total=grand,
    )
