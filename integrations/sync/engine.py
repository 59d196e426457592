"""Runs one pull stream of one account: lease -> pages from the saved cursor -> bulk ingest ->
cursor saved with every flush -> SyncRun counts and account health.

Pages are buffered and written in flushes (every page by default; `flush_rows`/`flush_seconds`
let the Celery task and the command batch small API pages). Each flush is one transaction: the
rows of its pages, the cursor after its last page and the run's counters commit together, so a
run killed at any point resumes from the last committed flush and never duplicates.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from core import bulk
from core.logging import redact
from integrations import notices, outbox
from integrations.base import AuthError, MarketplaceClient, MarketplaceError, NotAvailableError
from integrations.models import MarketplaceAccount, OutboxChange, SyncRun, SyncState
from integrations.registry import get_client
from integrations.sync import leases
from integrations.sync.streams import STREAMS, PageCounts, StreamDef, StreamPage

logger = logging.getLogger(__name__)


@dataclass
class RunTotals:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0
    pages: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    # Rows rejected alone for values PostgreSQL refuses (core.bulk.collect_rejections): the first
    # few, each naming its row, end up in the run's error_message.
    rejected: list[str] = field(default_factory=list)

    def add(self, counts: PageCounts, pages: int = 1) -> None:
        self.fetched += counts.fetched
        self.created += counts.created
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.errors += counts.errors
        self.pages += pages
        for name, value in counts.extra.items():
            self.extra[name] = self.extra.get(name, 0) + value

    def reject(self, messages: list[str]) -> None:
        self.errors += len(messages)
        self.rejected.extend(messages[: max(0, REJECTED_SAMPLES - len(self.rejected))])

    def rejected_message(self) -> str:
        if not self.rejected:
            return ""
        more = self.errors - len(self.rejected)
        tail = f"; and {more} more" if more > 0 else ""
        return f"Rows rejected, the rest stored: {'; '.join(self.rejected)}{tail}"[:2000]

    def run_fields(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "pages": self.pages,
        }


OnPage = Callable[[str, RunTotals], None]
REJECTED_SAMPLES = 5

# What the Celery task and the `sync` command batch into one write: small API pages (Ozon's 100
# postings) cost a transaction and half a dozen statements each; 5,000 rows amortise that, and
# the age bound keeps progress, the heartbeat and the work lost in a crash small on slow APIs.
BATCH_ROWS = 5000
BATCH_SECONDS = 2.0


def overlap() -> timedelta:
    """Change streams re-read this much before the watermark: marketplaces publish changes late."""
    return timedelta(minutes=int(getattr(settings, "SYNC_OVERLAP_MINUTES", 30)))


def describe(exc: BaseException) -> str:
    """An error text safe to store and show: adapter messages never carry credentials; anything
    else is redacted as a log line would be."""
    if isinstance(exc, MarketplaceError):
        status = f" (HTTP {exc.status})" if exc.status else ""
        return f"{type(exc).__name__}{status}: {exc.message}"[:2000]
    return f"{type(exc).__name__}: {redact(str(exc))}"[:2000]


# SQLSTATEs of a conflict PostgreSQL resolves by failing one of the transactions involved: a deadlock
# (e.g. two flushes whose statement triggers lock the same products in a different order) or a
# serialization failure. Nothing is wrong with the data or the account: the flush rolled back whole
# and the same work succeeds when tried again.
DATABASE_CONFLICTS = {"40P01", "40001"}


def database_conflict(exc: BaseException) -> bool:
    """Whether `exc` is a transaction PostgreSQL failed to break a lock conflict (worth a retry)."""
    cause = exc.__cause__ if isinstance(exc, OperationalError) else exc
    return getattr(cause, "sqlstate", None) in DATABASE_CONFLICTS


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _outstanding_readbacks(account_id: int) -> set[str]:
    """Outbox kinds with delivered changes awaiting a read-back; skip the lookups when none."""
    return set(
        OutboxChange.objects.filter(
            account_id=account_id,
            status__in=(OutboxChange.Status.APPLIED, OutboxChange.Status.SENT),
            confirmed_at__isnull=True,
        )
        .values_list("kind", flat=True)
        .distinct()
    )


@dataclass
class _Plan:
    since: datetime | None
    cursor: dict[str, Any] | None
    watermark: datetime | None
    full: bool
    resumed: bool


def _plan(spec: StreamDef, state: SyncState, full: bool, now: datetime) -> _Plan:
    """Resume the pass in progress (unless a full pass is asked for over an incremental one);
    otherwise start a new pass from the watermark, or from the lookback for a first/full read."""
    saved = state.cursor or {}
    if saved and (saved.get("full") or not full):
        return _Plan(_parse(saved.get("since")), saved, _parse(saved.get("watermark")), bool(saved.get("full")), True)
    since = None
    if spec.changes:
        if full or state.watermark is None:
            since = now - timedelta(days=spec.lookback_days)
        else:
            since = state.watermark - overlap()
    return _Plan(since, None, None, full, False)


class _Buffer:
    """API pages waiting for one write; all share one ingest function (the promotions stream
    switches functions per promotion, which ends the batch)."""

    def __init__(self) -> None:
        self.pages: list[StreamPage] = []
        self.rows = 0
        self.started = 0.0

    def accepts(self, page: StreamPage) -> bool:
        return not self.pages or not page.items or not self.rows or page.ingest is self._ingest()

    def _ingest(self) -> Any:
        return next((p.ingest for p in self.pages if p.items), None)

    def add(self, page: StreamPage) -> None:
        if not self.pages:
            self.started = time.monotonic()
        self.pages.append(page)
        self.rows += len(page.items)

    def full(self, rows: int, seconds: float) -> bool:
        return bool(self.pages) and (self.rows >= rows or time.monotonic() - self.started >= seconds)

    def take(self) -> list[StreamPage]:
        pages, self.pages, self.rows = self.pages, [], 0
        return pages


class _Prefetch:
    """Reads the marketplace's pages in a thread, one page ahead, so fetching and decoding the
    next page overlaps with writing the current ones (the sandbox, this process and PostgreSQL
    otherwise take turns on the CPUs). The reader never touches the database; its errors are
    raised where the page would have been."""

    def __init__(self, pages: Iterator[StreamPage]) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)  # bounds memory: one page ahead
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(pages,), name="sync-prefetch", daemon=True)
        self._thread.start()

    def _read(self, pages: Iterator[StreamPage]) -> None:
        try:
            for page in pages:
                if not self._put(("page", page)):
                    return
            self._put(("end", None))
        except BaseException as exc:  # handed to the consumer, which decides
            self._put(("error", exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()  # a generator is closed by the thread that runs it

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> _Prefetch:
        return self

    def __next__(self) -> StreamPage:
        kind, value = self._queue.get()
        if kind == "page":
            return value  # type: ignore[no-any-return]
        if kind == "end":
            raise StopIteration
        raise value

    def close(self) -> None:
        """Stop reading; a request in flight finishes on its own (the thread is a daemon)."""
        self._stop.set()
        self._thread.join(timeout=1.0)


def _confirm_readbacks(account_id: int, pages: list[StreamPage], kinds: set[str]) -> None:
    observed: dict[str, dict[str, Any]] = {}
    for page in pages:
        if page.readback is not None and page.items:
            kind, values = page.readback(page.items)
            if kind in kinds and values:
                observed.setdefault(kind, {}).update(values)
    for kind, values in observed.items():
        outbox.confirm_from_readback(account_id, kind, values)


def _pump(
    account: MarketplaceAccount,
    spec: StreamDef,
    run_id: int,
    task_id: str,
    full: bool,
    client: MarketplaceClient,
    totals: RunTotals,
    on_page: OnPage | None,
    flush_rows: int = 0,
    flush_seconds: float = BATCH_SECONDS,
) -> None:
    state, _ = SyncState.objects.get_or_create(account=account, stream=spec.name)
    plan = _plan(spec, state, full, timezone.now())
    readback_kinds = _outstanding_readbacks(account.pk)
    watermark = plan.watermark
    progress_base = {"task_id": task_id, "since": _iso(plan.since), "resumed": plan.resumed}
    # Keys listed by this pass, when it reads the whole catalogue from its first page (a resumed
    # pass saw its first pages in an earlier run, so it flags nothing).
    seen: set[str] | None = set() if spec.mark_missing and spec.item_key and not plan.resumed else None

    def flush(pages: list[StreamPage]) -> None:
        nonlocal watermark
        items = [item for page in pages for item in page.items]
        ingest = next((p.ingest for p in pages if p.items), pages[-1].ingest)
        with transaction.atomic():
            # The rows and the cursor after their last page commit together, so losing the last
            # commits in a crash loses both, consistently (the pages are read again): no need to
            # wait for the WAL flush.
            with connection.cursor() as sql:
                sql.execute("SET LOCAL synchronous_commit = off")
            with bulk.collect_rejections() as rejected:
                counts = ingest(account.pk, items) if items else PageCounts()
            if readback_kinds and items:
                _confirm_readbacks(account.pk, pages, readback_kinds)
            if seen is not None and spec.item_key is not None:
                seen.update(spec.item_key(item) for item in items)
            for page in pages:
                watermark = _latest(watermark, page.watermark)
            cursor = {**pages[-1].cursor, "since": _iso(plan.since), "watermark": _iso(watermark), "full": plan.full}
            SyncState.objects.filter(pk=state.pk).update(cursor=cursor, updated_at=timezone.now())
            totals.add(counts, pages=len(pages))
            totals.reject(rejected)
            # Fenced: if another worker reclaimed this run meanwhile, LeaseLost rolls the flush back.
            leases.touch(run_id, **totals.run_fields(), progress={**progress_base, **totals.extra})
        if on_page is not None:
            on_page(spec.name, totals)

    buffer = _Buffer()
    pages = _Prefetch(iter(spec.read(account.pk, client, plan.since, plan.cursor)))
    try:
        while True:
            try:
                page = next(pages)
            except StopIteration:
                break
            except Exception:
                # The marketplace failed (after the client's retries): keep what was read before it.
                if buffer.pages:
                    flush(buffer.take())
                raise
            if not buffer.accepts(page):
                flush(buffer.take())
            buffer.add(page)
            if flush_rows <= 0 or buffer.full(flush_rows, flush_seconds):
                flush(buffer.take())
        if buffer.pages:
            flush(buffer.take())
    finally:
        pages.close()

    with transaction.atomic():
        leases.touch(run_id)
        if seen is not None and spec.mark_missing is not None:
            totals.extra["missing"] = spec.mark_missing(account.pk, seen)
            leases.touch(run_id, progress={**progress_base, **totals.extra})
        now = timezone.now()
        finished: dict[str, Any] = {"cursor": {}, "updated_at": now}
        if watermark and (state.watermark is None or watermark > state.watermark):
            finished["watermark"] = watermark
        if plan.full or not spec.changes:  # a catalogue pass always covers everything
            finished["last_full_sync_at"] = now
        SyncState.objects.filter(pk=state.pk).update(**finished)
    if spec.after_run is not None:
        # After the rows (and the missing flags) are in, in its own transactions: the next run
        # takes up whatever a crash here leaves, since it works from the rows' state.
        totals.extra.update(spec.after_run(account.pk))
        leases.touch(run_id, progress={**progress_base, **totals.extra})


def run_stream(
    account: MarketplaceAccount,
    stream: str,
    *,
    full: bool = False,
    trigger: str = "manual",
    client: MarketplaceClient | None = None,
    task_id: str = "",
    on_page: OnPage | None = None,
    heartbeat: bool = True,
    flush_rows: int = 0,
    flush_seconds: float = BATCH_SECONDS,
) -> SyncRun:
    """Run one stream to the end. Raises leases.LeaseBusy when another run holds the lease, and
    re-raises the run's error after recording it (the caller decides about retrying).

    flush_rows: 0 writes every page in its own transaction; N buffers pages until N rows (or
    flush_seconds since the first buffered page) and writes them together (see BATCH_ROWS)."""
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; known: {', '.join(STREAMS)}")
    spec = STREAMS[stream]
    run = leases.acquire(account, stream, full=full, trigger=trigger, task_id=task_id)
    totals = RunTotals()
    own_client = client is None
    beating: AbstractContextManager[Any] = leases.Heartbeat(run.pk) if heartbeat else nullcontext()
    try:
        with beating:
            client = client or get_client(account)
            try:
                _pump(account, spec, run.pk, task_id, full, client, totals, on_page, flush_rows, flush_seconds)
            finally:
                if own_client and hasattr(client, "close"):
                    client.close()
    except leases.LeaseLost:
        logger.warning("sync %s:%s lost its lease; another run took over", account.pk, stream)
        raise
    except BaseException as exc:  # also SoftTimeLimitExceeded / SystemExit: record, then re-raise
        stopped = isinstance(exc, SoftTimeLimitExceeded)
        conflict = database_conflict(exc)
        if stopped:
            message = "Time limit reached; the next run continues from the saved cursor."
        elif conflict:
            message = "A write conflicted with another one in the database; the retry continues from the saved cursor."
        else:
            message = describe(exc)
        try:
            leases.finish(run.pk, SyncRun.Status.FAILED, error_message=message,
                          **{**totals.run_fields(), "errors": totals.errors + (0 if stopped or conflict else 1)})
            if isinstance(exc, NotAvailableError) and _credentials_work(account, None if own_client else client):
                mark_unavailable(account, stream, exc)
            elif not (stopped or conflict):  # neither says anything about the account's health
                record_account_error(account, message)
                notices.sync_failed(account, stream, message)
        except Exception:
            logger.exception("could not record the failure of sync run %s", run.pk)
        raise
    leases.finish(run.pk, SyncRun.Status.SUCCEEDED, error_message=totals.rejected_message(), **totals.run_fields())
    MarketplaceAccount.objects.filter(pk=account.pk).update(last_success_at=timezone.now())
    SyncState.objects.filter(account=account, stream=stream).exclude(unavailable_since=None).update(
        unavailable_since=None, unavailable_message=""
    )
    run.refresh_from_db()
    return run


def _credentials_work(account: MarketplaceAccount, client: MarketplaceClient | None) -> bool:
    """A 403 means "not covered by the subscription or scope" only if the key itself still works:
    one auth check tells a refused key (the account fails) from a method the seller lacks."""
    own = client is None
    checker = client or get_client(account)
    try:
        check_account(account, checker)  # records a refusal on the account
    except (AuthError, NotAvailableError):
        return False
    except MarketplaceError:
        return True  # the check could not run (e.g. the marketplace is down): the 403 stands as it is
    finally:
        if own and hasattr(checker, "close"):
            checker.close()
    return True


def mark_unavailable(account: MarketplaceAccount, stream: str, exc: NotAvailableError) -> None:
    """The stream is not available for this account: its message on the stream's state, retried
    daily by the scheduler; the account's health is left as it was."""
    state, _ = SyncState.objects.get_or_create(account=account, stream=stream)
    SyncState.objects.filter(pk=state.pk).update(
        unavailable_since=state.unavailable_since or timezone.now(), unavailable_message=exc.message[:2000]
    )


def record_account_error(account: MarketplaceAccount, message: str) -> None:
    MarketplaceAccount.objects.filter(pk=account.pk).update(last_error_at=timezone.now(), last_error=message)


def check_account(account: MarketplaceAccount, client: MarketplaceClient | None = None) -> datetime | None:
    """One cheap authenticated call: stores the token's expiry, or the refusal as the last error.
    A 403 on the auth check itself is a refusal of the account, whatever its kind."""
    client = client or get_client(account)
    try:
        expires_at = client.check_auth()
    except (AuthError, NotAvailableError) as exc:
        record_account_error(account, describe(exc))
        raise
    MarketplaceAccount.objects.filter(pk=account.pk).update(token_expires_at=expires_at)
    return expires_at
