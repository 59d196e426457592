"""Who calls notify(), with which subject. One function per event, called from where it happens.

Hooked now:
- sync_failed: integrations/sync/engine.py `run_stream`, when a run fails (not on a time limit);
- push_outcomes: integrations/outbox.py `push_account`, after a push with REJECTED or FAILED rows;
- low_rating: reviews/alerts.py `_create`, for each low-rating or rating-drop alert it raises
  (one per alert key: a review, or a product's rating per month), in the alert's transaction;
- keys_expiring: the daily beat entry `notify-expiring-keys` (config/schedule.py): marketplace keys
  whose token_expires_at is within NOTIFY_KEY_EXPIRY_DAYS, and API tokens about to expire (to their owner).

For the producers still to come, call notify() with these kinds and subjects (one subject per thing,
so repeats within the window are dropped):

    from notifications.kinds import Kind, Severity
    from notifications.services import notify

    # stock-outs ahead (stock forecast): one per listing and day
    notify(Kind.STOCKOUT_AHEAD, f"listing:{listing.pk}:{day}", "... runs out in N days", link=...)
    # money at risk (reconciliation, unit economics): one per finding
    notify(Kind.MONEY_AT_RISK, f"reconciliation:{account.pk}:{period}", "...", severity=Severity.CRITICAL)

notify() may be called inside the caller's transaction: the rows commit with it, and emails are
queued only after commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from notifications.kinds import Kind, Severity
from notifications.services import notify

if TYPE_CHECKING:
    from integrations.models import MarketplaceAccount
    from reviews.models import Alert

SETTINGS_LINK = "/settings/"


def sync_failed(account: MarketplaceAccount, stream: str, message: str) -> None:
    notify(
        Kind.SYNC_FAILED,
        f"account:{account.pk}:{stream}",
        f"{account.name} ({account.get_marketplace_display()}), {stream}: {message}"[:2000],
        link=SETTINGS_LINK,
        severity=Severity.CRITICAL,
        title=f"{account.name}: {stream} sync failed",
    )


def push_outcomes(account: MarketplaceAccount, statuses: Mapping[str, int]) -> None:
    """After a push: one message per account and window if any change was rejected or gave up."""
    rejected, failed = statuses.get("rejected", 0), statuses.get("failed", 0)
    if not rejected and not failed:
        return
    notify(
        Kind.PUSH_REJECTED,
        f"account:{account.pk}:push",
        f"{account.name} ({account.get_marketplace_display()}): {rejected} rejected, {failed} failed. "
        "The marketplace's messages are on each change.",
        link="/prices/",
        severity=Severity.WARNING,
        title=f"{account.name}: changes not applied",
        window=timedelta(hours=1),
    )


def keys_expiring(*, now: datetime | None = None) -> int:
    """Daily: marketplace keys and API tokens expiring within NOTIFY_KEY_EXPIRY_DAYS. Returns messages sent."""
    from core.tokens import tokens_expiring
    from integrations.models import MarketplaceAccount

    current = now or timezone.now()
    within = timedelta(days=settings.NOTIFY_KEY_EXPIRY_DAYS)
    sent = 0
    accounts = MarketplaceAccount.objects.filter(
        enabled=True, token_expires_at__gt=current, token_expires_at__lte=current + within
    ).order_by("pk")
    for account in accounts:
        assert account.token_expires_at is not None
        sent += bool(
            notify(
                Kind.KEY_EXPIRING,
                f"account:{account.pk}:key:{account.token_expires_at:%Y-%m-%d}",
                f"The API key of {account.name} ({account.get_marketplace_display()}) expires on "
                f"{timezone.localtime(account.token_expires_at):%d.%m.%Y}. Replace it in the settings.",
                link=f"/settings/accounts/{account.pk}/",
                severity=Severity.WARNING,
                title=f"{account.name}: key expires {timezone.localtime(account.token_expires_at):%d.%m.%Y}",
                window=timedelta(days=3),
            )
        )
    for token in tokens_expiring(within=within, now=current):
        assert token.expires_at is not None
        sent += bool(
            notify(
                Kind.KEY_EXPIRING,
                f"apitoken:{token.pk}",
                f"Your API token {token.prefix} ({token.name or 'unnamed'}) expires on "
                f"{timezone.localtime(token.expires_at):%d.%m.%Y}. Ask an administrator for a new one.",
                severity=Severity.WARNING,
                title=f"API token {token.prefix} expires soon",
                users=[token.user],
                window=timedelta(days=3),
            )
        )
    return sent


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


def low_rating(alert: Alert) -> None:
    """A low-rated review or a product's falling rating (a reviews inbox alert): one message per
    alert key, linking to the review, or to the product's (card's) newest reviews, in the inbox.
    The alert comes with its review, product and listing__product loaded."""
    from reviews.alerts import alert_message

    if alert.review_id:
        query = {"item": f"review:{alert.review_id}"}
    elif alert.product_id:
        query = {"kind": "review", "product": str(alert.product_id), "sort": "newest"}
    else:
        query = {"kind": "review", "listing": str(alert.listing_id), "sort": "newest"}
    listing = alert.listing
    product = alert.product or (listing.product if listing else None)
    name = product.name if product else (listing.title or listing.offer_id) if listing else ""
    with translation.override(settings.LANGUAGE_CODE):  # stored text, read by everyone
        message = alert_message(alert)
        text = alert.review.text.strip() if alert.review_id and alert.review else ""
        if text:
            message = f"{message} «{text[:200]}»"
        if alert.review_id:
            title = _("Low rating: %(name)s") % {"name": name} if name else _("Low rating")
        else:
            title = _("Rating dropping: %(name)s") % {"name": name} if name else _("Rating dropping")
    notify(
        Kind.LOW_RATING,
        alert.key,
        f"{name}: {message}" if name else message,
        link=f"{reverse('reviews:list')}?{urlencode(query)}",
        severity=Severity.CRITICAL if alert.severity == "critical" else Severity.WARNING,
        title=title,
        window=timedelta(days=31),
    )
