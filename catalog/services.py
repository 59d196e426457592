"""Catalogue changes the UI and API call: stock, listing content, manual product links.

Stock and content changes go to the marketplace through the outbox (integrations.outbox); the
local StockLevel / Listing rows change when the next sync reads the new values back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from catalog.models import Listing, Product, StockLevel, Warehouse
from core.audit import audit_record
from core.models import AuditEvent
from integrations import outbox
from integrations.models import OutboxChange

MAX_STOCK = 1_000_000


class CatalogChangeError(ValueError):
    """A change that cannot be made; the message says why."""


def _variant_ids(listing: Listing) -> list[str]:
    """Size-level ids a marketplace keeps stock by; empty when stock is per listing."""
    ids = []
    for variant in listing.variants or []:
        if isinstance(variant, dict):
            value = variant.get("id")
            if value:
                ids.append(str(value))
    return ids


def _whole_number(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if isinstance(value, bool) or not text.lstrip("-").isdigit():
        raise CatalogChangeError(f"quantity {value!r} is not a whole number")
    return int(text)


def set_stock(
    listing: Listing, warehouse: Warehouse, quantity: Any, user: Any, *, variant_id: str = ""
) -> OutboxChange:
    """Set the available quantity of a listing on one of the seller's own warehouses.

    A listing with sizes (WB) keeps stock per size: `variant_id` names the size (needed when there
    are several), and the change's target is that size, as the read-back reports it."""
    amount = _whole_number(quantity)
    variants = _variant_ids(listing)
    if variant_id and variant_id not in variants:
        raise CatalogChangeError(f"the listing has no size {variant_id!r}")
    if len(variants) > 1 and not variant_id:
        raise CatalogChangeError("this card has several sizes: choose the size to set the stock of")
    variant = variant_id or (variants[0] if variants else "")
    key = outbox.stock_key(listing.external_id, warehouse.external_id, variant)
    if not 0 <= amount <= MAX_STOCK:
        raise CatalogChangeError(f"quantity must be between 0 and {MAX_STOCK}")
    if warehouse.account_id != listing.account_id:
        raise CatalogChangeError("the warehouse belongs to another marketplace account")
    if warehouse.kind != Warehouse.Kind.SELLER:
        raise CatalogChangeError("stock on a marketplace (FBO) warehouse is managed by the marketplace")
    if not warehouse.is_active:
        raise CatalogChangeError(f"the warehouse «{warehouse.name}» is not active")
    level = StockLevel.objects.filter(listing=listing, warehouse=warehouse, variant_id=variant).first()
    return outbox.record_change(
        listing.account,
        OutboxChange.Kind.STOCK,
        key,
        {
            "quantity": amount,
            "offer_id": listing.offer_id,
            "listing_external_id": listing.external_id,
            "warehouse_external_id": warehouse.external_id,
            "variant_id": variant,
        },
        previous={"quantity": level.present} if level else {},
        user=user,
        listing_id=listing.pk,
    )


def _pending_content(listing: Listing) -> dict[str, Any]:
    row = (
        OutboxChange.objects.filter(
            listing=listing,
            kind=OutboxChange.Kind.LISTING_CONTENT,
            status__in=(OutboxChange.Status.PENDING, OutboxChange.Status.SENDING, OutboxChange.Status.FAILED),
        )
        .order_by("-id")
        .first()
    )
    return row.payload if row else {}


def update_listing_content(
    listing: Listing, title: str | None = None, description: str | None = None, user: Any = None
) -> OutboxChange:
    """Change a listing's title and/or description (None keeps the value).

    Each row carries the full desired title and description, so coalescing (newest row wins)
    never drops an earlier edit of the other field that has not been delivered yet."""
    if title is None and description is None:
        raise CatalogChangeError("nothing to change: give a title or a description")
    if title is not None:
        title = " ".join(title.split())
        if not title:
            raise CatalogChangeError("the title cannot be empty")
        if len(title) > Listing._meta.get_field("title").max_length:  # type: ignore[operator]
            raise CatalogChangeError("the title is too long")
    with transaction.atomic():
        pending = _pending_content(listing)
        new_title = title if title is not None else pending.get("title", listing.title)
        if description is not None:
            new_description = description.strip()
        else:
            new_description = pending.get("description", listing.description)
        change = outbox.record_change(
            listing.account,
            OutboxChange.Kind.LISTING_CONTENT,
            outbox.content_key(listing.external_id),
            _content_payload(listing, new_title, new_description),
            previous={"title": listing.title, "description": listing.description},
            user=user,
            listing_id=listing.pk,
        )
        audit_record(
            action="listing.content", actor=user, obj=listing,
            details={"change": change.pk, "title": new_title != listing.title,
                     "description": new_description != listing.description},
        )
    return change


def _content_payload(listing: Listing, title: str, description: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "offer_id": listing.offer_id,
        "listing_external_id": listing.external_id,
    }


def resend_listing_content(listings: Sequence[Listing], user: Any) -> list[OutboxChange]:
    """Push the cards' current title and description again (a bulk action of the catalogue): after a
    change made in the marketplace's own cabinet, or a rejection fixed there. One outbox row and one
    audit row per card; one transaction for all."""
    by_account: dict[int, list[Listing]] = defaultdict(list)
    for listing in listings:
        by_account[listing.account_id].append(listing)
    rows: list[OutboxChange] = []
    with transaction.atomic():
        for group in by_account.values():
            changes = [
                outbox.NewChange(
                    OutboxChange.Kind.LISTING_CONTENT,
                    outbox.content_key(listing.external_id),
                    _content_payload(listing, listing.title, listing.description),
                    {"title": listing.title, "description": listing.description},
                    listing.pk,
                )
                for listing in group
            ]
            rows += outbox.record_changes(group[0].account, changes, user=user)
        for row, in_order in zip(rows, [x for group in by_account.values() for x in group], strict=True):
            audit_record(action="listing.content.resend", actor=user, obj=in_order, details={"change": row.pk})
    return rows


def retry_content_change(change: OutboxChange, user: Any) -> OutboxChange:
    """The result panel's retry: a change that was not delivered goes back in the queue; one the
    marketplace rejected is sent again as a new change (after a fix made on the marketplace's side)."""
    if change.kind != OutboxChange.Kind.LISTING_CONTENT or change.listing_id is None:
        raise CatalogChangeError("only a card's content change can be retried here")
    if change.status == OutboxChange.Status.FAILED:
        try:
            return outbox.retry_change(change, user=user)
        except outbox.OutboxError as error:
            raise CatalogChangeError(str(error)) from error
    if change.status != OutboxChange.Status.REJECTED:
        raise CatalogChangeError("only a rejected or undelivered change can be sent again")
    listing = Listing.objects.select_related("account").get(pk=change.listing_id)
    with transaction.atomic():
        row = outbox.record_change(
            listing.account,
            OutboxChange.Kind.LISTING_CONTENT,
            change.target_key,
            dict(change.payload),
            previous=dict(change.previous),
            user=user,
            listing_id=listing.pk,
        )
        audit_record(action="listing.content.retry", actor=user, obj=listing,
                     details={"change": row.pk, "retry_of": change.pk})
    return row


def link_listing_to_product(listing: Listing, product: Product | None, user: Any) -> Listing:
    """Link a listing to a master product by hand (None: keep it unlinked). A manual link is
    never overridden by the automatic linking by article or barcode."""
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        before = locked.product_id
        locked.product = product
        locked.link_source = Listing.LinkSource.MANUAL
        locked.save(update_fields=["product", "link_source", "updated_at"])
        AuditEvent.objects.create(
            actor=user if getattr(user, "pk", None) else None,
            action="listing.link",
            object_type="catalog.listing",
            object_id=str(locked.pk),
            details={"from_product": before, "to_product": product.pk if product else None},
        )
    listing.product, listing.link_source = locked.product, locked.link_source
    return locked


def unlink_listings(listings: Sequence[Listing], user: Any) -> int:
    """Unlink several cards from their products at once (the catalogue's bulk action), in one
    transaction; each stays unlinked by hand, so the automatic linking leaves it alone."""
    with transaction.atomic():
        for listing in listings:
            link_listing_to_product(listing, None, user)
    return len(listings)
