"""The catalogue list's filters and search, shared by the screen and (later) its API endpoint."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.models import Listing, Product
from core.filters import SUBSTRING_MIN_LENGTH, MarketplaceFilter, SearchFilter
from integrations.models import MarketplaceAccount


def listing_search_ids(term: str) -> QuerySet[Listing]:
    """Ids of the listings a search term finds, each branch answered by its own index.

    A UNION of single-table subqueries rather than one OR across the product join, which would make
    PostgreSQL scan every listing: article and the product's article by prefix, the marketplace's ids
    and barcodes exactly, the title by substring (trigram index) once the term is long enough.
    """
    branches = [
        Listing.objects.filter(offer_id__istartswith=term),
        Listing.objects.filter(external_id=term),
        Listing.objects.filter(marketplace_sku=term),
        Listing.objects.filter(barcodes__contains=[term]),
        Listing.objects.filter(product__in=Product.objects.filter(article__istartswith=term).values("pk")),
    ]
    if len(term) >= SUBSTRING_MIN_LENGTH:
        branches.append(Listing.objects.filter(title__icontains=term))
    # order_by(): without it each branch would sort by Listing.Meta.ordering, joining the accounts.
    first, *rest = [branch.order_by().values("pk") for branch in branches]
    return first.union(*rest, all=True)  # IN (…) ignores duplicates; no need to sort them out first


class ListingFilter(django_filters.FilterSet):
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(
        queryset=MarketplaceAccount.objects.order_by("name"), label=_("Account")
    )
    product = django_filters.NumberFilter(field_name="product_id", min_value=1, label=_("Product"))
    q = SearchFilter()

    class Meta:
        model = Listing
        fields = ["marketplace", "account", "product", "q"]

    def search(self, queryset: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        term = value.strip()
        return queryset.filter(pk__in=listing_search_ids(term)) if term else queryset
