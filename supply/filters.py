"""The stock forecast list's filters (one FilterSet, shared by the screen and its export)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.filters import product_search_ids
from core.filters import SearchFilter
from core.pagination import Sort, Sorts
from supply.models import NO_SALES_DAYS, ProductForecast, Supplier

ORDER_NOW = "order_now"
SOON = "soon"
NO_SALES = "no_sales"
SOON_DAYS = 14
# The screen's and the API's one order: served by the forecast_sort_days index.
FORECAST_SORTS = Sorts(ProductForecast, [Sort("days", _("Runs out first"), ("days_left", "id"))])


class ForecastFilter(django_filters.FilterSet):
    urgency = django_filters.ChoiceFilter(
        choices=[
            (ORDER_NOW, _("Order now")),
            (SOON, _("Runs out within 14 days")),
            (NO_SALES, _("No sales in the window")),
        ],
        method="by_urgency",
        label=_("Show"),
    )
    supplier = django_filters.ModelChoiceFilter(queryset=Supplier.objects.order_by("name"), label=_("Supplier"))
    q = SearchFilter()

    class Meta:
        model = ProductForecast
        fields = ["urgency", "supplier", "q"]

    def by_urgency(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        today = timezone.localdate()
        if value == ORDER_NOW:
            return queryset.filter(order_by__lte=today, reorder_qty__gt=0)
        if value == SOON:
            return queryset.filter(days_left__lte=SOON_DAYS)
        if value == NO_SALES:
            return queryset.filter(days_left__gte=NO_SALES_DAYS)
        return queryset

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """The catalogue's product search (article, barcode, card ids, name), each branch on its own index."""
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(product_id__in=product_search_ids(term))
