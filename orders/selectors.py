"""Reads for the orders pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from core.pagination import Sort, Sorts
from orders.models import Order, OrderLine

# Each sort has its index (orders.Order.Meta.indexes), alone and after the status / scheme / account filters.
ORDER_SORTS = Sorts(
    Order,
    [
        Sort("newest", _("Newest first"), ("-ordered_at", "-id")),
        Sort("oldest", _("Oldest first"), ("ordered_at", "id")),
        Sort("amount", _("Largest amount first"), ("-total_amount", "-id")),
    ],
)


def order_list() -> QuerySet[Order]:
    """Orders with their account; filters (orders.filters) and the page narrow it. No per-order aggregate
    here: grouping the lines of every order before taking 50 is what made the page take seconds."""
    return Order.objects.select_related("account")


@dataclass(frozen=True)
class LineTotals:
    lines: int = 0
    units: int = 0
    amount: Decimal = Decimal("0")


def line_totals(orders: Sequence[Order]) -> dict[int, LineTotals]:
    """Line count, units and Σ price × quantity of the given orders only (the page's), in one query."""
    amount = ExpressionWrapper(F("price") * F("quantity"), output_field=DecimalField(max_digits=20, decimal_places=2))
    rows = (
        OrderLine.objects.filter(order_id__in=[order.pk for order in orders])
        .values("order_id")
        .annotate(lines=Count("id"), units=Sum("quantity"), amount=Sum(amount))
        .order_by()
    )
    return {row["order_id"]: LineTotals(row["lines"], row["units"], row["amount"]) for row in rows}


def with_line_totals(orders: Sequence[Order]) -> list[Order]:
    """The orders with ``line_totals`` set on each (zeros for an order without lines yet)."""
    totals = line_totals(orders) if orders else {}
    for order in orders:
        order.line_totals = totals.get(order.pk, LineTotals())  # type: ignore[attr-defined]
    return list(orders)
