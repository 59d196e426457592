"""Celery tasks that drain the outbox. Thin: ids in, one service call, state in our rows.

A push task is only a doorbell: losing it (Redis down, worker killed) delays a push until the
next sweep, it never loses one. Both tasks are safe to run twice at once (rows are claimed with
SKIP LOCKED), so acks_late redelivery is harmless.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from integrations import outbox
from integrations.models import MarketplaceAccount

# Merged into the beat schedule by config/celery.py (the lead wires it in).
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Every minute: reclaim rows of dead senders, retry due rows, resolve accepted uploads.
    # Expires so sweeps missed during an outage don't pile up.
    "outbox-sweep": {"task": "integrations.sweep_outbox", "schedule": 60.0, "options": {"expires": 50}},
}


# Celery ships no type hints, hence the ignores on its decorator.
@shared_task(  # type: ignore[untyped-decorator]
    name="integrations.push_account_outbox", ignore_result=True, acks_late=True, reject_on_worker_lost=True
)
def push_account_outbox(account_id: int) -> None:
    account = MarketplaceAccount.objects.filter(pk=account_id, enabled=True).first()
    if account is None:
        return
    outbox.push_account(account)


@shared_task(name="integrations.sweep_outbox", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def sweep_outbox() -> None:
    for account_id, marketplace in outbox.sweep():
        outbox.ring_doorbell(account_id, marketplace)
