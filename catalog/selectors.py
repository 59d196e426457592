"""Reads for the catalogue pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, Prefetch, QuerySet, Sum, Value
from django.db.models.functions import Greatest
from django.utils.translation import gettext_lazy as _

from catalog.models import Listing, Product, StockLevel
from catalog.statuses import CHANGE_IN_PROGRESS, RETRYABLE, StateLabel, change_label, state_label
from core.models import AuditEvent, Marketplace
from core.pagination import Sort, Sorts
from integrations.models import OutboxChange

# Each sort has its index (catalog.Listing.Meta.indexes); columns of the listing only.
LISTING_SORTS = Sorts(
    Listing,
    [
        Sort("article", _("Seller article"), ("offer_id", "id")),
        Sort("title", _("Title"), ("title", "id")),
        Sort("newest", _("Newest first"), ("-id",)),
    ],
)

# The catalogue of master products; each sort has its index (catalog.Product.Meta.indexes).
PRODUCT_SORTS = Sorts(
    Product,
    [
        Sort("article", _("Seller article"), ("article", "id")),
        Sort("name", _("Name"), ("name", "id")),
        Sort("newest", _("Newest first"), ("-id",)),
    ],
)

# Up to this many units available a product or card counts as running low.
LOW_STOCK = 5
# How many changes and events the product page's history shows.
HISTORY_LIMIT = 60


def listing_list() -> QuerySet[Listing]:
    """Listings with what each row shows; filters (catalog.filters) and the page narrow it."""
    return Listing.objects.select_related("account", "product", "price")


def product_get(product_id: int) -> Product | None:
    return Product.objects.filter(pk=product_id).first()


def product_list() -> QuerySet[Product]:
    return Product.objects.all()


def unlinked_listing_count() -> int:
    """Cards with no master product (the product index answers IS NULL)."""
    return Listing.objects.filter(product__isnull=True).count()


@dataclass
class CardRow:
    """One marketplace card as a catalogue row or the product page shows it."""

    listing: Listing
    state: StateLabel
    available: int | None  # units that can be sold, all warehouses; None: no stock rows read yet
    low: bool = False

    @property
    def marketplace(self) -> str:
        return self.listing.account.marketplace

    @property
    def image(self) -> str:
        images = self.listing.images or []
        return str(images[0]) if images and isinstance(images[0], str) else ""

    @property
    def images(self) -> list[str]:
        return [str(image) for image in self.listing.images or [] if isinstance(image, str)]

    @property
    def attributes(self) -> list[tuple[str, str]]:
        return attribute_pairs(self.listing.attributes)


def attribute_pairs(attributes: Any) -> list[tuple[str, str]]:
    """(name, value) of a card's attributes as each marketplace stores them: WB {"name", "value"},
    YM {"name", "value"}, Ozon {"id", "values": [{"value"}]} (Ozon names come with its dictionaries)."""
    pairs = []
    for attribute in attributes if isinstance(attributes, list) else []:
        if not isinstance(attribute, dict):
            continue
        name = attribute.get("name") or (f"#{attribute['id']}" if attribute.get("id") is not None else "")
        value = attribute.get("value")
        if value is None and isinstance(attribute.get("values"), list):
            value = [v.get("value") if isinstance(v, dict) else v for v in attribute["values"]]
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value if v not in (None, ""))
        pairs.append((str(name), "" if value is None else str(value)))
    return pairs


@dataclass
class ProductRow:
    product: Product
    cards: list[CardRow]
    by_marketplace: list[tuple[str, str, list[CardRow]]] = field(default_factory=list)

    @property
    def image(self) -> str:
        images = self.product.images or []
        if images and isinstance(images[0], str):
            return str(images[0])
        return next((card.image for card in self.cards if card.image), "")

    @property
    def problems(self) -> int:
        return sum(1 for card in self.cards if card.listing.marketplace_errors or card.listing.missing_since)


def _available(listing_ids: Sequence[int]) -> dict[int, int]:
    """Units available per listing (present − reserved over every warehouse and size), one query."""
    if not listing_ids:
        return {}
    rows = (
        StockLevel.objects.filter(listing_id__in=list(listing_ids))
        .order_by()
        .values("listing_id")
        # More reserved than present on a warehouse (orders not yet shipped out of it) sells nothing there.
        .annotate(available=Sum(Greatest(F("present") - F("reserved"), Value(0))))
    )
    return {row["listing_id"]: row["available"] or 0 for row in rows}


def card_rows(listings: Sequence[Listing]) -> list[CardRow]:
    stock = _available([listing.pk for listing in listings])
    rows = []
    for listing in listings:
        available = stock.get(listing.pk)
        rows.append(
            CardRow(listing, state_label(listing), available, low=available is not None and available <= LOW_STOCK)
        )
    return rows


def product_rows(products: Sequence[Product]) -> list[ProductRow]:
    """The page's products with their cards: one query for the cards (with account and price), one for
    their stock, whatever the number of rows."""
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(
        list(products),
        Prefetch(
            "listings",
            # The card's stored check score joins in the same query; its problems stay on the product page.
            queryset=Listing.objects.select_related("account", "price", "quality_check")
            .defer("quality_check__problems").order_by("account__name", "id"),
        ),
    )
    all_cards = card_rows([listing for product in products for listing in product.listings.all()])
    by_listing = {card.listing.pk: card for card in all_cards}
    rows = []
    for product in products:
        cards = [by_listing[listing.pk] for listing in product.listings.all()]
        grouped = [
            (code, str(label), [card for card in cards if card.marketplace == code])
            for code, label in Marketplace.choices
        ]
        rows.append(ProductRow(product, cards, grouped))
    return rows


# ---------------------------------------------------------------------------------------------
# The product page


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a card's history: who, when, what (old → new), result."""

    at: datetime
    who: str
    listing_id: int | None
    what: str
    old: str
    new: str
    result: StateLabel | None = None
    message: str = ""
    change_id: int | None = None


def _describe(values: dict[str, Any], kind: str) -> str:
    if not values:
        return ""
    if kind == OutboxChange.Kind.LISTING_CONTENT:
        parts = [str(values.get("title") or "")]
        if values.get("description"):
            parts.append(str(_("description: %(chars)s characters") % {"chars": len(str(values["description"]))}))
        if values.get("attributes") is not None:
            parts.append(str(_("characteristics: %(n)s") % {"n": len(values["attributes"])}))
        if values.get("images") is not None:
            parts.append(str(_("photos: %(n)s") % {"n": len(values["images"])}))
        return "; ".join(p for p in parts if p)
    if kind == OutboxChange.Kind.PRICE:
        return str(values.get("price", ""))
    if kind == OutboxChange.Kind.STOCK:
        size = values.get("variant_id")
        quantity = str(values.get("quantity", ""))
        return f"{quantity} ({size})" if size else quantity
    return ", ".join(f"{k}: {v}" for k, v in values.items() if k not in ("offer_id", "listing_external_id"))


KIND_WORDS = {
    OutboxChange.Kind.LISTING_CONTENT: _("Content"),
    OutboxChange.Kind.PRICE: _("Price"),
    OutboxChange.Kind.STOCK: _("Stock"),
}


def recent_changes(listing_ids: Sequence[int]) -> list[OutboxChange]:
    """The cards' newest pushed changes (content, price, stock…), newest first, in one query."""
    if not listing_ids:
        return []
    return list(
        OutboxChange.objects.filter(listing_id__in=list(listing_ids))
        .select_related("created_by")
        .order_by("-id")[:HISTORY_LIMIT]
    )


def card_history(listing_ids: Sequence[int], changes: Sequence[OutboxChange]) -> list[HistoryEntry]:
    """Outbox rows (content, price and stock pushes) and audit events (links) of the cards, newest first."""
    entries = []
    for change in changes:
        entries.append(
            HistoryEntry(
                at=change.created_at,
                who=change.created_by.get_username() if change.created_by else str(_("system")),
                listing_id=change.listing_id,
                what=str(KIND_WORDS.get(change.kind, change.get_kind_display())),
                old=_describe(change.previous, change.kind),
                new=_describe(change.payload, change.kind),
                result=change_label(change.status),
                message=change.error_message,
                change_id=change.pk,
            )
        )
    events = (
        AuditEvent.objects.filter(object_type="catalog.listing", object_id__in=[str(i) for i in listing_ids])
        .exclude(action__startswith="listing.content")  # content pushes: their outbox rows say it, with the result
        .select_related("actor")
        .order_by("-created_at")[:HISTORY_LIMIT]
    )
    products = {}
    event_list = list(events)
    wanted = {
        event.details.get(key)
        for event in event_list
        for key in ("from_product", "to_product")
        if isinstance(event.details, dict)
    } - {None}
    if wanted:
        products = dict(Product.objects.filter(pk__in=wanted).values_list("pk", "article"))
    for event in event_list:
        details = event.details if isinstance(event.details, dict) else {}
        old_id, new_id = details.get("from_product"), details.get("to_product")
        entries.append(
            HistoryEntry(
                at=event.created_at,
                who=event.actor.get_username() if event.actor else str(_("system")),
                listing_id=int(event.object_id) if event.object_id.isdigit() else None,
                what=str(_("Link to product")) if event.action == "listing.link" else event.action,
                old=products.get(old_id, "—") if old_id else "—",
                new=products.get(new_id, "—") if new_id else str(_("not linked")),
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:HISTORY_LIMIT]


@dataclass
class ContentResult:
    """The per-item result panel of a card: its latest content pushes."""

    changes: list[OutboxChange]

    @property
    def rows(self) -> list[tuple[OutboxChange, StateLabel, bool]]:
        """(change, its result in words, whether it can be sent again)."""
        return [
            (change, change_label(change.status), change.status in RETRYABLE) for change in self.changes
        ]

    @property
    def in_progress(self) -> bool:
        return any(change.status in CHANGE_IN_PROGRESS for change in self.changes)

    @property
    def awaiting_readback(self) -> OutboxChange | None:
        """The newest change still on its way or applied but not yet read back by the sync: the card's
        title and description will be these, so the edit form starts from them."""
        for change in self.changes:
            if change.status == "superseded":
                continue
            if change.status in CHANGE_IN_PROGRESS or (change.status == "applied" and change.confirmed_at is None):
                return change
            return None
        return None


def content_results(listing_ids: Sequence[int]) -> dict[int, ContentResult]:
    """Each card's last three content pushes, in one query."""
    changes = (
        OutboxChange.objects.filter(listing_id__in=list(listing_ids), kind=OutboxChange.Kind.LISTING_CONTENT)
        .select_related("created_by")
        .order_by("-id")[: 3 * max(len(listing_ids), 1)]
    )
    grouped: dict[int, list[OutboxChange]] = defaultdict(list)
    for change in changes:
        if change.listing_id is not None and len(grouped[change.listing_id]) < 3:
            grouped[change.listing_id].append(change)
    return {listing_id: ContentResult(grouped.get(listing_id, [])) for listing_id in listing_ids}
