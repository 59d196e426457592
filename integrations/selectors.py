"""Reads for the account settings and the overview: marketplace accounts with their sync health."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from integrations.models import MarketplaceAccount, SyncRun, SyncState


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
