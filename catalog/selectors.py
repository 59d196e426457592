"""Reads for the catalogue pages."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.models import Listing, Product
from core.pagination import Sort, Sorts

# Each sort has its index (catalog.Listing.Meta.indexes); columns of the listing only.
LISTING_SORTS = Sorts(
    Listing,
    [
        Sort("article", _("Seller article"), ("offer_id", "id")),
        Sort("title", _("Title"), ("title", "id")),
        Sort("newest", _("Newest first"), ("-id",)),
    ],
)


def listing_list() -> QuerySet[Listing]:
    """Listings with what each row shows; filters (catalog.filters) and the page narrow it."""
    return Listing.objects.select_related("account", "product", "price")


def product_get(product_id: int) -> Product | None:
    return Product.objects.filter(pk=product_id).first()
