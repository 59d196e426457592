from __future__ import annotations

from celery import shared_task

from supply.forecast import refresh_forecasts
from supply.notify import notify_stockouts


@shared_task(name="supply.refresh_forecasts")
def refresh_forecasts_task() -> dict[str, int]:
    summary = refresh_forecasts()
    notify_stockouts()
    return {"cards": summary.cards, "products": summary.products, "to_order": summary.to_order}
