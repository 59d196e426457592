"""Notifications whose subject belongs to no app below this one. The apps notify about their own
things from their own modules (integrations/notices.py: syncs, pushes, expiring keys; reviews/alerts.py:
low ratings; supply/notify.py: stock-outs ahead), each through notifications.services.notify with one
subject per thing, so repeats within the window are dropped. notify() may be called inside the caller's
transaction: the rows commit with it, and emails are queued only after commit.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from notifications.kinds import Kind, Severity
from notifications.services import notify


def promotion_below_floor(promotion: Any, cards: int, at_stake: Decimal) -> None:
    """Joined cards of a running promotion that sell below their break-even floor (pricing.risk)."""
    values = {"title": promotion.title[:120], "cards": cards, "stake": at_stake}
    notify(
        Kind.MONEY_AT_RISK,
        f"promotion:{promotion.pk}:below-floor",
        _("«%(title)s»: %(cards)s joined cards sell below their break-even floor; %(stake)s ₽ at stake "
          "over a month of sales.") % values,
        link=f"/prices/promotions/{promotion.pk}/",
        severity=Severity.CRITICAL,
        title=_("Promotion «%(title)s»: cards below their floor") % values,
        window=timedelta(hours=24),
    )
