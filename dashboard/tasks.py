from __future__ import annotations

from celery import shared_task

from dashboard.selectors import warm


@shared_task(name="dashboard.warm_overview", ignore_result=True)  # type: ignore[untyped-decorator]
def warm_overview() -> int:
    return warm()
