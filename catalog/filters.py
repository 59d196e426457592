"""The catalogue list's filters and search, shared by the screen and (later) its API endpoint."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.models import Listing, Product, ProductStock
from catalog.selectors import LOW_STOCK
from catalog.statuses import STATE_CHOICES, STATE_CONDITIONS, CardState
from core.filters import SUBSTRING_MIN_LENGTH, MarketplaceFilter, SearchFilter
from integrations.models import MarketplaceAccount


def listing_search_ids(term: str, scope: QuerySet[Listing] | None = None, *, titles: bool = True
                       ) -> QuerySet[Listing]:
    """Ids of the listings a search term finds, each branch answered by its own index.

    A UNION of single-table subqueries rather than one OR across the product join, which would make
    PostgreSQL scan every listing: article and the product's article by prefix, the marketplace's ids
    and barcodes exactly, the title by substring (trigram index) once the term is long enough.
    `scope` (the other filters' queryset) narrows every branch: a broad title match on one marketplace
    then hands on only that marketplace's cards instead of every account's. `titles=False` leaves the
    title branch out (a caller that matches titles in its own scan).
    """
    cards = Listing.objects.all() if scope is None else scope
    branches = [
        cards.filter(offer_id__istartswith=term),
        cards.filter(external_id=term),
        cards.filter(marketplace_sku=term),
        cards.filter(barcodes__contains=[term]),
        cards.filter(product__in=Product.objects.filter(article__istartswith=term).values("pk")),
    ]
    if titles and len(term) >= SUBSTRING_MIN_LENGTH:
        branches.append(cards.filter(title__icontains=term))
    # order_by(): without it each branch would sort by Listing.Meta.ordering, joining the accounts.
    first, *rest = [branch.order_by().values("pk") for branch in branches]
    return first.union(*rest, all=True)  # IN (…) ignores duplicates; no need to sort them out first


class ListingFilter(django_filters.FilterSet):
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(
        queryset=MarketplaceAccount.objects.order_by("name"), label=_("Account")
    )
    product = django_filters.NumberFilter(field_name="product_id", min_value=1, label=_("Product"))
    unlinked = django_filters.BooleanFilter(
        field_name="product", lookup_expr="isnull", label=_("Cards without a product")
    )
    q = SearchFilter()
    # Cards the listing checks (catalog.checks) found problems in.
    problems = django_filters.BooleanFilter(method="with_problems", label=_("Cards with problems"))

    class Meta:
        model = Listing
        fields = ["marketplace", "account", "product", "unlinked", "q"]

    def search(self, queryset: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        term = value.strip()
        return queryset.filter(pk__in=listing_search_ids(term)) if term else queryset

    def with_problems(self, queryset: QuerySet[Listing], name: str, value: bool | None) -> QuerySet[Listing]:
        if value is None:
            return queryset
        found = Q(quality_check__problem_count__gt=0)
        return queryset.filter(found) if value else queryset.exclude(found)

# ---------------------------------------------------------------------------------------------
# The catalogue of master products


def product_search_ids(term: str) -> QuerySet[Product]:
    """Ids of the products a term finds, each branch on its own index: the product's article by prefix,
    barcode exactly, name by substring (trigram) once long enough; and the products of the cards with
    that marketplace id or sku, card article (prefix) or card barcode. Not the cards' titles: the
    product's name is what this list shows, and a second trigram scan doubles a broad search's cost."""
    cards = [
        Q(offer_id__istartswith=term), Q(external_id=term), Q(marketplace_sku=term), Q(barcodes__contains=[term])
    ]
    branches = [
        Product.objects.filter(article__istartswith=term).values("pk"),
        Product.objects.filter(barcodes__contains=[term]).values("pk"),
        *(Listing.objects.filter(branch, product__isnull=False).values("product_id") for branch in cards),
    ]
    if len(term) >= SUBSTRING_MIN_LENGTH:
        branches.append(Product.objects.filter(name__icontains=term).values("pk"))
    first, *rest = [branch.order_by() for branch in branches]
    return first.union(*rest, all=True)


PROBLEM_CHOICES = [
    ("errors", _("Marketplace errors")),
    ("gone", _("Gone from the marketplace")),
    ("no_cards", _("No cards on marketplaces")),
]
STOCK_CHOICES = [
    ("in", _("In stock")),
    ("low", _("Running low")),
    ("out", _("Out of stock")),
]


def _cards(**conditions: object) -> Exists:
    return Exists(Listing.objects.filter(product_id=OuterRef("pk"), **conditions))


class ProductFilter(django_filters.FilterSet):
    marketplace = MarketplaceFilter(method="filter_marketplace")
    brand = django_filters.CharFilter(field_name="brand", lookup_expr="iexact", label=_("Brand"))
    category = django_filters.CharFilter(method="filter_category", label=_("Category"))
    status = django_filters.ChoiceFilter(choices=STATE_CHOICES, method="filter_status", label=_("Card status"))
    problem = django_filters.ChoiceFilter(choices=PROBLEM_CHOICES, method="filter_problem", label=_("Problems"))
    stock = django_filters.ChoiceFilter(choices=STOCK_CHOICES, method="filter_stock", label=_("Stock"))
    q = SearchFilter()

    class Meta:
        model = Product
        fields = ["marketplace", "brand", "category", "status", "problem", "stock", "q"]

    def filter_marketplace(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        return queryset.filter(_cards(account__marketplace=value))

    def filter_category(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        return queryset.filter(_cards(category=value.strip()))

    def filter_status(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        condition = STATE_CONDITIONS[CardState(value)]
        return queryset.filter(Exists(Listing.objects.filter(condition, product_id=OuterRef("pk"))))

    def filter_problem(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        if value == "errors":
            return queryset.filter(Exists(
                Listing.objects.filter(product_id=OuterRef("pk")).exclude(marketplace_errors=[])
            ))
        if value == "gone":
            return queryset.filter(_cards(missing_since__isnull=False))
        return queryset.exclude(_cards())

    def filter_stock(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        """Units available over all the product's cards, warehouses and sizes: the figure the triggers keep in
        ProductStock (index on ``available``), not a pass over every stock row."""
        if value == "in":
            return queryset.filter(pk__in=ProductStock.objects.filter(available__gt=LOW_STOCK).values("product_id"))
        if value == "low":
            low = ProductStock.objects.filter(available__gt=0, available__lte=LOW_STOCK)
            return queryset.filter(pk__in=low.values("product_id"))
        # A product with nothing available has no ProductStock row (NOT EXISTS: an anti join, not a NOT IN filter).
        return queryset.filter(~Exists(ProductStock.objects.filter(product_id=OuterRef("pk"))))

    def search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        term = value.strip()
        return queryset.filter(pk__in=product_search_ids(term)) if term else queryset
