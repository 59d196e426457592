"""Bulk changes from an edited Excel/CSV file: content (title, description per card), stock (per card,
warehouse and size) or links (card -> product article).

Two steps. ``build_plan`` reads the whole file and validates every row before anything is written: any
error rejects the file as a whole, each error naming its row and column as Excel shows them; otherwise
the plan lists what will change (old -> new per row) for the user to confirm. ``apply_plan`` then makes
those changes in one transaction through the catalogue's services, so each change writes its outbox row
(pushed to the marketplace after commit) and the import its audit row; if any change fails, none stays.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog import sheets
from catalog.models import Listing, Product, StockLevel, Warehouse
from catalog.services import MAX_STOCK, CatalogChangeError, link_listing_to_product, set_stock, update_listing_content
from catalog.stock_page import read_only_reason, size_name
from core.audit import audit_record
from core.files import Table, column_letter, restore

TITLE_MAX_LENGTH: int = Listing._meta.get_field("title").max_length  # type: ignore[assignment]


class ImportKind(models.TextChoices):
    CONTENT = "content", gettext_lazy("Content: title and description of cards")
    STOCK = "stock", gettext_lazy("Stock on own warehouses")
    LINKS = "links", gettext_lazy("Links of cards to products")


# Columns each kind needs (the file may have more; they are ignored), and optional ones it reads.
REQUIRED = {
    ImportKind.CONTENT: [sheets.CARD_ID],
    ImportKind.STOCK: [sheets.CARD_ID, sheets.WAREHOUSE_ID, sheets.AVAILABLE],
    ImportKind.LINKS: [sheets.CARD_ID, sheets.PRODUCT_ARTICLE],
}
OPTIONAL = {
    ImportKind.CONTENT: [sheets.TITLE, sheets.DESCRIPTION],
    ImportKind.STOCK: [sheets.SIZE_ID],
    ImportKind.LINKS: [],
}


@dataclass(frozen=True)
class CellError:
    row: int
    column: str  # "C «Available»"; "" for the file as a whole
    message: str


@dataclass(frozen=True)
class Change:
    """One value that will change; ``values`` is what apply_plan needs (ids and the new value)."""

    row: int
    card: str
    what: str
    old: str
    new: str
    values: dict[str, Any]


@dataclass
class Plan:
    kind: str
    filename: str
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    errors: list[CellError] = field(default_factory=list)

    def stored(self) -> list[dict[str, Any]]:
        return [asdict(change) for change in self.changes]


class _Reader:
    """Finds the columns by their header names and reports errors by row and column."""

    def __init__(self, table: Table, kind: str, plan: Plan) -> None:
        self.plan = plan
        self.positions: dict[str, int] = {}
        self.headers: dict[str, str] = {}
        for index, text in enumerate(table.header):
            name = text.strip().casefold()
            for column in [*REQUIRED[ImportKind(kind)], *OPTIONAL[ImportKind(kind)]]:
                if name in column.names() and column.key not in self.positions:
                    self.positions[column.key] = index
                    self.headers[column.key] = f"{column_letter(index)} «{text.strip()}»"
        for column in REQUIRED[ImportKind(kind)]:
            if column.key not in self.positions:
                plan.errors.append(
                    CellError(1, "", _("The column «%(name)s» is missing: export the file again and edit that copy.")
                              % {"name": column.label})
                )
        if kind == ImportKind.CONTENT and not {"title", "description"} & set(self.positions):
            plan.errors.append(CellError(1, "", _("The file has neither a «%(title)s» nor a «%(description)s» column.")
                                         % {"title": sheets.TITLE.label, "description": sheets.DESCRIPTION.label}))

    def has(self, key: str) -> bool:
        return key in self.positions

    def cell(self, cells: list[str], key: str) -> str:
        index = self.positions.get(key)
        if index is None or index >= len(cells):
            return ""
        return restore(cells[index])

    def error(self, row: int, key: str, message: str) -> None:
        self.plan.errors.append(CellError(row, self.headers.get(key, ""), message))

    def whole(self, row: int, cells: list[str], key: str, *, low: int = 1, high: int | None = None) -> int | None:
        text = self.cell(cells, key).strip().replace("\u00a0", "").replace(" ", "")
        if not text:
            self.error(row, key, _("The cell is empty."))
            return None
        if not text.lstrip("-").isdigit():
            self.error(row, key, _("“%(value)s” is not a whole number.") % {"value": text})
            return None
        value = int(text)
        if value < low or (high is not None and value > high):
            self.error(row, key, _("The number must be between %(low)s and %(high)s.")
                       % {"low": low, "high": high if high is not None else "…"})
            return None
        return value


def _card(listing: Listing) -> str:
    return f"{listing.offer_id} · {listing.account.name}"


def _listings(reader: _Reader, table: Table) -> dict[int, Listing]:
    ids = set()
    for _row, cells in table.data():
        text = reader.cell(cells, "card_id").strip()
        if text.isdigit():
            ids.add(int(text))
    return Listing.objects.select_related("account", "product").in_bulk(ids)


def _listing(reader: _Reader, listings: dict[int, Listing], row: int, cells: list[str]) -> Listing | None:
    card_id = reader.whole(row, cells, "card_id")
    if card_id is None:
        return None
    listing = listings.get(card_id)
    if listing is None:
        reader.error(row, "card_id", _("There is no card with ID %(id)s.") % {"id": card_id})
    return listing


def build_plan(kind: str, table: Table) -> Plan:
    """Validate every row of the file and list what would change; nothing is written."""
    plan = Plan(kind=kind, filename=table.filename)
    reader = _Reader(table, kind, plan)
    if plan.errors:
        return plan
    if not any(True for _ in table.data()):
        plan.errors.append(CellError(2, "", _("The file has no rows under the header.")))
        return plan
    {ImportKind.CONTENT: _plan_content, ImportKind.STOCK: _plan_stock, ImportKind.LINKS: _plan_links}[
        ImportKind(kind)
    ](reader, table, plan)
    if plan.errors:
        plan.changes = []
    return plan


def _once(reader: _Reader, seen: dict[Any, int], key: Any, row: int, column: str) -> bool:
    if key in seen:
        reader.error(row, column, _("The same item is already in row %(row)s.") % {"row": seen[key]})
        return False
    seen[key] = row
    return True


def _plan_content(reader: _Reader, table: Table, plan: Plan) -> None:
    listings = _listings(reader, table)
    seen: dict[Any, int] = {}
    for row, cells in table.data():
        listing = _listing(reader, listings, row, cells)
        if listing is None or not _once(reader, seen, listing.pk, row, "card_id"):
            continue
        changed = False
        if reader.has("title"):
            title = " ".join(reader.cell(cells, "title").split())
            if not title:
                reader.error(row, "title", _("The title cannot be empty."))
            elif len(title) > TITLE_MAX_LENGTH:
                reader.error(row, "title", _("The title is %(length)s characters long; at most %(limit)s.")
                             % {"length": len(title), "limit": TITLE_MAX_LENGTH})
            elif title != listing.title:
                plan.changes.append(Change(row, _card(listing), str(sheets.TITLE.label), listing.title, title,
                                           {"card_id": listing.pk, "title": title}))
                changed = True
        if reader.has("description"):
            description = reader.cell(cells, "description").strip()
            if description != listing.description.strip():
                plan.changes.append(Change(row, _card(listing), str(sheets.DESCRIPTION.label), listing.description,
                                           description, {"card_id": listing.pk, "description": description}))
                changed = True
        plan.unchanged += not changed


def _plan_stock(reader: _Reader, table: Table, plan: Plan) -> None:
    listings = _listings(reader, table)
    warehouse_ids = {int(t) for _r, c in table.data() if (t := reader.cell(c, "warehouse_id").strip()).isdigit()}
    warehouses = Warehouse.objects.in_bulk(warehouse_ids)
    levels = {
        (level.listing_id, level.warehouse_id, level.variant_id): level
        for level in StockLevel.objects.filter(listing_id__in=list(listings), warehouse_id__in=list(warehouses))
    }
    seen: dict[Any, int] = {}
    for row, cells in table.data():
        listing = _listing(reader, listings, row, cells)
        warehouse_id = reader.whole(row, cells, "warehouse_id")
        quantity = reader.whole(row, cells, "available", low=0, high=MAX_STOCK)
        warehouse = warehouses.get(warehouse_id) if warehouse_id is not None else None
        if warehouse_id is not None and warehouse is None:
            reader.error(row, "warehouse_id", _("There is no warehouse with ID %(id)s.") % {"id": warehouse_id})
        if listing is None or warehouse is None:
            continue
        if warehouse.account_id != listing.account_id:
            reader.error(row, "warehouse_id", _("The warehouse belongs to another marketplace account than the card."))
            continue
        variant = _size(reader, listing, row, cells)
        if variant is None or quantity is None:
            continue
        if not _once(reader, seen, (listing.pk, warehouse.pk, variant), row, "card_id"):
            continue
        level = levels.get((listing.pk, warehouse.pk, variant))
        current = level.present - level.reserved if level else None
        if current == quantity:
            plan.unchanged += 1
            continue
        if reason := read_only_reason(warehouse):
            reader.error(row, "available", reason)
            continue
        size = size_name(listing, variant)
        what = _("Available on «%(warehouse)s»") % {"warehouse": warehouse.name}
        if size:
            what += ", " + _("size %(size)s") % {"size": size}
        plan.changes.append(Change(
            row, _card(listing), what, "—" if current is None else str(current), str(quantity),
            {"card_id": listing.pk, "warehouse_id": warehouse.pk, "size_id": variant, "quantity": quantity},
        ))


def _size(reader: _Reader, listing: Listing, row: int, cells: list[str]) -> str | None:
    """The size id the row names, checked against the card's sizes; "" for a card without sizes."""
    sizes = [str(v["id"]) for v in listing.variants or [] if isinstance(v, dict) and v.get("id")]
    variant = reader.cell(cells, "size_id").strip()
    if not sizes:
        if variant:
            reader.error(row, "size_id", _("This card has no sizes: leave the cell empty."))
            return None
        return ""
    if not variant:
        if len(sizes) == 1:
            return sizes[0]
        reader.error(row, "size_id", _("This card has several sizes: give the size ID."))
        return None
    if variant not in sizes:
        reader.error(row, "size_id", _("The card has no size with ID %(id)s.") % {"id": variant})
        return None
    return variant


def _plan_links(reader: _Reader, table: Table, plan: Plan) -> None:
    listings = _listings(reader, table)
    articles = {reader.cell(c, "product_article").strip() for _r, c in table.data()} - {""}
    products = {p.article: p for p in Product.objects.filter(article__in=articles)}
    seen: dict[Any, int] = {}
    for row, cells in table.data():
        listing = _listing(reader, listings, row, cells)
        article = reader.cell(cells, "product_article").strip()
        product = products.get(article)
        if article and product is None:
            reader.error(row, "product_article", _("There is no product with article “%(article)s”.")
                         % {"article": article})
            continue
        if listing is None or not _once(reader, seen, listing.pk, row, "card_id"):
            continue
        if listing.product_id == (product.pk if product else None):
            plan.unchanged += 1
            continue
        old = listing.product.article if listing.product else "—"
        new = article or _("not linked")
        plan.changes.append(Change(row, _card(listing), str(sheets.PRODUCT_ARTICLE.label), old, new,
                                   {"card_id": listing.pk, "product_id": product.pk if product else None}))


class _Found(dict[int, Any]):
    """Rows by id; one deleted since the preview stops the import (and undoes what it did)."""

    def __missing__(self, key: int) -> Any:
        raise CatalogChangeError(_("an item of the file was deleted since the preview (ID %(id)s)") % {"id": key})


def apply_plan(kind: str, changes: list[dict[str, Any]], user: Any, *, filename: str = "") -> int:
    """Make the planned changes in one transaction through the services; returns how many. A change a
    service refuses (CatalogChangeError) undoes them all."""
    values = [change["values"] for change in changes]
    with transaction.atomic():
        listings = _Found(Listing.objects.select_related("account").in_bulk({v["card_id"] for v in values}))
        if kind == ImportKind.CONTENT:
            merged: dict[int, dict[str, str]] = defaultdict(dict)
            for value in values:
                merged[value["card_id"]].update({k: v for k, v in value.items() if k != "card_id"})
            for card_id, fields in merged.items():
                update_listing_content(listings[card_id], fields.get("title"), fields.get("description"), user)
        elif kind == ImportKind.STOCK:
            warehouses = _Found(Warehouse.objects.in_bulk({v["warehouse_id"] for v in values}))
            for value in values:
                set_stock(listings[value["card_id"]], warehouses[value["warehouse_id"]], value["quantity"], user,
                          variant_id=value["size_id"])
        elif kind == ImportKind.LINKS:
            products = _Found(Product.objects.in_bulk({v["product_id"] for v in values if v["product_id"]}))
            for value in values:
                product = products[value["product_id"]] if value["product_id"] else None
                link_listing_to_product(listings[value["card_id"]], product, user)
        else:
            raise ValueError(kind)
        audit_record(action="catalog.import", actor=user,
                     details={"kind": kind, "file": filename, "changes": len(values)})
    return len(values)
