"""The orders list's filters and search, shared by the screen and (later) its API endpoint."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filters import MarketplaceFilter, SearchFilter
from integrations.models import MarketplaceAccount
from orders.models import Order, OrderLine, OrderStatus, Scheme


def _day_start(day: date) -> datetime:
    """Midnight of ``day`` in the display time zone (Moscow), so the filter is a range on ordered_at."""
    return timezone.make_aware(datetime.combine(day, time.min))


class OrderFilter(django_filters.FilterSet):
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(
        queryset=MarketplaceAccount.objects.order_by("name"), label=_("Account")
    )
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices, label=_("Status"))
    scheme = django_filters.ChoiceFilter(choices=Scheme.choices, label=_("Scheme"))
    # Not ordered_at__date: that converts every row's time zone and cannot use the index.
    ordered_from = django_filters.DateFilter(method="filter_from", label=_("From"))
    ordered_to = django_filters.DateFilter(method="filter_to", label=_("To"))
    # The orders of one card (its seller article; with ``account``, of that card only): the product page links here.
    offer = django_filters.CharFilter(method="filter_offer", max_length=255, label=_("Seller article"))
    q = SearchFilter()

    class Meta:
        model = Order
        fields = ["marketplace", "account", "status", "scheme", "ordered_from", "ordered_to", "offer", "q"]

    def filter_offer(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset.filter(Exists(OrderLine.objects.filter(order_id=OuterRef("pk"), offer_id=value.strip())))

    def filter_from(self, queryset: QuerySet[Order], name: str, value: date) -> QuerySet[Order]:
        return queryset.filter(ordered_at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet[Order], name: str, value: date) -> QuerySet[Order]:
        if value >= date.max:  # the day after 9999-12-31 does not exist: no bound at all
            return queryset
        return queryset.filter(ordered_at__lt=_day_start(value + timedelta(days=1)))

    def search(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        """The marketplace's order id or number by prefix: two indexes of the orders table, no join."""
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(Q(external_id__startswith=term) | Q(order_number__startswith=term))
