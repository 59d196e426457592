"""Stock-outs ahead, as a notification: one summary a day, not one message per product."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.kinds import Kind, Severity
from notifications.services import notify
from supply.filters import SOON_DAYS
from supply.models import ProductForecast


def notify_stockouts() -> int:
    """Notify who wants stock-outs ahead when products must be ordered today or run out within SOON_DAYS."""
    today = timezone.localdate()
    to_order = ProductForecast.objects.filter(order_by__lte=today, reorder_qty__gt=0).count()
    running_out = ProductForecast.objects.filter(stockout_on__lte=today + timedelta(days=SOON_DAYS)).count()
    if not to_order and not running_out:
        return 0
    message = _("%(order)d product(s) to order now; %(soon)d run out within %(days)d days.") % {
        "order": to_order, "soon": running_out, "days": SOON_DAYS,
    }
    rows = notify(
        Kind.STOCKOUT_AHEAD, f"supply:{today.isoformat()}", message,
        link="/supply/?urgency=order_now" if to_order else "/supply/?urgency=soon",
        severity=Severity.WARNING if not to_order else Severity.CRITICAL,
        title=_("Stock-outs ahead"), window=timedelta(hours=20),
    )
    return len(rows)
