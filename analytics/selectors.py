"""Sales by day and marketplace, aggregated in PostgreSQL (days in Europe/Moscow)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.models import Marketplace
from core.selectors import local_day_start
from orders.models import Order, OrderStatus

# Cancelled orders are not sales.
NOT_SALES = (OrderStatus.CANCELLED,)


@dataclass
class SalesCell:
    orders: int = 0
    revenue: Decimal = Decimal("0")


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


def sales_rows(*, start: datetime, end: datetime, currency: str) -> list[dict[str, Any]]:
    """One row per (local day, marketplace): order count and revenue. One query."""
    tz = ZoneInfo(settings.TIME_ZONE)
    queryset = (
        Order.objects.filter(ordered_at__gte=start, ordered_at__lt=end, currency=currency)
        .exclude(status__in=NOT_SALES)
        .annotate(day=TruncDate("ordered_at", tzinfo=tz))
        .values("day", "account__marketplace")
        .annotate(orders=Count("id"), revenue=Sum("total_amount"))
        .order_by("-day", "account__marketplace")
    )
    return [dict(row) for row in queryset]


def sales_by_day(*, days: int = 14, currency: str = "RUB", now: datetime | None = None) -> SalesReport:
    end = local_day_start(now) + timedelta(days=1)
    start = end - timedelta(days=days)
    rows = sales_rows(start=start, end=end, currency=currency)
    seen = {row["account__marketplace"] for row in rows}
    marketplaces = [(m.value, str(m.label)) for m in Marketplace if m.value in seen]
    by_day: dict[date, SalesDay] = {}
    totals = {key: SalesCell() for key, _ in marketplaces}
    grand = SalesCell()
    for row in rows:
        day: date = row["day"]
        marketplace: str = row["account__marketplace"]
        sales_day = by_day.setdefault(day, SalesDay(day=day))
        cell = SalesCell(orders=int(row["orders"]), revenue=Decimal(row["revenue"] or 0))
        sales_day.by_marketplace[marketplace] = cell
        for target in (sales_day.total, totals[marketplace], grand):
            target.orders += cell.orders
            target.revenue += cell.revenue
    ordered_days = [by_day[d] for d in sorted(by_day, reverse=True)]
    for sales_day in ordered_days:
        sales_day.cells = [sales_day.by_marketplace.get(key, SalesCell()) for key, _ in marketplaces]
    return SalesReport(
        start=timezone.localtime(start).date(),
        end=timezone.localtime(end - timedelta(seconds=1)).date(),
        currency=currency,
        marketplaces=marketplaces,
        days=ordered_days,
        totals=[totals[key] for key, _ in marketplaces],
        grand_total=grand,
    )
