"""The lease on (account, stream): a SyncRun row with status=running, unique by a partial index.

Inserting the row is taking the lock — it survives Redis loss and is visible in the admin. A run
whose heartbeat is older than SYNC_LEASE_STALE_SECONDS belonged to a worker that died: it is
marked abandoned and the lease is free again. Every write of a run is fenced on `status=running`,
so a worker that lost its lease (stalled, then reclaimed) cannot save a cursor any more.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from integrations.models import MarketplaceAccount, SyncRun

logger = logging.getLogger(__name__)

RUNNING = SyncRun.Status.RUNNING


class LeaseBusy(Exception):
    """Another run of the same (account, stream) holds the lease."""

    def __init__(self, holder: SyncRun | None, stale_in: float) -> None:
        super().__init__(f"sync of {holder.account_id}:{holder.stream} is already running" if holder else "busy")
        self.holder = holder
        self.holder_task_id = str((holder.progress or {}).get("task_id", "")) if holder else ""
        self.stale_in = stale_in


class LeaseLost(Exception):
    """This run's lease was reclaimed by another worker; stop without writing anything."""


def stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "SYNC_LEASE_STALE_SECONDS", 600)))


def reclaim_stale(*, account_id: int | None = None, stream: str | None = None, now: datetime | None = None) -> int:
    """Mark running runs whose heartbeat stopped as abandoned. Returns how many."""
    now = now or timezone.now()
    runs = SyncRun.objects.filter(status=RUNNING, heartbeat_at__lt=now - stale_after())
    if account_id is not None:
        runs = runs.filter(account_id=account_id)
    if stream is not None:
        runs = runs.filter(stream=stream)
    count = runs.update(
        status=SyncRun.Status.ABANDONED,
        finished_at=now,
        error_message="The worker stopped sending heartbeats; a later run resumes from the saved cursor.",
    )
    if count:
        logger.warning("reclaimed %d stale sync run(s) (account %s, stream %s)", count, account_id, stream)
    return count


def acquire(
    account: MarketplaceAccount, stream: str, *, full: bool, trigger: str, task_id: str = ""
) -> SyncRun:
    reclaim_stale(account_id=account.pk, stream=stream)
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                account=account, stream=stream, full=full, trigger=trigger[:16], progress={"task_id": task_id}
            )
    except IntegrityError:
        holder = SyncRun.objects.filter(account=account, stream=stream, status=RUNNING).first()
        stale_in = 0.0
        if holder is not None:
            stale_in = max(0.0, (holder.heartbeat_at + stale_after() - timezone.now()).total_seconds())
        raise LeaseBusy(holder, stale_in) from None


def touch(run_id: int, **fields: Any) -> None:
    """Fenced update of the running run (heartbeat plus any counters); LeaseLost if it is not ours."""
    updated = SyncRun.objects.filter(pk=run_id, status=RUNNING).update(heartbeat_at=timezone.now(), **fields)
    if not updated:
        raise LeaseLost(f"sync run {run_id} is no longer running")


def finish(run_id: int, status: str, **fields: Any) -> bool:
    """Close the run unless someone else already did (reclaimed). Returns whether it was ours."""
    now = timezone.now()
    return bool(
        SyncRun.objects.filter(pk=run_id, status=RUNNING).update(
            status=status, finished_at=now, heartbeat_at=now, **fields
        )
    )


class Heartbeat:
    """Beats in a thread while a run is alive, so a slow page (long HTTP retries) is not mistaken
    for a dead worker. The thread dies with the process, which is exactly the signal we want."""

    def __init__(self, run_id: int, interval: float | None = None) -> None:
        self.run_id = run_id
        self.interval = interval or max(1.0, stale_after().total_seconds() / 4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"sync-heartbeat-{run_id}", daemon=True)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    SyncRun.objects.filter(pk=self.run_id, status=RUNNING).update(heartbeat_at=timezone.now())
                except Exception:  # a failed beat is retried at the next interval
                    logger.exception("sync heartbeat failed for run %s", self.run_id)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
