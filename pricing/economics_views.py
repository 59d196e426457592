"""Read-only unit economics of one card: price → every fee → tax → profit, margin and floor."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from catalog.models import Listing
from core.roles import EVERYONE, require_role
from pricing.costs import CostError, parse_cost
from pricing.fees import card_economics

SCHEMES = ("fbo", "fbs", "rfbs", "dbs", "express")


@require_role(*EVERYONE)
def card_economics_view(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = get_object_or_404(Listing.objects.select_related("account", "product"), pk=listing_id)
    scheme = request.GET.get("scheme", "")
    price: Decimal | None = None
    price_problem = ""
    if request.GET.get("price"):
        try:
            price = parse_cost(request.GET["price"]) or None
        except CostError as exc:
            price_problem = str(exc)
    card = card_economics(listing, price=price, scheme=scheme if scheme in SCHEMES else None)
    return render(request, "pricing/card_economics.html", {
        "listing": listing, "card": card, "schemes": SCHEMES, "price_problem": price_problem,
    })
