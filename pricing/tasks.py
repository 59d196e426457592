"""Thin Celery tasks of pricing: the money-at-risk queue and the repricing runs (scheduled in config/schedule.py).

pricing.repricing sends its run's task by the registered name (pricing.apps registers this module in
every process), so the arrow runs from here to the services only."""

from __future__ import annotations

from celery import shared_task

from pricing import repricing, risk
from pricing.models import RepricingRun


@shared_task(name="pricing.refresh_money_at_risk", ignore_result=True)  # type: ignore[untyped-decorator]
def refresh_money_at_risk_task() -> dict[str, int]:
    return risk.refresh_all()


# Repricing rules (pricing/repricing.py): a run started from a screen or the API, and the schedule's runs.
@shared_task(name=repricing.EXECUTE_RUN_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
def execute_repricing_run_task(run_id: int) -> None:
    try:
        repricing.execute_run(run_id)
    except RepricingRun.DoesNotExist:
        return  # a message about a run this database does not have (a queue shared with another one)


@shared_task(name="pricing.run_repricing_rules", ignore_result=True)  # type: ignore[untyped-decorator]
def run_repricing_rules_task() -> int | None:
    run = repricing.run_scheduled()
    return None if run is None else run.pk
