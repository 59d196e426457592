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


@shared_task(name="analytics.warm_reports", ignore_result=True)  # type: ignore[untyped-decorator]
def warm_reports() -> None:
    from analytics.report_cache import warm

    warm()
