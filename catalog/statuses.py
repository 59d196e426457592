"""A card's state in words: one mapping from what the marketplaces report to what the screens say.

The raw code (Ozon ``statuses.status``, YM ``cardStatus``, WB has none) stays in a tooltip; the label
and colour come from the canonical state, the same for every marketplace.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from catalog.models import Listing

# Raw codes meaning "the marketplace is still checking the card".
MODERATION_CODES = (
    "moderating", "imported", "price_sent_pending", "processing",  # Ozon
    "HAS_CARD_CAN_UPDATE_PROCESSING", "NO_CARD_PROCESSING", "NO_CARD_MARKET_WILL_CREATE",  # YM
)
# Raw codes meaning "the marketplace refused the card or it cannot be sold as it is".
REFUSED_CODES = (
    "failed_moderation", "failed_validation", "failed", "declined",  # Ozon
    "NO_CARD_ERRORS", "HAS_CARD_CAN_UPDATE_ERRORS", "NO_CARD_NEED_CONTENT", "HAS_CARD_CAN_NOT_UPDATE",  # YM
)


class CardState(enum.StrEnum):
    ON_SALE = "on_sale"
    MODERATION = "moderation"
    REFUSED = "refused"
    ARCHIVED = "archived"
    GONE = "gone"


@dataclass(frozen=True)
class StateLabel:
    label: str | Promise
    colour: str  # a badge class of static/css/app.css


LABELS: dict[CardState, StateLabel] = {
    CardState.ON_SALE: StateLabel(_("on sale"), "good"),
    CardState.MODERATION: StateLabel(_("on moderation"), "muted"),
    CardState.REFUSED: StateLabel(_("needs fixing"), "bad"),
    CardState.ARCHIVED: StateLabel(_("archived"), "muted"),
    CardState.GONE: StateLabel(_("gone from the marketplace"), "bad"),
}

# The same rules as SQL, for the catalogue's status filter (checked in the order of card_state).
STATE_CONDITIONS: dict[CardState, Q] = {
    CardState.GONE: Q(missing_since__isnull=False),
    CardState.ARCHIVED: Q(missing_since__isnull=True, archived=True),
    CardState.REFUSED: Q(missing_since__isnull=True, archived=False, status__in=REFUSED_CODES),
    CardState.MODERATION: Q(missing_since__isnull=True, archived=False, status__in=MODERATION_CODES),
    CardState.ON_SALE: Q(missing_since__isnull=True, archived=False)
    & ~Q(status__in=(*REFUSED_CODES, *MODERATION_CODES)),
}


def card_state(listing: Listing) -> CardState:
    if listing.missing_since is not None:
        return CardState.GONE
    if listing.archived:
        return CardState.ARCHIVED
    if listing.status in REFUSED_CODES:
        return CardState.REFUSED
    if listing.status in MODERATION_CODES:
        return CardState.MODERATION
    return CardState.ON_SALE


def state_label(listing: Listing) -> StateLabel:
    return LABELS[card_state(listing)]


STATE_CHOICES = [(state.value, LABELS[state].label) for state in CardState]


# A pushed change's result in words (integrations.models.OutboxChange.Status), for the result panels.
CHANGE_LABELS: dict[str, StateLabel] = {
    "pending": StateLabel(_("queued"), "muted"),
    "sending": StateLabel(_("sending"), "muted"),
    "sent": StateLabel(_("sent, the marketplace is checking"), "muted"),
    "applied": StateLabel(_("applied"), "good"),
    "rejected": StateLabel(_("rejected by the marketplace"), "bad"),
    "failed": StateLabel(_("not delivered"), "bad"),
    "superseded": StateLabel(_("replaced by a newer change"), "muted"),
}
# Results that may still change: the panel keeps polling while one of these is shown.
CHANGE_IN_PROGRESS = ("pending", "sending", "sent")
# Results the panel offers to send again (catalog.services.retry_content_change).
RETRYABLE = ("rejected", "failed")


def change_label(status: str) -> StateLabel:
    return CHANGE_LABELS.get(status, StateLabel(status, "muted"))
