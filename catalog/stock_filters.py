"""The stock screen's filters and search (one FilterSet, shared by the screen and its exports)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.filters import listing_search_ids
from catalog.models import StockLevel, Warehouse
from core.filters import MarketplaceFilter, SearchFilter
from integrations.models import MarketplaceAccount

LOW = "low"
OUT = "out"
MAX_THRESHOLD = 100_000


def low_stock_threshold() -> int:
    """Available at or below this (and above zero) is "low"; a page may ask for another one."""
    return int(getattr(settings, "STOCK_LOW_THRESHOLD", 5))


class StockFilter(django_filters.FilterSet):
    marketplace = MarketplaceFilter(field_name="listing__account__marketplace")
    account = django_filters.ModelChoiceFilter(
        field_name="listing__account", queryset=MarketplaceAccount.objects.order_by("name"), label=_("Account")
    )
    warehouse = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.select_related("account").order_by("name", "id"), label=_("Warehouse")
    )
    kind = django_filters.ChoiceFilter(
        field_name="warehouse__kind",
        choices=[(Warehouse.Kind.SELLER, _("Own (FBS)")), (Warehouse.Kind.MARKETPLACE, _("Marketplace (FBO)"))],
        label=_("Warehouse kind"),
    )
    state = django_filters.ChoiceFilter(
        choices=[(LOW, _("Low stock")), (OUT, _("Out of stock"))], method="by_state", label=_("Stock")
    )
    threshold = django_filters.NumberFilter(
        method="keep", min_value=0, max_value=MAX_THRESHOLD, label=_("Low when at most")
    )
    q = SearchFilter()

    class Meta:
        model = StockLevel
        fields = ["marketplace", "account", "warehouse", "kind", "state", "threshold", "q"]

    def threshold_value(self) -> int:
        self.form.is_valid()
        value = self.form.cleaned_data.get("threshold") if hasattr(self.form, "cleaned_data") else None
        return int(value) if value is not None else low_stock_threshold()

    def keep(self, queryset: QuerySet[StockLevel], name: str, value: Any) -> QuerySet[StockLevel]:
        return queryset  # the threshold only shapes the "low" filter and flags

    def by_state(self, queryset: QuerySet[StockLevel], name: str, value: str) -> QuerySet[StockLevel]:
        # available = present - reserved, what a stock change sets and what can be sold
        if value == OUT:
            return queryset.filter(present__lte=F("reserved"))
        if value == LOW:
            limit = self.threshold_value()
            return queryset.filter(present__gt=F("reserved"), present__lte=F("reserved") + limit)
        return queryset

    def search(self, queryset: QuerySet[StockLevel], name: str, value: str) -> QuerySet[StockLevel]:
        term = value.strip()
        return queryset.filter(listing_id__in=listing_search_ids(term)) if term else queryset
