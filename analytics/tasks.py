"""Thin Celery tasks of the analytics: long reports and the weekly report by email.

The services send their tasks by the registered name (analytics.apps registers this module in every
process), so that they need not import it: the arrow runs from here to them only."""

from __future__ import annotations

from celery import shared_task

from analytics import jobs, reconciliation


@shared_task(name=jobs.BUILD_REPORT_TASK, ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def build_report(job_id: int) -> None:
    jobs.build(job_id)


@shared_task(name="analytics.send_weekly_report", ignore_result=True)  # type: ignore[untyped-decorator]
def send_weekly_report() -> None:
    from analytics.weekly import send_weekly_report as send

    send()


@shared_task(name="analytics.refresh_reconciliation", ignore_result=True)  # type: ignore[untyped-decorator]
def refresh_reconciliation() -> None:
    """Beat: recompute the reconciliation of the accounts whose finance sync ran since (analytics.reconciliation)."""
    reconciliation.refresh_due()


@shared_task(name=reconciliation.RUN_QUEUED_TASK, ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def run_reconciliation(run_ids: list[int]) -> None:
    """A refresh asked for from the reconciliation page."""
    reconciliation.run_queued(run_ids)


@shared_task(name="analytics.warm_reports", ignore_result=True)  # type: ignore[untyped-decorator]
def warm_reports() -> None:
    from analytics.report_cache import warm

    warm()
