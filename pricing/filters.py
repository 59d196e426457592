"""The prices list's filters: the catalogue's (same rows, listings with a price), shared with its API later."""

from __future__ import annotations

from catalog.filters import ListingFilter


class PriceFilter(ListingFilter):
    """Marketplace, account and the catalogue search (article, barcode, title, marketplace id)."""
