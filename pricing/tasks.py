"""Thin Celery tasks of pricing: the money-at-risk queue (scheduled in config/schedule.py)."""

from __future__ import annotations

from celery import shared_task

from pricing import risk


@shared_task(name="pricing.refresh_money_at_risk", ignore_result=True)  # type: ignore[untyped-decorator]
def refresh_money_at_risk_task() -> dict[str, int]:
    return risk.refresh_all()
