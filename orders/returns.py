"""Reads for the returns pages: the list and the returns by reason per product."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Min, QuerySet, Sum
from django.db.models.functions import Collate
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.pagination import Sort, Sorts, after_condition
from orders.models import Return, ReturnArticleTotal
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


# The sums ReturnArticleTotal keeps (the same as orders/migrations/0010's first fill).
_ARTICLE_SUMS = """
    SELECT offer_id, count(*) AS returns, sum(quantity) AS units FROM orders_return WHERE offer_id <> ''
    GROUP BY offer_id
"""


@dataclass(frozen=True)
class RebuiltTotals:
    articles: int  # articles with returns
    corrected: int  # of them, or gone, whose kept totals differed from the returns


def rebuild_article_totals() -> RebuiltTotals:
    """Recompute ReturnArticleTotal from the returns (after a restore made without triggers, or to check
    them), with the returns' writers held off meanwhile (SHARE lock: the pages keep reading)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE orders_return IN SHARE MODE")
        cursor.execute(
            f"""
            SELECT count(*) FROM ({_ARTICLE_SUMS}) s
            FULL JOIN orders_returnarticletotal t ON t.offer_id = s.offer_id
            WHERE (s.returns, s.units) IS DISTINCT FROM (t.returns, t.units)
            """  # noqa: S608 - constant SQL
        )
        corrected = cursor.fetchone()[0]
        cursor.execute("DELETE FROM orders_returnarticletotal")
        cursor.execute(f"INSERT INTO orders_returnarticletotal (offer_id, returns, units) {_ARTICLE_SUMS}")
        return RebuiltTotals(articles=cursor.rowcount, corrected=corrected)


# The page's order: most units, then most returns, then the article (in "C" collation, as
# ReturnArticleTotal.offer_id is, so PostgreSQL and Python break ties alike).
RANK = ("-units", "-returns", "offer_id")
ARTICLE_RANK = Sort("rank", "most returned units first", RANK)  # read internally, never offered on a page
# Articles read per round, in the order of their totals, before one GROUP BY of all the filtered returns (at
# a large seller's scale ~1.5 ms for 100 articles, ~5 ms for 600, 15-50 ms for that GROUP BY). A further round
# only while the filters keep most of the units read: otherwise it would rarely settle.
ROUNDS = (100, 600)
KEPT_FOR_ANOTHER_ROUND = 0.75
_FIGURES = ("offer_id", "returns", "units", "amount")


def _rank(row: Mapping[str, Any]) -> tuple[int, int, str]:
    return -row["units"], -row["returns"], row["offer_id"]


def _per_article(returns: QuerySet[Return]) -> QuerySet[Any, Any]:
    return returns.values("offer_id").annotate(returns=Count("id"), units=Sum("quantity"), amount=Sum("amount"))


def _figures(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [{**row, "units": row["units"] or 0} for row in rows]


def _bounded_top(base: QuerySet[Return], top: int, rounds: tuple[int, ...]) -> list[dict[str, Any]] | None:
    """The ``top`` articles of ``base`` read through ReturnArticleTotal: an article's figures under any filter
    are at most its totals, so once an article of the top ranks ahead of the next unread article's totals,
    no unread article can enter it. Each round aggregates only the returns of its articles (the offer index).
    None when the filters cut too deep for the rounds to settle (few of the most returned articles match)."""
    found: list[dict[str, Any]] = []
    after: list[Any] | None = None
    for size in rounds:
        articles = ReturnArticleTotal.objects.order_by(*RANK)
        if after is not None:
            articles = articles.filter(after_condition(ARTICLE_RANK, ReturnArticleTotal, after))
        bounds = list(articles.values("offer_id", "returns", "units")[:size])
        rows = _figures(_per_article(base.filter(offer_id__in=[b["offer_id"] for b in bounds]))) if bounds else []
        # By article: one a concurrent sync moved down past the rounds' cursor is read again, not counted twice.
        found = sorted({row["offer_id"]: row for row in [*found, *rows]}.values(), key=_rank)[:top]
        if len(bounds) < size:  # every article read
            return found
        last = bounds[-1]
        if len(found) == top and _rank(last) >= _rank(found[-1]):
            return found
        if sum(row["units"] for row in rows) < KEPT_FOR_ANOTHER_ROUND * sum(b["units"] for b in bounds):
            return None
        after = [last["units"], last["returns"], last["offer_id"]]
    return None


def returns_by_reason(
    queryset: QuerySet[Return], top: int = 20, *, searched: bool = False, rounds: tuple[int, ...] = ROUNDS,
) -> list[ProductReturns]:
    """The ``top`` articles by returned units among ``queryset`` (the filtered returns), each with its
    reasons, aggregated in PostgreSQL whatever the row count: the most returned articles first, a few hundred
    at a time (_bounded_top), else - a search (``searched``: a handful of rows) or filters that few of them
    match - one GROUP BY of the filtered returns; then the reasons of those ``top`` and their products."""
    base = queryset.exclude(offer_id="").order_by()
    totals = None if searched else _bounded_top(base, top, rounds)
    if totals is None:
        # The article in "C" as an aggregate of its group: ordering by a collated copy of the group key
        # would join GROUP BY as a second key and cost the plan its hash aggregate.
        ranked = _per_article(base).annotate(article=Min(Collate("offer_id", "C")))
        totals = _figures(ranked.order_by("-units", "-returns", "article").values(*_FIGURES)[:top])
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
