"""Reads for the overview page. A fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone

from analytics.models import SalesDayTotal
from catalog.models import Listing
from core.models import Marketplace
from integrations.models import MarketplaceAccount
from integrations.selectors import accounts_with_health, with_health
from reviews.models import Review


@dataclass
class MarketplaceSummary:
    marketplace: str
    label: str
    listings: int = 0
    orders_today: int = 0
    unanswered_reviews: int = 0
    accounts: list[MarketplaceAccount] = field(default_factory=list)


# Listings and unanswered reviews are counted over whole tables: cached for a minute, shared by
# every page view (the orders of today come from the daily roll-up, always current).
OVERVIEW_COUNTS_KEY = "overview:counts:v1"
OVERVIEW_COUNTS_SECONDS = 60


def _per_marketplace(queryset: QuerySet[Any], total: Any = None) -> dict[str, int]:
    rows = queryset.values("account__marketplace").annotate(n=total or Count("id")).order_by()
    return {row["account__marketplace"]: int(row["n"] or 0) for row in rows}


def _slow_counts() -> dict[str, dict[str, int]]:
    return {
        "listings": _per_marketplace(Listing.objects.filter(archived=False)),
        "reviews": _per_marketplace(Review.objects.filter(is_answered=False)),
    }


def overview_summary(now: datetime | None = None) -> list[MarketplaceSummary]:
    """Counts per marketplace (only marketplaces with at least one account)."""
    accounts = with_health(list(accounts_with_health()))
    summaries = {m.value: MarketplaceSummary(m.value, str(m.label)) for m in Marketplace}
    for account in accounts:
        summaries[account.marketplace].accounts.append(account)
    if not accounts:
        return []

    counts: dict[str, dict[str, int]] = cache.get_or_set(  # type: ignore[assignment] # a default is given
        OVERVIEW_COUNTS_KEY, _slow_counts, OVERVIEW_COUNTS_SECONDS
    )
    today = timezone.localtime(now or timezone.now()).date()
    orders = _per_marketplace(SalesDayTotal.objects.filter(day=today), Sum(F("orders") + F("cancelled")))
    for key, summary in summaries.items():
        summary.listings = counts["listings"].get(key, 0)
        summary.orders_today = orders.get(key, 0)
        summary.unanswered_reviews = counts["reviews"].get(key, 0)
    return [s for s in summaries.values() if s.accounts]
