"""Excel/CSV exports of the catalogue: products, listings and stock.

Each export filters with the FilterSet of its screen, from the same query string, so the file holds
exactly what the filter on screen shows (every page of it, not only the one shown). Rows are read with
``.iterator()`` and written as they come (core.files), so memory stays flat at any size.

The cards' export (the largest: every card of every account) reads plain column values, not model
instances, through a server-side cursor inside a transaction, so the first rows go out as soon as
PostgreSQL has them rather than once the whole result is materialised (what a cursor outside a
transaction, WITH HOLD, does); it stops at ``LISTING_EXPORT_LIMIT`` cards (the catalogue page says so),
which bounds how long a download holds a web worker. Its CSV is written by PostgreSQL itself
(core.csv_copy: ``COPY (SELECT …) TO STDOUT`` over the same queryset, each cell formatted in SQL as
``core.files.csv_cell`` formats it): reading thousands of cards with their descriptions into Python and
writing them out again took as long as the query.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import django_filters
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from catalog import sheets
from catalog.filters import ListingFilter, listing_search_ids
from catalog.models import Listing, Product, Warehouse
from catalog.selectors import listing_list
from catalog.stock_filters import StockFilter
from catalog.stock_page import STOCK_SORTS, size_name, stock_list
from core.csv_copy import As, Column, copy_csv_response
from core.files import export_response, stamped
from core.filters import SUBSTRING_MIN_LENGTH, MarketplaceFilter, SearchFilter
from core.models import Marketplace
from core.roles import EVERYONE, require_role

CHUNK = 2000
FORMATS = ("csv", "xlsx")
EXACT_IDS_INLINE = 1000  # cards an export's search hands to its scan by id, past which it joins the branches
LISTING_EXPORT_LIMIT = 100_000  # cards in one export: the whole catalogue of a large seller (3 × 33k)


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


def _streamed(queryset: QuerySet[Any], *, whole: bool = False) -> Iterator[Any]:
    """The rows as the server-side cursor fetches them, CHUNK at a time, inside a transaction: PostgreSQL
    sends the first ones as soon as its plan yields them (a cursor outside a transaction is WITH HOLD,
    materialised whole before the first fetch). A download broken off closes the generator, which
    rolls the (read-only) transaction back.

    `whole`: plan for reading every row (a search's few thousand cards: hash joins and one sort), not for
    the cursor's first tenth, PostgreSQL's default for a cursor, which would walk the sort's index over
    the whole catalogue filtering each card."""
    with transaction.atomic():
        if whole:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1")
        yield from queryset.iterator(chunk_size=CHUNK)


# The cards' columns (sheets.LISTING_COLUMNS) read as plain values: no model instances for the card, its
# account, product and price.
LISTING_VALUES = (
    "pk", "account__marketplace", "account__name", "external_id", "offer_id", "marketplace_sku", "title",
    "description", "product__article", "brand", "category", "barcodes", "status", "price__price",
    "price__currency", "archived", "missing_since",
)


class ListingExportFilter(ListingFilter):
    """The catalogue list's filters, with the search's branches narrowed by the filters before it (a
    marketplace, an account, a product): a broad title match exported for one marketplace looks up
    only that marketplace's cards, not every account's."""

    def search(self, queryset: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        term = value.strip()
        if not term:
            return queryset
        if len(term) >= SUBSTRING_MIN_LENGTH:
            # The exact and prefix branches (a few cards as a rule) are read first, in one small query; the
            # title match is then a condition of the export's own scan: one bitmap heap scan of the cards
            # (trigram index OR these ids) hands on whole rows, not ids each looked up again by key.
            found = listing_search_ids(term, scope=queryset, titles=False)[:EXACT_IDS_INLINE + 1]
            exact = [row["pk"] for row in found]
            if len(exact) <= EXACT_IDS_INLINE:
                return queryset.filter(Q(title__icontains=term) | Q(pk__in=exact))
        return queryset.filter(pk__in=listing_search_ids(term, scope=queryset))


def listing_export_rows(params: Any) -> QuerySet[Any]:
    """The cards an export of the catalogue with these filters holds, in its order (article, id), as
    LISTING_VALUES tuples: the list's FilterSet (its search answered by each branch's index,
    catalog.filters.listing_search_ids), at most LISTING_EXPORT_LIMIT of them."""
    queryset = ListingExportFilter(params, queryset=listing_list()).qs
    return queryset.order_by("offer_id", "id").values_list(*LISTING_VALUES)[:LISTING_EXPORT_LIMIT]


# The cards' CSV is written by PostgreSQL (core.csv_copy), each column formatted as _listings' value is.
LISTING_CSV: list[Column] = [
    ("pk", As.NUMBER), ("account__marketplace", dict(Marketplace.choices)), ("account__name", As.TEXT),
    ("external_id", As.TEXT), ("offer_id", As.TEXT), ("marketplace_sku", As.TEXT), ("title", As.TEXT),
    ("description", As.TEXT), ("product__article", As.TEXT), ("brand", As.TEXT), ("category", As.TEXT),
    ("barcodes", As.LIST), ("status", As.TEXT), ("price__price", As.NUMBER), ("price__currency", As.TEXT),
    ("archived", As.BOOL), ("missing_since", As.DATETIME),
]


def _listings(request: HttpRequest) -> Iterator[list[Any]]:
    marketplaces = dict(Marketplace.choices)
    for (pk, marketplace, account, external_id, offer_id, sku, title, description, product_article, brand,
         category, barcodes, status, price, currency, archived, missing_since) in _streamed(
            listing_export_rows(request.GET), whole=bool(request.GET.get("q", "").strip())):
        yield [
            pk, marketplaces.get(marketplace, marketplace), account, external_id, offer_id, sku, title,
            description, product_article or "", brand, category, barcodes, status, price, currency or "",
            archived, missing_since,
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
    if kind == "listings" and fmt == "csv":
        return copy_csv_response(stamped(basename, fmt), sheets.header(columns), listing_export_rows(request.GET),
                                 LISTING_CSV, order_by=("offer_id", "pk"))
    return export_response(fmt, basename, str(sheet_title), sheets.header(columns), rows(request))

