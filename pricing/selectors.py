"""Reads for the prices page: the listings that have a price, in the catalogue's indexed orders."""

from __future__ import annotations

from django.db.models import QuerySet

from catalog.models import Listing
from catalog.selectors import LISTING_SORTS

# The listing's columns, not the price's: a sort by article that starts from pricing_price would have to
# join and sort every price. Each row probes its price by the one-to-one's unique index.
PRICE_SORTS = LISTING_SORTS


def price_list() -> QuerySet[Listing]:
    return Listing.objects.filter(price__isnull=False).select_related("price", "account", "product")
