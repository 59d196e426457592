"""Reads for the stock screen: one row per card, warehouse and size, with its flags and the result of
the latest stock change sent for it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.models import Listing, StockLevel, Warehouse
from core.pagination import Sort, Sorts
from integrations import outbox
from integrations.models import OutboxChange

# The unique (listing, warehouse, variant_id) index serves this order: a card's rows stay together.
STOCK_SORTS = Sorts(StockLevel, [Sort("card", _("By card"), ("listing_id", "warehouse_id", "variant_id", "id"))])

FBO_READ_ONLY = _(
    "Stock on a marketplace (FBO) warehouse is counted by the marketplace: it grows when a supply is "
    "accepted and falls as items sell. It cannot be set from here."
)
INACTIVE_READ_ONLY = _("The warehouse is switched off on the marketplace: switch it on there to send stock.")


def stock_list() -> QuerySet[StockLevel]:
    return StockLevel.objects.select_related("listing__account", "listing__product", "warehouse")


def size_name(listing: Listing, variant_id: str) -> str:
    """The size as the card names it ("M"); the id where the card does not name it; "" without sizes."""
    if not variant_id:
        return ""
    for variant in listing.variants or []:
        if isinstance(variant, dict) and str(variant.get("id")) == variant_id:
            return str(variant.get("size") or variant_id)
    return variant_id


def change_key(level: StockLevel) -> str:
    return outbox.stock_key(level.listing.external_id, level.warehouse.external_id, level.variant_id)


def read_only_reason(warehouse: Warehouse) -> str:
    """Why this warehouse's stock cannot be edited here; "" when it can."""
    if warehouse.kind != Warehouse.Kind.SELLER:
        return str(FBO_READ_ONLY)
    if not warehouse.is_active:
        return str(INACTIVE_READ_ONLY)
    return ""


@dataclass
class StockLine:
    level: StockLevel
    size: str
    available: int
    low: bool
    out: bool
    read_only_reason: str
    change: OutboxChange | None

    @property
    def listing(self) -> Listing:
        return self.level.listing

    @property
    def warehouse(self) -> Warehouse:
        return self.level.warehouse

    @property
    def change_state(self) -> ChangeState | None:
        return change_state(self.change) if self.change else None


def latest_changes(levels: Sequence[StockLevel]) -> dict[tuple[int, str], OutboxChange]:
    """The newest stock change of each row, in one query: (account id, target key) -> change."""
    if not levels:
        return {}
    keys = {change_key(level) for level in levels}
    accounts = {level.listing.account_id for level in levels}
    rows = (
        OutboxChange.objects.filter(account_id__in=accounts, kind=OutboxChange.Kind.STOCK, target_key__in=keys)
        .select_related("created_by")
        .order_by("account_id", "target_key", "-id")
        .distinct("account_id", "target_key")
    )
    return {(row.account_id, row.target_key): row for row in rows}


def stock_lines(levels: Iterable[StockLevel], threshold: int) -> list[StockLine]:
    levels = list(levels)
    changes = latest_changes(levels)
    lines = []
    for level in levels:
        available = level.present - level.reserved
        lines.append(
            StockLine(
                level=level,
                size=size_name(level.listing, level.variant_id),
                available=available,
                low=0 < available <= threshold,
                out=available <= 0,
                read_only_reason=read_only_reason(level.warehouse),
                change=changes.get((level.listing.account_id, change_key(level))),
            )
        )
    return lines


@dataclass(frozen=True)
class ChangeState:
    label: str
    css: str
    polling: bool  # the result is not final: the page asks again


def _state(label: object, css: str, polling: bool) -> ChangeState:
    return ChangeState(label, css, polling)  # type: ignore[arg-type]


# One mapping of the outbox's statuses to what the stock screen says (the raw code goes in a tooltip).
CHANGE_STATES: dict[str, ChangeState] = {
    OutboxChange.Status.PENDING: _state(_("Queued"), "muted", True),
    OutboxChange.Status.SENDING: _state(_("Sending"), "muted", True),
    OutboxChange.Status.SENT: _state(_("Sent, waiting for the marketplace"), "muted", True),
    OutboxChange.Status.APPLIED: _state(_("Applied"), "good", False),
    OutboxChange.Status.REJECTED: _state(_("Rejected by the marketplace"), "bad", False),
    OutboxChange.Status.FAILED: _state(_("Not delivered"), "bad", False),
    OutboxChange.Status.SUPERSEDED: _state(_("Replaced by a newer change"), "muted", False),
}


def change_state(change: OutboxChange) -> ChangeState:
    return CHANGE_STATES.get(change.status, _state(change.status, "muted", False))
