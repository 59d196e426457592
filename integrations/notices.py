"""Notifications about accounts, syncs and pushes (notifications.services.notify, one subject per thing):

- sync_failed: integrations/sync/engine.py `run_stream`, when a run fails (not on a time limit);
- push_outcomes: integrations/outbox.py `push_account`, after a push with REJECTED or FAILED rows;
- keys_expiring: the daily beat entry `notify-expiring-keys` (config/schedule.py, integrations/tasks.py):
  marketplace keys whose token_expires_at is within NOTIFY_KEY_EXPIRY_DAYS, and API tokens about to
  expire (to their owner).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.tokens import tokens_expiring
from integrations.models import MarketplaceAccount
from notifications.kinds import Kind, Severity
from notifications.services import notify

SETTINGS_LINK = "/settings/"


def sync_failed(account: MarketplaceAccount, stream: str, message: str) -> None:
    notify(
        Kind.SYNC_FAILED,
        f"account:{account.pk}:{stream}",
        f"{account.name} ({account.get_marketplace_display()}), {stream}: {message}"[:2000],
        link=SETTINGS_LINK,
        severity=Severity.CRITICAL,
        title=f"{account.name}: {stream} sync failed",
    )


def push_outcomes(account: MarketplaceAccount, statuses: Mapping[str, int]) -> None:
    """After a push: one message per account and window if any change was rejected or gave up."""
    rejected, failed = statuses.get("rejected", 0), statuses.get("failed", 0)
    if not rejected and not failed:
        return
    notify(
        Kind.PUSH_REJECTED,
        f"account:{account.pk}:push",
        f"{account.name} ({account.get_marketplace_display()}): {rejected} rejected, {failed} failed. "
        "The marketplace's messages are on each change.",
        link="/prices/",
        severity=Severity.WARNING,
        title=f"{account.name}: changes not applied",
        window=timedelta(hours=1),
    )


def keys_expiring(*, now: datetime | None = None) -> int:
    """Daily: marketplace keys and API tokens expiring within NOTIFY_KEY_EXPIRY_DAYS. Returns messages sent."""
    current = now or timezone.now()
    within = timedelta(days=settings.NOTIFY_KEY_EXPIRY_DAYS)
    sent = 0
    accounts = MarketplaceAccount.objects.filter(
        enabled=True, token_expires_at__gt=current, token_expires_at__lte=current + within
    ).order_by("pk")
    for account in accounts:
        assert account.token_expires_at is not None
        sent += bool(
            notify(
                Kind.KEY_EXPIRING,
                f"account:{account.pk}:key:{account.token_expires_at:%Y-%m-%d}",
                f"The API key of {account.name} ({account.get_marketplace_display()}) expires on "
                f"{timezone.localtime(account.token_expires_at):%d.%m.%Y}. Replace it in the settings.",
                link=f"/settings/accounts/{account.pk}/",
                severity=Severity.WARNING,
                title=f"{account.name}: key expires {timezone.localtime(account.token_expires_at):%d.%m.%Y}",
                window=timedelta(days=3),
            )
        )
    for token in tokens_expiring(within=within, now=current):
        assert token.expires_at is not None
        sent += bool(
            notify(
                Kind.KEY_EXPIRING,
                f"apitoken:{token.pk}",
                f"Your API token {token.prefix} ({token.name or 'unnamed'}) expires on "
                f"{timezone.localtime(token.expires_at):%d.%m.%Y}. Ask an administrator for a new one.",
                severity=Severity.WARNING,
                title=f"API token {token.prefix} expires soon",
                users=[token.user],
                window=timedelta(days=3),
            )
        )
    return sent
