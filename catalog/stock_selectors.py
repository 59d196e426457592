"""Reads of stock levels for the screens: per warehouse and, where the marketplace keeps stock per
size (WB), per size, named as the listing names its sizes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from catalog.models import Listing, StockLevel


@dataclass(frozen=True)
class StockRow:
    warehouse_id: int
    warehouse: str
    warehouse_kind: str
    variant_id: str  # "" where stock is per listing (Ozon, YM)
    size: str  # the size's name ("M"); "" where stock is per listing
    present: int
    reserved: int

    @property
    def available(self) -> int:
        """What can be sold, the figure a stock change sets."""
        return self.present - self.reserved


def stock_by_size(listings: Sequence[Listing]) -> dict[int, list[StockRow]]:
    """Stock rows of each listing (by listing id) in one query: by warehouse name, then in the order
    the listing lists its sizes (S, M, L), not by size id."""
    by_listing: dict[int, list[StockRow]] = defaultdict(list)
    if not listings:
        return {}
    sizes = {listing.pk: _size_names(listing) for listing in listings}
    levels = (
        StockLevel.objects.filter(listing_id__in=list(sizes))
        .select_related("warehouse")
        .only("listing_id", "variant_id", "present", "reserved", "warehouse__name", "warehouse__kind")
    )
    for level in levels:
        names = sizes[level.listing_id]
        by_listing[level.listing_id].append(
            StockRow(
                warehouse_id=level.warehouse_id,
                warehouse=level.warehouse.name,
                warehouse_kind=level.warehouse.kind,
                variant_id=level.variant_id,
                size=names.get(level.variant_id, level.variant_id),
                present=level.present,
                reserved=level.reserved,
            )
        )
    for listing_id, rows in by_listing.items():
        order = {variant: position for position, variant in enumerate(sizes[listing_id])}
        rows.sort(key=lambda r: (r.warehouse, r.warehouse_id, order.get(r.variant_id, len(order)), r.variant_id))
    return dict(by_listing)


def _size_names(listing: Listing) -> dict[str, str]:
    """variant id -> size name, in the listing's own order (Listing.variants: [{"id", "size"}, ...])."""
    names: dict[str, str] = {}
    for variant in listing.variants or []:
        if isinstance(variant, dict) and variant.get("id"):
            names[str(variant["id"])] = str(variant.get("size") or variant["id"])
    return names
