"""Celery tasks of the pull sync. Thin: ids in (never credentials), one service call, state in
our own rows (SyncRun, SyncState), not in the result backend.

Each sync task goes to its marketplace's queue (sync_ozon, sync_wildberries, sync_yandex_market)
so one slow or failing marketplace cannot starve the others.
"""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError

from integrations.base import AuthError, NotAvailableError, TransientError
from integrations.models import MarketplaceAccount
from integrations.sync import engine, leases
from integrations.sync.schedule import due_streams

SYNC_MAX_RETRIES = 5


def sync_queue(marketplace: str) -> str:
    return f"sync_{marketplace}"


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> dict[str, str] | None:
    """Celery router: a sync or credential check sent without a queue goes to its marketplace's."""
    if name not in {"integrations.sync_stream", "integrations.check_account_auth"} or options.get("queue"):
        return None
    account_id = args[0] if args else (kwargs or {}).get("account_id")
    if not isinstance(account_id, int):
        return None
    marketplace = MarketplaceAccount.objects.filter(pk=account_id).values_list("marketplace", flat=True).first()
    return {"queue": sync_queue(marketplace)} if marketplace else None


def enqueue_sync(account: MarketplaceAccount, stream: str, *, full: bool = False, trigger: str = "manual",
                 expires: float | None = None) -> None:
    sync_stream.apply_async(
        args=(account.pk, stream),
        kwargs={"full": full, "trigger": trigger},
        queue=sync_queue(account.marketplace),
        expires=expires,
    )


def _retry_delay(retries: int, retry_after: float | None) -> float:
    """Capped exponential backoff with full jitter, never shorter than what the server asked."""
    delay = random.uniform(0, min(600.0, 30.0 * 2**retries))
    return max(delay, retry_after or 0.0)


# Celery ships no type hints, hence the ignores on its decorator.
@shared_task(  # type: ignore[untyped-decorator]
    bind=True,
    name="integrations.sync_stream",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=SYNC_MAX_RETRIES,
    soft_time_limit=settings.SYNC_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.SYNC_TASK_TIME_LIMIT,
)
def sync_stream(self: Any, account_id: int, stream: str, full: bool = False, trigger: str = "schedule") -> str:
    account = MarketplaceAccount.objects.filter(pk=account_id, enabled=True).first()
    if account is None:
        return "skipped"
    try:
        engine.run_stream(
            account, stream, full=full, trigger=trigger, task_id=self.request.id or "", flush_rows=engine.BATCH_ROWS
        )
    except leases.LeaseBusy as busy:
        if busy.holder_task_id and busy.holder_task_id == self.request.id:
            # This message was redelivered after its worker died mid-run: once the dead run's
            # heartbeat is stale, the retry reclaims the lease and resumes from the saved cursor.
            raise self.retry(countdown=busy.stale_in + 1) from None
        return "busy"  # another run is doing this work right now
    except leases.LeaseLost:
        return "lost"
    except SoftTimeLimitExceeded:
        # Pages so far are committed with their cursor; continue in a fresh task.
        raise self.retry(countdown=1) from None
    except AuthError:
        return "auth-failed"  # recorded on the account; retrying a refused key only burns limits
    except NotAvailableError:
        return "not-available"  # recorded on the stream's state; the schedule retries it daily
    except TransientError as exc:
        raise self.retry(exc=exc, countdown=_retry_delay(self.request.retries, exc.retry_after)) from None
    except OperationalError as exc:
        if not engine.database_conflict(exc):
            raise
        # A deadlock or serialization failure rolled back one flush; the retry resumes from its cursor.
        raise self.retry(countdown=random.uniform(1, 5)) from None
    return "done"


@shared_task(name="integrations.dispatch_due_syncs", ignore_result=True)  # type: ignore[untyped-decorator]
def dispatch_due_syncs(streams: list[str]) -> int:
    """Beat calls this per stream group; it enqueues each account's streams whose interval passed."""
    sent = 0
    for due in due_streams(streams):
        # Enqueued but not started yet (a busy queue) is not due again: no pile-up of copies.
        seconds = due.interval_minutes * 60
        if not cache.add(f"sync-dispatched:{due.account_id}:{due.stream}", 1, timeout=max(30, seconds - 30)):
            continue
        sync_stream.apply_async(
            args=(due.account_id, due.stream),
            kwargs={"trigger": "schedule"},
            queue=sync_queue(due.marketplace),
            expires=seconds,  # a copy that waited a whole interval is superseded by the next one
        )
        sent += 1
    return sent


@shared_task(name="integrations.reclaim_stale_sync_runs", ignore_result=True)  # type: ignore[untyped-decorator]
def reclaim_stale_sync_runs() -> int:
    return leases.reclaim_stale()


@shared_task(name="integrations.check_account_auth", ignore_result=True)  # type: ignore[untyped-decorator]
def check_account_auth(account_id: int) -> None:
    account = MarketplaceAccount.objects.filter(pk=account_id, enabled=True).first()
    if account is None:
        return
    try:
        engine.check_account(account)
    except (AuthError, TransientError):
        return  # recorded on the account (auth) or tried again at the next check


@shared_task(name="integrations.check_all_accounts", ignore_result=True)  # type: ignore[untyped-decorator]
def check_all_accounts() -> None:
    for account_id, marketplace in MarketplaceAccount.objects.filter(enabled=True).values_list("pk", "marketplace"):
        check_account_auth.apply_async(args=(account_id,), queue=sync_queue(marketplace), expires=3600)


@shared_task(name="integrations.check_expiring_keys", ignore_result=True)  # type: ignore[untyped-decorator]
def check_expiring_keys() -> int:
    from integrations.notices import keys_expiring

    return keys_expiring()
