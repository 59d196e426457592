"""Reads for the catalogue pages."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from catalog.models import Listing, Product


def listing_list(*, marketplace: str = "", search: str = "", product_id: int | None = None) -> QuerySet[Listing]:
    listings = Listing.objects.select_related("account", "product", "price").order_by("offer_id", "account__name")
    if marketplace:
        listings = listings.filter(account__marketplace=marketplace)
    if product_id is not None:
        listings = listings.filter(product_id=product_id)
    if search:
        listings = listings.filter(
            Q(offer_id__icontains=search) | Q(title__icontains=search) | Q(product__article__icontains=search)
        )
    return listings


def product_get(product_id: int) -> Product | None:
    return Product.objects.filter(pk=product_id).first()
