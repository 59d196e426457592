"""Thin Celery tasks of the analytics: long reports and the weekly report by email."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="analytics.build_report", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def build_report(job_id: int) -> None:
    from analytics.jobs import build

    build(job_id)


@shared_task(name="analytics.send_weekly_report", ignore_result=True)  # type: ignore[untyped-decorator]
def send_weekly_report() -> None:
    from analytics.weekly import send_weekly_report as send

    send()


@shared_task(name="analytics.refresh_reconciliation", ignore_result=True)  # type: ignore[untyped-decorator]
def refresh_reconciliation() -> None:
    """Beat: recompute the reconciliation of the accounts whose finance sync ran since (analytics.reconciliation)."""
    from analytics.reconciliation import refresh_due

    refresh_due()


@shared_task(name="analytics.run_reconciliation", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def run_reconciliation(run_ids: list[int]) -> None:
    """A refresh asked for from the reconciliation page."""
    from analytics.reconciliation import run_queued

    run_queued(run_ids)


@shared_task(name="analytics.warm_reports", ignore_result=True)  # type: ignore[untyped-decorator]
def warm_reports() -> None:
    from analytics.report_cache import warm

    warm()
