"""Read-only unit economics of one card: price → every fee → tax → profit, margin and floor."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from core.roles import EVERYONE, require_role
from pricing.costs import CostError, parse_cost
from pricing.floors import card_economics_bulk

SCHEMES = ("fbo", "fbs", "rfbs", "dbs", "express")


@require_role(*EVERYONE)
def card_economics_view(request: HttpRequest, listing_id: int) -> HttpResponse:
    scheme = request.GET.get("scheme", "")
    price: Decimal | None = None
    price_problem = ""
    if request.GET.get("price"):
        try:
            price = parse_cost(request.GET["price"]) or None
        except CostError as exc:
            price_problem = str(exc)
    # The card with its product, price and legal entity in one query, then its inputs in five more.
    cards = card_economics_bulk([listing_id], prices={listing_id: price} if price is not None else None,
                                scheme=scheme if scheme in SCHEMES else None)
    card = cards.get(listing_id)
    if card is None:
        raise Http404
    return render(request, "pricing/card_economics.html", {
        "listing": card.listing, "card": card, "schemes": SCHEMES, "price_problem": price_problem,
    })
