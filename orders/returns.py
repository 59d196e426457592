"""Reads for the returns pages: the list and the returns by reason per product."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.pagination import Sort, Sorts
from orders.models import Return
from orders.selectors import KnownValueSort

# Each sort has its index (orders.Return.Meta.indexes).
RETURN_SORTS = Sorts(
    Return,
    [
        Sort("newest", _("Newest first"), ("-returned_at", "-id")),
        Sort("oldest", _("Oldest first"), ("returned_at", "id")),
        KnownValueSort("amount", _("Largest amount first"), ("-amount", "-id")),
    ],
)
RETURN_SORT_NOTES = {"amount": _("Sorted by amount: returns without one are not listed.")}


def return_list() -> QuerySet[Return]:
    return Return.objects.select_related("account", "order", "listing")


STATUSES_SECONDS = 600


def known_return_statuses(limit: int = 50) -> list[str]:
    """The marketplaces' return statuses seen lately, for the filter's suggestions (cached)."""

    def read() -> list[str]:
        recent = Return.objects.exclude(raw_status="").order_by("-returned_at", "-id")
        return sorted(set(recent.values_list("raw_status", flat=True)[:20000]))[:limit]

    return list(cache.get_or_set("orders:return-statuses", read, STATUSES_SECONDS) or [])


@dataclass
class ProductReturns:
    """One seller article's returns: totals and their split by reason, largest first."""

    offer_id: str
    returns: int
    units: int
    amount: Decimal
    product: Product | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)


def returns_by_reason(queryset: QuerySet[Return], top: int = 20) -> list[ProductReturns]:
    """The ``top`` articles by returned units among ``queryset`` (the filtered returns), each with its
    reasons: two GROUP BYs in PostgreSQL and the products of those articles, whatever the row count."""
    base = queryset.exclude(offer_id="").order_by()
    totals = list(
        base.values("offer_id").annotate(returns=Count("id"), units=Sum("quantity"), amount=Sum("amount"))
        .order_by("-units", "-returns", "offer_id")[:top]
    )
    if not totals:
        return []
    articles = [row["offer_id"] for row in totals]
    products = {p.article: p for p in Product.objects.filter(article__in=articles)}
    result = {
        row["offer_id"]: ProductReturns(
            row["offer_id"], row["returns"], row["units"] or 0, row["amount"] or Decimal("0"),
            products.get(row["offer_id"]),
        )
        for row in totals
    }
    breakdown = (
        base.filter(offer_id__in=articles).values("offer_id", "reason")
        .annotate(returns=Count("id"), units=Sum("quantity"), amount=Sum("amount"))
        .order_by("offer_id", "-units", "reason")
    )
    for row in breakdown:
        item = result[row["offer_id"]]
        item.reasons.append({**row, "share": round(100 * (row["units"] or 0) / item.units) if item.units else 0})
    return list(result.values())
