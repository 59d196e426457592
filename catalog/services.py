"""Catalogue changes the UI and API call: stock, listing content, manual product links.

Stock and content changes go to the marketplace through the outbox (integrations.outbox); the
local StockLevel / Listing rows change when the next sync reads the new values back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils.translation import gettext as _

from catalog.models import CategoryAttribute, Listing, Product, StockLevel, Warehouse
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


# Photos a card may carry: Ozon pictures/import «up to 30», WB media «максимум — 30», YM pictures maxItems 30.
MAX_IMAGES = {"ozon": 30, "wildberries": 30, "yandex_market": 30}
MAX_ATTRIBUTE_VALUE = 5000

Attribute = tuple[str, str, str]  # (attribute external id, name, value text)


def update_listing_content(
    listing: Listing,
    title: str | None = None,
    description: str | None = None,
    user: Any = None,
    *,
    attributes: Sequence[Sequence[str]] | None = None,
    images: Sequence[str] | None = None,
) -> OutboxChange:
    """Change a listing's title, description, characteristics and/or photos (None keeps the value).

    `attributes`: the characteristics to set, (id, name, value) each; the others stay as the
    marketplace has them (YM and Ozon change only those sent; WB's whole card is merged by the adapter).
    Each row carries the full desired content (title, description, every characteristic edited and not
    delivered yet, the photo set), so coalescing (newest row wins) never drops an earlier edit."""
    if title is None and description is None and attributes is None and images is None:
        raise CatalogChangeError("nothing to change: give a title, a description, characteristics or photos")
    if title is not None:
        title = " ".join(title.split())
        if not title:
            raise CatalogChangeError("the title cannot be empty")
        if len(title) > Listing._meta.get_field("title").max_length:  # type: ignore[operator]
            raise CatalogChangeError("the title is too long")
    marketplace = listing.account.marketplace
    new_attributes = _clean_attributes(listing, attributes) if attributes is not None else None
    new_images = _clean_images(marketplace, images) if images is not None else None
    with transaction.atomic():
        pending = _pending_content(listing)
        new_title = title if title is not None else pending.get("title", listing.title)
        if description is not None:
            new_description = description.strip()
        else:
            new_description = pending.get("description", listing.description)
        if pending.get("attributes") is not None:
            # Characteristics edited earlier and not delivered yet stay; a newer value of one replaces it.
            given = {a[0] for a in new_attributes or ()}
            earlier = [(str(i), str(n), str(v)) for i, n, v in pending["attributes"] if str(i) not in given]
            new_attributes = earlier + list(new_attributes or ())
        if new_images is None and pending.get("images") is not None:
            new_images = list(pending["images"])
        payload = _content_payload(listing, new_title, new_description)
        previous: dict[str, Any] = {"title": listing.title, "description": listing.description}
        if new_attributes is not None:
            payload["attributes"] = [list(a) for a in new_attributes]
            previous["attributes"] = [list(a) for a in current_attributes(listing)]
        if new_images is not None:
            payload["images"] = new_images
            previous["images"] = image_urls(listing.images)
        change = outbox.record_change(
            listing.account,
            OutboxChange.Kind.LISTING_CONTENT,
            outbox.content_key(listing.external_id),
            payload,
            previous=previous,
            user=user,
            listing_id=listing.pk,
        )
        audit_record(
            action="listing.content", actor=user, obj=listing,
            details={"change": change.pk, "title": new_title != listing.title,
                     "description": new_description != listing.description,
                     "attributes": new_attributes is not None and payload["attributes"] != previous["attributes"],
                     "images": new_images is not None and new_images != previous["images"]},
        )
    return change


def image_urls(images: Any) -> list[str]:
    """A card's photo links in order, whatever shape the marketplace's read stored them in."""
    urls = []
    for image in images or []:
        url = image.get("url") or image.get("file_name") if isinstance(image, dict) else image
        if url:
            urls.append(str(url))
    return urls


def attribute_text(attribute: dict[str, Any]) -> str:
    """The value of a card's characteristic as text (Ozon values, WB value lists, YM value)."""
    if "values" in attribute:
        values = [str(v.get("value") or "") for v in attribute.get("values") or [] if isinstance(v, dict)]
    else:
        value = attribute.get("value")
        values = [str(v) for v in value] if isinstance(value, list) else [str(value if value is not None else "")]
    return ", ".join(v for v in values if v.strip())


def current_attributes(listing: Listing) -> list[Attribute]:
    """The card's characteristics as the marketplace has them: (id, name, value text); YM gives names only."""
    result = []
    for attribute in listing.attributes or []:
        if isinstance(attribute, dict):
            text = attribute_text(attribute)
            if text:
                result.append((str(attribute.get("id") or ""), str(attribute.get("name") or ""), text))
    return result


def _clean_attributes(listing: Listing, attributes: Sequence[Sequence[str]]) -> list[Attribute]:
    """Checked characteristics: ids of the category's dictionary when it is synced, text values."""
    known = dict(
        CategoryAttribute.objects.filter(
            category__marketplace=listing.account.marketplace, category__external_id=listing.category_id
        ).values_list("external_id", "name")
    ) if listing.category_id else {}
    cleaned: list[Attribute] = []
    seen = set()
    for item in attributes:
        if len(item) != 3:
            raise CatalogChangeError(_("A characteristic is given as (id, name, value)."))
        external_id, name, value = (str(x).strip() for x in item)
        if not external_id:
            raise CatalogChangeError(_("The characteristic «%(name)s» has no id.") % {"name": name})
        if known and external_id not in known:
            raise CatalogChangeError(
                _("The characteristic %(id)s is not in the card's category.") % {"id": external_id})
        if len(value) > MAX_ATTRIBUTE_VALUE:
            raise CatalogChangeError(_("The value of «%(name)s» is too long.") % {"name": name})
        if external_id in seen:
            raise CatalogChangeError(_("The characteristic %(id)s is given twice.") % {"id": external_id})
        seen.add(external_id)
        if value:
            cleaned.append((external_id, known.get(external_id) or name, value))
    return cleaned


def _clean_images(marketplace: str, images: Sequence[str]) -> list[str]:
    urls = [str(url).strip() for url in images if str(url).strip()]
    limit = MAX_IMAGES.get(marketplace, 30)
    if len(urls) > limit:
        raise CatalogChangeError(_("A card may have at most %(limit)s photos.") % {"limit": limit})
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in url):
            raise CatalogChangeError(_("A photo must be an https link: %(url)s") % {"url": url[:100]})
    if len(set(urls)) != len(urls):
        raise CatalogChangeError(_("The same photo is given twice."))
    return urls


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
