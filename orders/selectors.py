"""Reads for the orders pages: the inbox, an order's page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Model, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from analytics.models import FeeLine, FinanceOperation
from catalog.models import Warehouse
from core.pagination import Sort, Sorts
from orders.models import Order, OrderLine, OrderStatus, OrderStatusChange, Return
from reviews.models import Review


@dataclass(frozen=True)
class KnownValueSort(Sort):
    """A sort led by a nullable column, over the rows where it is known (``only_known`` filters the rest
    out, and the page says so): a NULL has no place in a keyset row comparison. Its index is partial,
    ``WHERE <column> IS NOT NULL``."""

    @property
    def lead(self) -> str:
        return self.columns()[0][0]

    def check(self, model: type[Model]) -> None:
        Sort(self.key, self.label, self.fields[1:]).check(model)  # the rest: NOT NULL, ending with the id
        if not model._meta.get_field(self.lead).concrete:
            raise ValueError(f"sort {self.key!r}: {self.lead!r} is not a column of {model.__name__}")


def only_known(queryset: QuerySet[Any], sort: Sort) -> QuerySet[Any]:
    if isinstance(sort, KnownValueSort):
        return queryset.filter(**{f"{sort.lead}__isnull": False})
    return queryset


# Each sort has its index (orders.Order.Meta.indexes), alone and after the status / scheme / account filters.
ORDER_SORTS = Sorts(
    Order,
    [
        Sort("newest", _("Newest first"), ("-ordered_at", "-id")),
        Sort("oldest", _("Oldest first"), ("ordered_at", "id")),
        KnownValueSort("amount", _("Largest paid first"), ("-buyer_total", "-id")),
        KnownValueSort("due", _("Shipment deadline first"), ("shipment_due_at", "id")),
    ],
)
SORT_NOTES = {
    "amount": _("Sorted by what the buyer paid: orders whose marketplace does not report it (Ozon) are not listed."),
    "due": _("Sorted by the shipment deadline: orders without one (FBO) are not listed."),
}


def order_list() -> QuerySet[Order]:
    """Orders with their account; filters (orders.filters) and the page narrow it. No per-order aggregate
    here: grouping the lines of every order before taking 50 is what made the page take seconds."""
    return Order.objects.select_related("account", "warehouse")


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


CITIES_SECONDS = 600


def known_cities(limit: int = 300) -> list[str]:
    """The buyer cities seen lately, for the filter's suggestions: a scan of recent orders, so cached."""

    def read() -> list[str]:
        recent = Order.objects.exclude(buyer_city="").order_by("-ordered_at", "-id")
        return sorted(set(recent.values_list("buyer_city", flat=True)[:20000]))[:limit]

    return list(cache.get_or_set("orders:known-cities", read, CITIES_SECONDS) or [])


def warehouse_options() -> list[tuple[int, str]]:
    """(id, "name · account") of every warehouse, for the filter: they change rarely, so cached."""

    def read() -> list[tuple[int, str]]:
        warehouses = Warehouse.objects.select_related("account").order_by("account__name", "name", "id")
        return [(w.pk, f"{w.name} · {w.account.name}") for w in warehouses[:500]]

    return list(cache.get_or_set("orders:warehouse-options", read, CITIES_SECONDS) or [])


# ---------------------------------------------------------------------------------------------
# An order's page


def order_get(pk: int) -> Order:
    return Order.objects.select_related("account", "warehouse").get(pk=pk)


def order_lines(order: Order) -> list[OrderLine]:
    return list(order.lines.select_related("listing__product").order_by("line_key", "id"))


def status_label(status: str) -> str:
    """The canonical status's label (translated by the template); an unknown code as it is."""
    return str(OrderStatus(status).label) if status in OrderStatus.values else status


def status_history(order: Order) -> list[OrderStatusChange]:
    """The order's status changes, oldest first, each with ``from_label`` / ``to_label``."""
    changes = list(order.status_changes.order_by("changed_at", "id"))
    for change in changes:
        change.from_label = status_label(change.from_status) if change.from_status else ""  # type: ignore[attr-defined]
        change.to_label = status_label(change.to_status)  # type: ignore[attr-defined]
    return changes


@dataclass
class Payout:
    """What the marketplace's finance reports say about an order: every operation, the fees by kind,
    and the net paid to the seller (Σ of the operations' amounts)."""

    operations: list[FinanceOperation]
    fees: list[dict[str, Any]] = field(default_factory=list)
    sale: Decimal = Decimal("0")
    fees_total: Decimal = Decimal("0")
    net: Decimal = Decimal("0")
    currency: str = "RUB"


def order_payout(order: Order) -> Payout | None:
    """None until a finance operation is linked to the order (the reports come days after delivery)."""
    operations = list(FinanceOperation.objects.filter(order=order).order_by("operation_at", "id"))
    if not operations:
        return None
    fees: list[dict[str, Any]] = [
        dict(row) for row in FeeLine.objects.filter(operation__order=order).values("kind", "name")
        .annotate(amount=Sum("amount")).order_by("kind", "name")
    ]
    return Payout(
        operations=operations,
        fees=fees,
        sale=sum((op.sale_amount for op in operations), Decimal("0")),
        fees_total=sum((fee["amount"] for fee in fees), Decimal("0")),
        net=sum((op.amount for op in operations), Decimal("0")),
        currency=operations[0].currency,
    )


def order_returns(order: Order) -> list[Return]:
    return list(order.returns.select_related("listing").order_by("returned_at", "id"))


def order_reviews(lines: Sequence[OrderLine], order: Order, limit: int = 10) -> list[Review]:
    """Reviews of the order's cards published since it was placed: marketplaces do not say which order a
    review is about, so these are the ones that may be (the page says so)."""
    listing_ids = {line.listing_id for line in lines if line.listing_id}
    if not listing_ids:
        return []
    reviews = Review.objects.filter(listing_id__in=listing_ids, published_at__gte=order.ordered_at)
    return list(reviews.select_related("listing").order_by("published_at", "id")[:limit])
