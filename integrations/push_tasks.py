"""Celery tasks that drain the outbox. Thin: ids in, one service call, state in our rows.

A push task is only a doorbell: losing it (Redis down, worker killed) delays a push until the
next sweep, it never loses one. Both tasks are safe to run twice at once (rows are claimed with
SKIP LOCKED), so acks_late redelivery is harmless.
"""

from __future__ import annotations

from celery import shared_task

from integrations import outbox
from integrations.models import MarketplaceAccount

# The periodic sweep is scheduled in config/schedule.py ("outbox-sweep", every minute).


# Celery ships no type hints, hence the ignores on its decorator.
@shared_task(  # type: ignore[untyped-decorator]
    name=outbox.PUSH_TASK, ignore_result=True, acks_late=True, reject_on_worker_lost=True
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
