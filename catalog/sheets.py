"""The columns of the catalogue's Excel/CSV files, shared by the exports and the imports.

An exported file is the template of an import: the import finds its columns by the header names the
export wrote (in Russian or English, whichever language exported it) and ignores the other columns.
The first columns are our own ids, which identify the row on import whatever else was edited.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise

    def names(self) -> set[str]:
        """The header texts this column is recognised by: its label in each language, case-insensitive."""
        found = set()
        for language in ("ru", "en"):
            with translation.override(language):
                found.add(str(self.label).strip().casefold())
        return found


CARD_ID = Column("card_id", _("Card ID"))
WAREHOUSE_ID = Column("warehouse_id", _("Warehouse ID"))
SIZE_ID = Column("size_id", _("Size ID"))
TITLE = Column("title", _("Title"))
DESCRIPTION = Column("description", _("Description"))
PRODUCT_ARTICLE = Column("product_article", _("Product article"))
AVAILABLE = Column("available", _("Available"))

PRODUCT_COLUMNS = [
    Column("article", _("Product article")),
    Column("name", _("Name")),
    Column("brand", _("Brand")),
    Column("barcodes", _("Barcodes")),
    Column("cost_price", _("Cost price")),
    Column("currency", _("Currency")),
    Column("description", _("Description")),
]

LISTING_COLUMNS = [
    CARD_ID,
    Column("marketplace", _("Marketplace")),
    Column("account", _("Account")),
    Column("external_id", _("Marketplace card id")),
    Column("offer_id", _("Seller article")),
    Column("marketplace_sku", _("Marketplace SKU")),
    TITLE,
    DESCRIPTION,
    PRODUCT_ARTICLE,
    Column("brand", _("Brand")),
    Column("category", _("Category")),
    Column("barcodes", _("Barcodes")),
    Column("status", _("Marketplace status")),
    Column("price", _("Price")),
    Column("currency", _("Currency")),
    Column("archived", _("Archived")),
    Column("missing_since", _("Gone from the marketplace since")),
]

STOCK_COLUMNS = [
    CARD_ID,
    WAREHOUSE_ID,
    SIZE_ID,
    Column("marketplace", _("Marketplace")),
    Column("account", _("Account")),
    Column("offer_id", _("Seller article")),
    PRODUCT_ARTICLE,
    Column("title", _("Card title")),
    Column("warehouse", _("Warehouse")),
    Column("warehouse_kind", _("Warehouse kind")),
    Column("size", _("Size")),
    Column("present", _("On hand")),
    Column("reserved", _("Reserved")),
    AVAILABLE,
]


def header(columns: list[Column]) -> list[str]:
    return [str(column.label) for column in columns]
