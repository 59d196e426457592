"""The promotions desk: each marketplace's promotions, their eligible and joined cards with the
margin at the promotion price, and joining or leaving in bulk through the outbox.

What each marketplace's API allows is asked of its adapter class (integrations.registry): Wildberries
sets the promotion price itself and has no method to take goods out of a calendar promotion.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.models import Listing
from catalog.statuses import CHANGE_IN_PROGRESS, RETRYABLE, StateLabel, change_label
from core.audit import audit_record
from core.pagination import Sort, Sorts
from core.templatetags.formatting import format_money
from integrations import outbox, registry
from integrations.models import MarketplaceAccount, OutboxChange
from notifications import producers
from pricing import services
from pricing.floors import CardMoney, card_money
from pricing.models import Promotion, PromotionOffer

PROMO_KINDS = (OutboxChange.Kind.PROMO_JOIN, OutboxChange.Kind.PROMO_LEAVE)
RESULTS_SHOWN = 20
MAX_SELECTION = 500  # cards per bulk action (one marketplace request at most)

PROMOTION_SORTS = Sorts(Promotion, [
    Sort("newest", gettext_lazy("Newest first"), ("-id",)),
    Sort("title", gettext_lazy("Title"), ("title", "id")),
])
OFFER_SORTS = Sorts(PromotionOffer, [Sort("key", gettext_lazy("Marketplace id"), ("offer_key", "id"))])


class BelowFloorError(services.PriceChangeError):
    """Some chosen cards would sell below their break-even floor: joining needs a written reason."""

    def __init__(self, message: str, listing_ids: list[int]) -> None:
        super().__init__(message)
        self.listing_ids = listing_ids


# ---------------------------------------------------------------------------------------------
# What the marketplace allows


def leave_supported(marketplace: str) -> bool:
    return bool(getattr(registry.client_class(marketplace), "promotion_leave_supported", True))


def price_settable(marketplace: str) -> bool:
    return bool(getattr(registry.client_class(marketplace), "promotion_price_settable", True))


def leave_unsupported_message(account: MarketplaceAccount) -> str:
    return _("%(marketplace)s has no API method to take goods out of a promotion: remove them in the "
             "marketplace's seller cabinet.") % {"marketplace": account.get_marketplace_display()}


# ---------------------------------------------------------------------------------------------
# Reads


def promotion_list() -> QuerySet[Promotion]:
    return Promotion.objects.select_related("account")


def offer_counts(promotion_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """{promotion id: {"eligible": n, "participating": n}} in one grouped query."""
    rows = (PromotionOffer.objects.filter(promotion_id__in=list(promotion_ids))
            .values("promotion_id", "status").annotate(n=Count("id")).order_by())
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"eligible": 0, "participating": 0})
    for row in rows:
        counts[row["promotion_id"]][row["status"]] = row["n"]
    return counts


def promotion_offers(promotion: Promotion, status: str) -> QuerySet[PromotionOffer]:
    return (PromotionOffer.objects.filter(promotion=promotion, status=status)
            .select_related("listing__product", "listing__price", "listing__account__legal_entity_link__legal_entity"))


# The promotion types the marketplaces name (Ozon action_type, WB calendar type, YM mechanics).
KIND_LABELS = {
    "DISCOUNT": gettext_lazy("Discount"),
    "STOCK_DISCOUNT": gettext_lazy("Discount on stock"),
    "MARKDOWN_DISCOUNT": gettext_lazy("Markdown"),
    "regular": gettext_lazy("Calendar promotion"),
    "auto": gettext_lazy("Automatic promotion"),
    "DIRECT_DISCOUNT": gettext_lazy("Direct discount"),
    "BLUE_FLASH": gettext_lazy("Flash sale"),
    "MARKET_PROMOCODE": gettext_lazy("Promo code"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind or "—"))


def promotion_state(promotion: Promotion) -> StateLabel:
    now = timezone.now()
    if promotion.ends_at is not None and promotion.ends_at <= now:
        return StateLabel(gettext_lazy("ended"), "muted")
    if promotion.starts_at is not None and promotion.starts_at > now:
        return StateLabel(gettext_lazy("upcoming"), "muted")
    return StateLabel(gettext_lazy("running"), "good")


@dataclass
class OfferRow:
    offer: PromotionOffer
    listing: Listing | None
    current_price: Decimal | None
    promo_price: Decimal | None
    money: CardMoney | None
    last_change: OutboxChange | None
    economics_url: str = ""  # the card's economics at the promotion price

    @property
    def change_label(self) -> StateLabel | None:
        return change_label(self.last_change.status) if self.last_change else None

    @property
    def below_floor(self) -> bool:
        return bool(self.money and self.money.below_floor)

    @property
    def discount_percent(self) -> Decimal | None:
        if not self.current_price or not self.promo_price:
            return None
        return ((self.current_price - self.promo_price) / self.current_price * 100).quantize(Decimal(1))


def promo_price(offer: PromotionOffer) -> Decimal | None:
    """The price the card sells at in the promotion: the one set, else the highest it may have."""
    return offer.action_price if offer.action_price is not None else offer.max_action_price


def _latest_changes(promotion: Promotion, offer_keys: Iterable[str]) -> dict[str, OutboxChange]:
    keys = [outbox.promotion_key(promotion.external_id, key) for key in offer_keys]
    rows = (OutboxChange.objects.filter(account_id=promotion.account_id, kind__in=PROMO_KINDS, target_key__in=keys)
            .order_by("target_key", "-id").distinct("target_key"))
    return {row.target_key.partition("|")[2]: row for row in rows}


URL_PLACEHOLDER = 987654321


def offer_rows(promotion: Promotion, offers: list[PromotionOffer]) -> list[OfferRow]:
    """A page of offers with the economics at the promotion price (seven queries, any page size)."""
    listings = [offer.listing for offer in offers if offer.listing is not None]
    prices = {offer.listing_id: promo_price(offer) for offer in offers if offer.listing_id}
    money = card_money(listings, prices) if listings else {}
    changes = _latest_changes(promotion, [offer.offer_key for offer in offers])
    # One reverse() for the page, not one per row: the card's id goes where the placeholder was.
    head, _sep, tail = reverse("pricing:card_economics", args=[URL_PLACEHOLDER]).partition(str(URL_PLACEHOLDER))
    rows = []
    for offer in offers:
        listing = offer.listing
        current = getattr(getattr(listing, "price", None), "price", None) if listing else None
        price = promo_price(offer)
        url = f"{head}{listing.pk}{tail}" + (f"?price={price}" if price is not None else "") if listing else ""
        rows.append(OfferRow(offer, listing, current or offer.base_price, price,
                             money.get(offer.listing_id) if offer.listing_id else None,
                             changes.get(offer.offer_key), url))
    return rows


@dataclass
class ChangeResult:
    change: OutboxChange
    label: StateLabel
    retryable: bool
    newest: bool = False  # the card's newest change here: its row's result column shows it


def promotion_changes(promotion: Promotion, limit: int = RESULTS_SHOWN) -> list[ChangeResult]:
    """The newest joins and leaves of the promotion with their per-item results."""
    rows = (OutboxChange.objects.filter(account_id=promotion.account_id, kind__in=PROMO_KINDS,
                                        payload__promotion_external_id=promotion.external_id)
            .select_related("created_by").order_by("-id")[:limit])
    seen: set[int | None] = set()
    results = []
    for row in rows:
        results.append(ChangeResult(row, change_label(row.status), row.status in RETRYABLE, row.listing_id not in seen))
        seen.add(row.listing_id)
    return results


def in_progress(results: Iterable[ChangeResult]) -> bool:
    return any(result.change.status in CHANGE_IN_PROGRESS for result in results)


# ---------------------------------------------------------------------------------------------
# Writes


def _promotion_listings(promotion: Promotion, listing_ids: Iterable[int]) -> list[Listing]:
    ids = list(dict.fromkeys(listing_ids))
    if not ids:
        raise services.PriceChangeError(_("Choose at least one card."))
    if len(ids) > MAX_SELECTION:
        raise services.PriceChangeError(_("At most %(n)s cards at once.") % {"n": MAX_SELECTION})
    listings = list(Listing.objects.filter(pk__in=ids, account_id=promotion.account_id).select_related("product"))
    if len(listings) != len(ids):
        raise services.PriceChangeError(_("Some of the chosen cards do not belong to this promotion's account."))
    return listings


def join_cards(promotion: Promotion, prices: Mapping[int, Decimal | None], user: Any, *,
               below_floor_reason: str = "") -> list[OutboxChange]:
    """Join cards ({listing id: promotion price}) through the outbox. A card whose promotion price is
    below its break-even floor is refused unless a reason is written (kept in the audit trail);
    joining it anyway raises the promotion's below-floor alert."""
    listings = _promotion_listings(promotion, prices)
    settable = price_settable(promotion.account.marketplace)
    offers = {o.listing_id: o for o in PromotionOffer.objects.filter(promotion=promotion, listing__in=listings)}
    effective: dict[int, Decimal | None] = {}
    for listing in listings:
        offer = offers.get(listing.pk)
        given = prices.get(listing.pk)
        effective[listing.pk] = given if settable and given is not None else (promo_price(offer) if offer else None)
    money = card_money(listings, effective)
    below = [listing for listing in listings if money[listing.pk].below_floor]
    reason = below_floor_reason.strip()
    if below and not reason:
        problems = "; ".join(
            _("%(article)s: %(price)s is below the floor %(floor)s") % {
                "article": listing.offer_id, "price": format_money(effective[listing.pk]),
                "floor": format_money(money[listing.pk].floor)}
            for listing in below)
        raise BelowFloorError(
            _("Below the break-even floor: %(problems)s. Write why to join anyway.") % {"problems": problems},
            [listing.pk for listing in below])
    items = [(listing, effective[listing.pk] if settable else None) for listing in listings]
    with transaction.atomic():
        rows = services.join_promotion(promotion, items, user, force=bool(reason))
        if below:
            audit_record(action="pricing.promotion_join_below_floor", actor=user, obj=promotion, details={
                "reason": reason,
                "cards": {listing.offer_id: {"price": effective[listing.pk], "floor": money[listing.pk].floor}
                          for listing in below},
            })
            stake = sum(((money[listing.pk].floor or Decimal(0)) - (effective[listing.pk] or Decimal(0))
                         for listing in below), Decimal(0))
            producers.promotion_below_floor(promotion, len(below), stake)
    return rows


def leave_cards(promotion: Promotion, listing_ids: Iterable[int], user: Any) -> list[OutboxChange]:
    if not leave_supported(promotion.account.marketplace):
        raise services.PriceChangeError(leave_unsupported_message(promotion.account))
    return services.leave_promotion(promotion, _promotion_listings(promotion, listing_ids), user)


def retry_promotion_change(change: OutboxChange, user: Any) -> OutboxChange:
    """An undelivered change goes back in the queue; a rejected one is sent again as a new change."""
    if change.kind not in PROMO_KINDS:
        raise services.PriceChangeError(_("Only promotion changes can be sent again here."))
    if change.status == OutboxChange.Status.FAILED:
        try:
            return outbox.retry_change(change, user=user)
        except outbox.OutboxError as error:
            raise services.PriceChangeError(str(error)) from error
    if change.status != OutboxChange.Status.REJECTED:
        raise services.PriceChangeError(_("Only a rejected or undelivered change can be sent again."))
    with transaction.atomic():
        return outbox.record_change(change.account, change.kind, change.target_key, dict(change.payload),
                                    previous=dict(change.previous), user=user, listing_id=change.listing_id)
