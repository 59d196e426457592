"""Reads for the overview and settings pages. Each function is a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from analytics.models import SalesDayTotal
from catalog.models import Listing
from core.models import Marketplace
from core.roles import GROUP_NAMES, Role
from integrations.models import MarketplaceAccount, SyncRun, SyncState
from reviews.models import Review


def local_day_start(now: datetime | None = None) -> datetime:
    """Midnight of today in the display time zone (Europe/Moscow), as an aware datetime."""
    local = timezone.localtime(now or timezone.now())
    return timezone.make_aware(datetime.combine(local.date(), time.min), local.tzinfo)


def accounts_with_health() -> QuerySet[MarketplaceAccount]:
    """With `unavailable_streams`: the streams its subscription or token scope does not cover."""
    return (
        MarketplaceAccount.objects.annotate(
            last_sync_at=Max("sync_runs__finished_at", filter=Q(sync_runs__status=SyncRun.Status.SUCCEEDED)),
        )
        .prefetch_related(
            Prefetch(
                "sync_states",
                queryset=SyncState.objects.filter(unavailable_since__isnull=False).order_by("stream"),
                to_attr="unavailable_streams",
            )
        )
        .order_by("marketplace", "name")
    )


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


def token_expiring_soon(account: MarketplaceAccount, now: datetime | None = None) -> bool:
    """WB tokens live 180 days; warn two weeks ahead."""
    if account.token_expires_at is None:
        return False
    return account.token_expires_at - (now or timezone.now()) < timedelta(days=14)


def account_health(account: MarketplaceAccount) -> str:
    """disabled | error (the latest outcome was an error) | ok | pending (never synced)."""
    if not account.enabled:
        return "disabled"
    if account.last_error_at and (account.last_success_at is None or account.last_error_at > account.last_success_at):
        return "error"
    if account.last_success_at or getattr(account, "last_sync_at", None):
        return "ok"
    return "pending"


def with_health(accounts: list[MarketplaceAccount]) -> list[MarketplaceAccount]:
    for account in accounts:
        account.health = account_health(account)  # type: ignore[attr-defined]
        account.expiring_soon = token_expiring_soon(account)  # type: ignore[attr-defined]
    return accounts


@dataclass
class UserRow:
    user: Any
    role: Role | None


def users_with_roles() -> list[UserRow]:
    rows = []
    for user in get_user_model().objects.prefetch_related("groups").order_by("username"):
        names = {g.name for g in user.groups.all()}
        role = Role.ADMIN if user.is_superuser else next((r for r in Role if GROUP_NAMES[r] in names), None)
        rows.append(UserRow(user=user, role=role))
    return rows
