"""Celery task of pricing (autodiscovered as push_tasks): scheduled price batches go out on time."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="pricing.send_due_price_batches", ignore_result=True)  # type: ignore[untyped-decorator]
def send_due_price_batches() -> int:
    from pricing.batches import send_due_batches

    return send_due_batches()
