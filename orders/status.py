"""The canonical order status machine.

Marketplaces report statuses out of order (pages overlap, a retry re-reads an old page, WB's
statistics lag behind the FBS API), so an incoming status is applied only if the transition from
the stored one is allowed. A terminal status is never overwritten by an earlier one.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from orders.models import OrderStatus

S = OrderStatus

TERMINAL = frozenset({S.CANCELLED, S.RETURNED})

# current -> statuses it may move to. Forward jumps are allowed (a sync can miss intermediate
# states); moving back is not. "unknown" is where an unmapped marketplace status lands: from it
# any known status is accepted, and any non-terminal status may fall into it.
ALLOWED: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.PROCESSING, S.READY_TO_SHIP, S.IN_DELIVERY, S.DELIVERED, S.CANCELLED, S.UNKNOWN}),
    S.PROCESSING: frozenset({S.READY_TO_SHIP, S.IN_DELIVERY, S.DELIVERED, S.CANCELLED, S.UNKNOWN}),
    S.READY_TO_SHIP: frozenset({S.IN_DELIVERY, S.DELIVERED, S.CANCELLED, S.UNKNOWN}),
    # Not picked up / refused at the pickup point comes back as returned (or cancelled on Ozon).
    S.IN_DELIVERY: frozenset({S.DELIVERED, S.CANCELLED, S.RETURNED, S.UNKNOWN}),
    S.DELIVERED: frozenset({S.RETURNED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
    S.UNKNOWN: frozenset({S.NEW, S.PROCESSING, S.READY_TO_SHIP, S.IN_DELIVERY, S.DELIVERED, S.CANCELLED, S.RETURNED}),
}


def can_transition(current: str, new: str) -> bool:
    return new in ALLOWED.get(current, frozenset())


def resolve(current: str | None, incoming: str) -> str:
    """The status to store: `incoming` if the move is allowed (or the order is new), else `current`."""
    if incoming not in ALLOWED:
        incoming = S.UNKNOWN
    if current is None or current == incoming:
        return incoming
    return incoming if can_transition(current, incoming) else current


# How a status looks in the lists (the badge colour of static/css/app.css); the label is the status's own.
BADGES: dict[str, str] = {
    S.NEW: "warn",
    S.PROCESSING: "warn",
    S.READY_TO_SHIP: "warn",
    S.IN_DELIVERY: "",
    S.DELIVERED: "good",
    S.CANCELLED: "muted",
    S.RETURNED: "bad",
    S.UNKNOWN: "muted",
}

# The models' choice labels that the pages translate ({% translate item.get_kind_display %}), listed for
# makemessages: the models keep plain labels (their migrations would change with lazy ones).
CHOICE_LABELS = [
    gettext_noop("Return"), gettext_noop("Cancellation"), gettext_noop("Not picked up"),
    gettext_noop("Marketplace sync"), gettext_noop("Manual"), gettext_noop("Marketplace notification"),
]
