"""Excel/CSV exports of the catalogue: products, listings and stock.

Each export filters with the FilterSet of its screen, from the same query string, so the file holds
exactly what the filter on screen shows (every page of it, not only the one shown). Rows are read with
``.iterator()`` and written as they come (core.files), so memory stays flat at any size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from catalog import sheets
from catalog.filters import ListingFilter
from catalog.models import Listing, Product, Warehouse
from catalog.selectors import listing_list
from catalog.stock_filters import StockFilter
from catalog.stock_page import STOCK_SORTS, size_name, stock_list
from core.files import export_response
from core.filters import MarketplaceFilter, SearchFilter
from core.roles import EVERYONE, require_role

CHUNK = 2000
FORMATS = ("csv", "xlsx")


class ProductExportFilter(django_filters.FilterSet):
    """The products' filters an export understands: marketplace (has a card there) and search by article
    (prefix) or barcode (exactly), both on indexes."""

    marketplace = MarketplaceFilter(field_name="marketplace", method="on_marketplace")
    q = SearchFilter()

    class Meta:
        model = Product
        fields = ["marketplace", "q"]

    def on_marketplace(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        cards = Listing.objects.filter(product_id=OuterRef("pk"), account__marketplace=value)
        return queryset.filter(Exists(cards))

    def search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        term = value.strip()
        if not term:
            return queryset
        ids = Product.objects.filter(article__istartswith=term).values("pk").union(
            Product.objects.filter(barcodes__contains=[term]).values("pk"), all=True
        )
        return queryset.filter(pk__in=ids)


def _products(request: HttpRequest) -> Iterator[list[Any]]:
    queryset = ProductExportFilter(request.GET, queryset=Product.objects.all()).qs.order_by("article", "id")
    for product in queryset.iterator(chunk_size=CHUNK):
        yield [
            product.article, product.name, product.brand, product.barcodes, product.cost_price,
            product.currency if product.cost_price is not None else "", product.description,
        ]


def _price(listing: Listing) -> Any:
    try:
        return listing.price
    except Listing.price.RelatedObjectDoesNotExist:
        return None


def _listings(request: HttpRequest) -> Iterator[list[Any]]:
    queryset = ListingFilter(request.GET, queryset=listing_list()).qs.order_by("offer_id", "id")
    for listing in queryset.iterator(chunk_size=CHUNK):
        price = _price(listing)
        yield [
            listing.pk, listing.account.get_marketplace_display(), listing.account.name, listing.external_id,
            listing.offer_id, listing.marketplace_sku, listing.title, listing.description,
            listing.product.article if listing.product else "", listing.brand, listing.category,
            listing.barcodes, listing.status, price.price if price else None, price.currency if price else "",
            listing.archived, listing.missing_since,
        ]


WAREHOUSE_KINDS = {
    Warehouse.Kind.SELLER: gettext_lazy("own (FBS)"),
    Warehouse.Kind.MARKETPLACE: gettext_lazy("marketplace (FBO)"),
}


def _stock(request: HttpRequest) -> Iterator[list[Any]]:
    queryset = StockFilter(request.GET, queryset=stock_list()).qs.order_by(*STOCK_SORTS.default.fields)
    for level in queryset.iterator(chunk_size=CHUNK):
        listing: Listing = level.listing
        yield [
            listing.pk, level.warehouse_id, level.variant_id, listing.account.get_marketplace_display(),
            listing.account.name, listing.offer_id, listing.product.article if listing.product else "",
            listing.title, level.warehouse.name, str(WAREHOUSE_KINDS.get(level.warehouse.kind, level.warehouse.kind)),
            size_name(listing, level.variant_id), level.present, level.reserved, level.present - level.reserved,
        ]


EXPORTS = {
    # kind: (file name, sheet title, columns, rows)
    "products": ("products", gettext_lazy("Products"), sheets.PRODUCT_COLUMNS, _products),
    "listings": ("listings", gettext_lazy("Cards"), sheets.LISTING_COLUMNS, _listings),
    "stock": ("stock", gettext_lazy("Stock"), sheets.STOCK_COLUMNS, _stock),
}


@require_GET
@require_role(*EVERYONE)
def export(request: HttpRequest, kind: str, fmt: str) -> HttpResponseBase:
    """/catalog/export/<kind>.<csv|xlsx>?<the screen's filters>: every row the filter matches."""
    if kind not in EXPORTS or fmt not in FORMATS:
        raise Http404(_("No such export"))
    basename, sheet_title, columns, rows = EXPORTS[kind]
    return export_response(fmt, basename, str(sheet_title), sheets.header(columns), rows(request))

