"""What the settings show of an account's syncs: each stream's state and its recent runs, and errors in words.

A fixed number of queries per page whatever the number of runs: the last run per stream comes from one
DISTINCT ON over the (account, stream, -started_at) index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from integrations.models import MarketplaceAccount, SyncRun, SyncState
from integrations.sync.streams import STREAM_ORDER, interval_minutes
from integrations.tasks import enqueue_sync

RECENT_RUNS = 30

STREAM_LABELS = {
    "warehouses": gettext_lazy("Warehouses"),
    "listings": gettext_lazy("Cards"),
    "categories": gettext_lazy("Category dictionaries"),
    "prices": gettext_lazy("Prices"),
    "stocks": gettext_lazy("Stock"),
    "orders": gettext_lazy("Orders"),
    "returns": gettext_lazy("Returns"),
    "sales": gettext_lazy("Sales and buy-outs"),
    "reviews": gettext_lazy("Reviews"),
    "questions": gettext_lazy("Questions"),
    "promotions": gettext_lazy("Promotions"),
    "finance": gettext_lazy("Finance"),
    "fees": gettext_lazy("Fees and tariffs"),
    "ads": gettext_lazy("Advertising statistics"),
}

# engine.describe() stores "<ErrorClass> (HTTP <status>): <the marketplace's message>"; the class says what
# happened, in words a manager can act on. The marketplace's own message is shown next to it.
ERROR_KINDS = (
    ("AuthError", gettext_lazy("The marketplace refused the key: check it in the account settings.")),
    (
        "NotAvailableError",
        gettext_lazy("Not available for this account: the subscription or the key's access does not cover it."),
    ),
    ("RateLimitedError", gettext_lazy("The marketplace limited the request rate; the sync will continue later.")),
    ("LeaseLost", gettext_lazy("The worker running the sync stopped; the next run continues from the last page.")),
    ("PermanentError", gettext_lazy("The marketplace rejected the request or answered with data we could not read.")),
)
TRANSIENT = gettext_lazy("The marketplace did not answer (timeout, connection or server error); the sync will retry.")


def explain_error(message: str) -> str:
    """The stored error in the user's language; empty for no error."""
    if not message:
        return ""
    for prefix, text in ERROR_KINDS:
        if message.startswith(prefix):
            return str(text)
    if message.startswith("TransientError"):
        return str(TRANSIENT)
    return _("The sync failed with an unexpected error; the details are below.")


@dataclass
class StreamStatus:
    stream: str
    label: str
    interval: int
    last_run: SyncRun | None
    state: SyncState | None
    next_due: datetime | None

    @property
    def running(self) -> bool:
        return self.last_run is not None and self.last_run.status == SyncRun.Status.RUNNING

    @property
    def every(self) -> str:
        if self.interval % 60:
            return _("%(n)s min") % {"n": self.interval}
        return _("%(n)s h") % {"n": self.interval // 60}

    @property
    def unavailable(self) -> bool:
        return self.state is not None and self.state.unavailable_since is not None

    @property
    def error(self) -> str:
        run = self.last_run
        return explain_error(run.error_message) if run and run.status == SyncRun.Status.FAILED else ""


def stream_statuses(account: MarketplaceAccount) -> list[StreamStatus]:
    last_runs = {
        run.stream: run
        for run in SyncRun.objects.filter(account=account).order_by("stream", "-started_at").distinct("stream")
    }
    states = {state.stream: state for state in SyncState.objects.filter(account=account)}
    rows = []
    for stream in STREAM_ORDER:
        interval = interval_minutes(stream, account.sync_intervals)
        run = last_runs.get(stream)
        next_due = run.started_at + timedelta(minutes=interval) if run else None
        label = str(STREAM_LABELS.get(stream, stream))
        rows.append(StreamStatus(stream, label, interval, run, states.get(stream), next_due))
    return rows


def recent_runs(account: MarketplaceAccount, limit: int = RECENT_RUNS) -> list[SyncRun]:
    runs = list(SyncRun.objects.filter(account=account).order_by("-started_at")[:limit])
    for run in runs:
        run.explained = explain_error(run.error_message)  # type: ignore[attr-defined]
        run.label = str(STREAM_LABELS.get(run.stream, run.stream))  # type: ignore[attr-defined]
    return runs


class SyncRequestError(ValueError):
    pass


def request_sync(
    account: MarketplaceAccount, streams: list[str], *, full: bool = False, actor: Any = None, trigger: str = "manual"
) -> list[str]:
    """Queue a run of the given streams now ("sync now"); a stream already running is not queued twice."""
    unknown = [s for s in streams if s not in STREAM_ORDER]
    if unknown or not streams:
        raise SyncRequestError(_("Unknown stream: %(streams)s") % {"streams": ", ".join(unknown) or "—"})
    if not account.enabled:
        raise SyncRequestError(_("Sync is turned off for this account; turn it on in the account settings."))
    running = set(
        SyncRun.objects.filter(account=account, stream__in=streams, status=SyncRun.Status.RUNNING).values_list(
            "stream", flat=True
        )
    )
    queued = [s for s in STREAM_ORDER if s in streams and s not in running]
    with transaction.atomic():
        audit_record(
            action="sync.requested",
            actor=actor,
            obj=account,
            details={"streams": queued, "full": full, "already_running": sorted(running), "trigger": trigger},
        )
        # Published once the audit row is committed: a worker never runs a request that was rolled back.
        transaction.on_commit(lambda: _enqueue(account, queued, full, trigger))
    return queued


def _enqueue(account: MarketplaceAccount, streams: list[str], full: bool, trigger: str) -> None:
    for stream in streams:
        enqueue_sync(account, stream, full=full, trigger=trigger)


def any_running(account: MarketplaceAccount) -> bool:
    return SyncRun.objects.filter(account=account, status=SyncRun.Status.RUNNING).exists()
