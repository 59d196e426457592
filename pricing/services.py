"""Price and promotion changes: the write side the UI and API call.

A change is an outbox row (integrations.outbox), which is also its audit record (who, when,
old -> new). `Price` itself is not touched here: it changes when the next prices sync reads the
new value back, and the UI shows the pending outbox value meanwhile (`pending_prices`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Listing
from core.money import CENT, RUB, quantize
from integrations import outbox
from integrations.models import OutboxChange
from pricing.models import Price, Promotion, PromotionOffer, RepricingRule

HUNDRED = Decimal(100)


class PriceChangeError(ValueError):
    """A change the guards refuse. The message says why and how to proceed."""


# ---------------------------------------------------------------------------------------------
# Guards


def min_margin_percent(listing: Listing) -> Decimal:
    """The minimum margin for a listing: its own enabled repricing rule, else its product's,
    else settings.PRICE_MIN_MARGIN_PERCENT (default 0: never below cost)."""
    rule = (
        RepricingRule.objects.filter(enabled=True, min_margin_percent__isnull=False)
        .filter(Q(listing=listing) | Q(product_id=listing.product_id, listing__isnull=True, product__isnull=False))
        .order_by("listing_id")  # NULLs last: a listing rule beats a product rule
        .values_list("min_margin_percent", flat=True)
        .first()
    )
    if rule is not None:
        return Decimal(rule)
    return Decimal(str(getattr(settings, "PRICE_MIN_MARGIN_PERCENT", "0")))


def min_margin_percents(listings: Iterable[Listing]) -> dict[int, Decimal]:
    """min_margin_percent of many listings in one query: {listing id: percent}."""
    chosen = list(listings)
    default = Decimal(str(getattr(settings, "PRICE_MIN_MARGIN_PERCENT", "0")))
    by_listing: dict[int, Decimal] = {}
    by_product: dict[int, Decimal] = {}
    rules = (
        RepricingRule.objects.filter(enabled=True, min_margin_percent__isnull=False)
        .filter(Q(listing__in=[x.pk for x in chosen])
                | Q(product_id__in={x.product_id for x in chosen if x.product_id}, listing__isnull=True))
        .order_by("pk")
        .values_list("listing_id", "product_id", "min_margin_percent")
    )
    for listing_id, product_id, percent in rules:
        if percent is None:  # excluded by the filter; keeps the type checker sure of it
            continue
        if listing_id is not None:
            by_listing.setdefault(listing_id, Decimal(percent))
        elif product_id is not None:
            by_product.setdefault(product_id, Decimal(percent))
    return {
        x.pk: by_listing.get(x.pk, by_product.get(x.product_id, default) if x.product_id else default)
        for x in chosen
    }


def price_floor(cost_price: Decimal | None, margin_percent: Decimal) -> Decimal | None:
    """Lowest price keeping `margin_percent` of the price above cost: cost / (1 - m/100)."""
    if cost_price is None:
        return None
    if margin_percent >= HUNDRED:
        raise PriceChangeError("a minimum margin of 100% or more cannot be met by any price")
    floor = cost_price / (1 - margin_percent / HUNDRED)
    return floor.quantize(CENT, rounding=ROUND_CEILING)


def margin_percent(price: Decimal, cost_price: Decimal | None) -> Decimal | None:
    if cost_price is None or price <= 0:
        return None
    return quantize((price - cost_price) / price * HUNDRED)


def _parse_price(value: Any, what: str = "price") -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise PriceChangeError(f"{what} {value!r} is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise PriceChangeError(f"{what} must be greater than zero")
    if amount != quantize(amount):
        raise PriceChangeError(f"{what} {amount} has more than two decimal places")
    return quantize(amount)


def _optional_price(value: Any, what: str) -> Decimal | None:
    return None if value in (None, "") else _parse_price(value, what)


# ---------------------------------------------------------------------------------------------
# Preview


@dataclass(frozen=True)
class PricePreview:
    listing: Listing
    new_price: Decimal
    old_price: Decimal | None  # what the marketplace shows now (last read)
    pending_price: Decimal | None  # a change not yet confirmed by a read-back
    cost_price: Decimal | None
    margin: Decimal | None
    margin_percent: Decimal | None
    floor_price: Decimal | None
    problem: str = ""  # why the guard refuses it without force; "" when allowed

    @property
    def allowed(self) -> bool:
        return not self.problem

    @property
    def changes(self) -> bool:
        return self.new_price != (self.pending_price or self.old_price)


def _listings_with_prices(listing_ids: Iterable[int]) -> dict[int, Listing]:
    listings = Listing.objects.filter(pk__in=list(listing_ids)).select_related("product", "price", "account")
    return {listing.pk: listing for listing in listings}


def pending_prices(listing_ids: Iterable[int]) -> dict[int, Decimal]:
    """The newest undelivered or unconfirmed price change per listing (what the UI shows as pending)."""
    rows = (
        OutboxChange.objects.filter(
            listing_id__in=list(listing_ids),
            kind=OutboxChange.Kind.PRICE,
            confirmed_at__isnull=True,
            status__in=(
                OutboxChange.Status.PENDING,
                OutboxChange.Status.SENDING,
                OutboxChange.Status.SENT,
                OutboxChange.Status.APPLIED,
            ),
        )
        .order_by("listing_id", "-id")
        .distinct("listing_id")
        .values_list("listing_id", "payload")
    )
    return {listing_id: Decimal(str(payload["price"])) for listing_id, payload in rows if listing_id}


def _current_price(listing: Listing) -> Price | None:
    try:
        return listing.price
    except Price.DoesNotExist:
        return None


def _preview(
    listing: Listing, new_price: Decimal, pending: Decimal | None, margin: Decimal | None = None
) -> PricePreview:
    current = _current_price(listing)
    old = current.price if current else None
    cost = listing.product.cost_price if listing.product else None
    floor = price_floor(cost, min_margin_percent(listing) if margin is None else margin)
    problem = ""
    if floor is not None and new_price < floor:
        problem = (
            f"{new_price} is below the floor {floor} (cost {cost} plus the minimum margin); "
            "confirm to push it anyway"
        )
    max_drop = Decimal(str(getattr(settings, "PRICE_MAX_DROP_RATIO", "3")))
    reference = pending or old
    if not problem and reference and max_drop > 0 and new_price * max_drop <= reference:
        # WB quarantines a price cut to a third or less; others usually mean a typo.
        problem = f"{new_price} is {max_drop}x or more below the current {reference}; confirm to push it anyway"
    return PricePreview(
        listing=listing,
        new_price=new_price,
        old_price=old,
        pending_price=pending,
        cost_price=cost,
        margin=None if cost is None else new_price - cost,
        margin_percent=margin_percent(new_price, cost),
        floor_price=floor,
        problem=problem,
    )


def preview_price_changes(changes: Mapping[Any, Any] | Iterable[tuple[Listing | int, Any]]) -> list[PricePreview]:
    """What would change (old -> new, margin, guard verdict) for {listing or id: new price}. No writes."""
    items = list(changes.items()) if isinstance(changes, Mapping) else list(changes)
    parsed = [(listing if isinstance(listing, int) else listing.pk, _parse_price(price)) for listing, price in items]
    listings = _listings_with_prices(listing_id for listing_id, _ in parsed)
    pending = pending_prices(listings)
    margins = min_margin_percents(listings.values())
    previews = []
    for listing_id, new_price in parsed:
        if listing_id not in listings:
            raise PriceChangeError(f"listing {listing_id} does not exist")
        previews.append(_preview(listings[listing_id], new_price, pending.get(listing_id), margins[listing_id]))
    return previews


# ---------------------------------------------------------------------------------------------
# Changes


def _price_change(
    preview: PricePreview, *, old_price: Decimal | None, min_price: Decimal | None
) -> outbox.NewChange:
    listing = preview.listing
    current = _current_price(listing)
    if old_price is not None and old_price <= preview.new_price:
        raise PriceChangeError("the crossed-out price must be higher than the price")
    if min_price is not None and min_price > preview.new_price:
        raise PriceChangeError("the minimum price cannot be higher than the price")
    if min_price is None and current is not None and current.min_price is not None:
        # Sent again with every change: Yandex Market deletes a bestseller minimum the update leaves out.
        # Not when the new price is below it (the same guard as a minimum set now).
        min_price = current.min_price if current.min_price <= preview.new_price else None
    currency = (current.currency if current else None) or (listing.product.currency if listing.product else RUB)
    payload = {
        "price": str(preview.new_price),
        "currency": currency,
        "old_price": None if old_price is None else str(old_price),
        "min_price": None if min_price is None else str(min_price),
        "discount_percent": current.discount_percent if current else None,
        "offer_id": listing.offer_id,
        "listing_external_id": listing.external_id,
    }
    previous: dict[str, Any] = {}
    if current is not None:
        previous = {
            "price": str(current.price),
            "currency": current.currency,
            "old_price": None if current.old_price is None else str(current.old_price),
            "min_price": None if current.min_price is None else str(current.min_price),
        }
    if preview.pending_price is not None:
        previous["pending_price"] = str(preview.pending_price)
    return outbox.NewChange(
        kind=OutboxChange.Kind.PRICE,
        target_key=outbox.price_key(listing.external_id),
        payload=payload,
        previous=previous,
        listing_id=listing.pk,
    )


def change_prices(
    changes: Mapping[Any, Any] | Iterable[tuple[Listing | int, Any]], *, user: Any, force: bool = False
) -> list[OutboxChange]:
    """Several price changes in one transaction, all or none: any guard refusal (without force)
    refuses the whole set. Returns the outbox rows, one per listing."""
    previews = preview_price_changes(changes)
    refused = [p for p in previews if not p.allowed]
    if refused and not force:
        raise PriceChangeError("; ".join(f"{p.listing.offer_id}: {p.problem}" for p in refused))
    by_account: dict[int, list[PricePreview]] = {}
    for preview in previews:
        by_account.setdefault(preview.listing.account_id, []).append(preview)
    rows: list[OutboxChange] = []
    with transaction.atomic():
        for group in by_account.values():
            new = [_price_change(p, old_price=None, min_price=None) for p in group]
            rows += outbox.record_changes(group[0].listing.account, new, user=user)
    return rows


def change_price(
    listing: Listing,
    new_price: Any,
    *,
    user: Any,
    old_price: Any = None,
    min_price: Any = None,
    force: bool = False,
) -> OutboxChange:
    """Set a listing's price (and optionally the crossed-out and minimum prices) on its marketplace.

    Refused below cost + minimum margin, or for a cut to a third or less, unless force=True."""
    preview = preview_price_changes([(listing, new_price)])[0]
    if not preview.allowed and not force:
        raise PriceChangeError(preview.problem)
    change = _price_change(
        preview,
        old_price=_optional_price(old_price, "crossed-out price"),
        min_price=_optional_price(min_price, "minimum price"),
    )
    return outbox.record_changes(preview.listing.account, [change], user=user)[0]


def rollback_price_change(outbox_change: OutboxChange, user: Any, *, force: bool = False) -> OutboxChange:
    """A new change back to the price the marketplace showed before `outbox_change`."""
    if outbox_change.kind != OutboxChange.Kind.PRICE:
        raise PriceChangeError("only price changes can be rolled back here")
    previous_price = (outbox_change.previous or {}).get("price")
    if previous_price is None or outbox_change.listing is None:
        raise PriceChangeError("this change has no previous price to return to")
    previous = outbox_change.previous
    return change_price(
        outbox_change.listing,
        previous_price,
        user=user,
        old_price=previous.get("old_price"),
        min_price=previous.get("min_price"),
        force=force,
    )


# ---------------------------------------------------------------------------------------------
# Promotions


def _known_offers(promotion: Promotion, listings: list[Listing]) -> dict[int, PromotionOffer]:
    offers = PromotionOffer.objects.filter(promotion=promotion, listing__in=listings)
    return {offer.listing_id: offer for offer in offers if offer.listing_id is not None}


def _offer_key(listing: Listing, offer: PromotionOffer | None) -> str:
    """How the marketplace names the listing in the promotion (default: its external id)."""
    return offer.offer_key if offer is not None and offer.offer_key else listing.external_id


def _check_promotion(promotion: Promotion, listings: Iterable[Listing]) -> None:
    if promotion.ends_at is not None and promotion.ends_at <= timezone.now():
        raise PriceChangeError(f"the promotion «{promotion.title}» has ended")
    foreign = [listing.offer_id for listing in listings if listing.account_id != promotion.account_id]
    if foreign:
        raise PriceChangeError(f"not listings of the promotion's account: {', '.join(foreign)}")


def join_promotion(
    promotion: Promotion,
    offers: Mapping[Listing, Any] | Iterable[tuple[Listing, Any]],
    user: Any,
    *,
    force: bool = False,
) -> list[OutboxChange]:
    """Join listings to a promotion at their action prices ({listing: action price or None}).

    An action price above the promotion's maximum, or below cost + minimum margin, is refused
    unless force=True."""
    items = list(offers.items()) if isinstance(offers, Mapping) else list(offers)
    listings = [listing for listing, _ in items]
    _check_promotion(promotion, listings)
    known = _known_offers(promotion, listings)
    problems, changes = [], []
    for listing, raw_price in items:
        action_price = _optional_price(raw_price, "action price")
        offer = known.get(listing.pk)
        offer_key = _offer_key(listing, offer)
        if action_price is not None:
            if offer and offer.max_action_price is not None and action_price > offer.max_action_price:
                problems.append(f"{listing.offer_id}: {action_price} is above the promotion's {offer.max_action_price}")
            cost = listing.product.cost_price if listing.product else None
            floor = price_floor(cost, min_margin_percent(listing))
            if floor is not None and action_price < floor:
                problems.append(f"{listing.offer_id}: {action_price} is below the floor {floor}")
        changes.append(
            outbox.NewChange(
                kind=OutboxChange.Kind.PROMO_JOIN,
                target_key=outbox.promotion_key(promotion.external_id, offer_key),
                payload={
                    "promotion_external_id": promotion.external_id,
                    "offer_key": offer_key,
                    "action_price": None if action_price is None else str(action_price),
                    "offer_id": listing.offer_id,
                },
                previous=_offer_state(offer),
                listing_id=listing.pk,
            )
        )
    if problems and not force:
        raise PriceChangeError("; ".join(problems) + "; confirm to push anyway")
    return outbox.record_changes(promotion.account, changes, user=user)


def leave_promotion(promotion: Promotion, listings: Iterable[Listing], user: Any) -> list[OutboxChange]:
    listing_list = list(listings)
    _check_promotion(promotion, listing_list)
    known = _known_offers(promotion, listing_list)
    changes = [
        outbox.NewChange(
            kind=OutboxChange.Kind.PROMO_LEAVE,
            target_key=outbox.promotion_key(promotion.external_id, _offer_key(listing, known.get(listing.pk))),
            payload={
                "promotion_external_id": promotion.external_id,
                "offer_key": _offer_key(listing, known.get(listing.pk)),
                "offer_id": listing.offer_id,
            },
            previous=_offer_state(known.get(listing.pk)),
            listing_id=listing.pk,
        )
        for listing in listing_list
    ]
    return outbox.record_changes(promotion.account, changes, user=user)


def _offer_state(offer: PromotionOffer | None) -> dict[str, Any]:
    if offer is None:
        return {}
    return {
        "status": offer.status,
        "action_price": None if offer.action_price is None else str(offer.action_price),
    }
