"""Reads for the prices page."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from pricing.models import Price


def price_list(*, marketplace: str = "", search: str = "") -> QuerySet[Price]:
    prices = Price.objects.select_related("listing__account", "listing__product").order_by(
        "listing__offer_id", "listing__account__name"
    )
    if marketplace:
        prices = prices.filter(listing__account__marketplace=marketplace)
    if search:
        prices = prices.filter(Q(listing__offer_id__icontains=search) | Q(listing__title__icontains=search))
    return prices
