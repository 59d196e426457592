"""Which (account, stream) pairs are due, by each account's interval per stream."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from integrations.models import MarketplaceAccount, SyncRun, SyncState
from integrations.sync.streams import STREAMS, interval_minutes

# A beat tick lands a few seconds after the interval; without slack a 5-minute stream on a
# 1-minute tick would drift to every 6 minutes.
SLACK = timedelta(seconds=45)
# A stream the account's subscription or token scope does not cover is tried again once a day:
# the seller may have subscribed or widened the token meanwhile.
UNAVAILABLE_RETRY_MINUTES = 24 * 60


@dataclass(frozen=True)
class Due:
    account_id: int
    marketplace: str
    stream: str
    interval_minutes: int


def due_streams(streams: Iterable[str], *, now: datetime | None = None) -> list[Due]:
    now = now or timezone.now()
    wanted = [s for s in streams if s in STREAMS]
    accounts = list(MarketplaceAccount.objects.filter(enabled=True).values_list("pk", "marketplace", "sync_intervals"))
    last_started: dict[tuple[int, str], datetime] = {}
    running: set[tuple[int, str]] = set()
    for account_id, stream, status, started in (
        SyncRun.objects.filter(stream__in=wanted)
        .values_list("account_id", "stream", "status")
        .annotate(last=Max("started_at"))
    ):
        key = (account_id, stream)
        last_started[key] = max(started, last_started.get(key, started))
        if status == SyncRun.Status.RUNNING:
            running.add(key)
    unavailable = set(
        SyncState.objects.filter(stream__in=wanted, unavailable_since__isnull=False).values_list("account_id", "stream")
    )
    due = []
    for account_id, marketplace, intervals in accounts:
        for stream in wanted:
            minutes = interval_minutes(stream, intervals)
            if (account_id, stream) in unavailable:
                minutes = max(minutes, UNAVAILABLE_RETRY_MINUTES)
            last = last_started.get((account_id, stream))
            if (account_id, stream) in running:
                continue
            if last is None or last <= now - timedelta(minutes=minutes) + SLACK:
                due.append(Due(account_id, marketplace, stream, minutes))
    return due
