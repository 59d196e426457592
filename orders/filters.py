"""The orders inbox's and the returns list's filters and search, shared by the screens and their exports."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Warehouse
from core.filters import MarketplaceFilter, SearchFilter
from integrations.models import MarketplaceAccount
from orders.models import TO_ASSEMBLE, TO_SHIP, Order, OrderLine, OrderStatus, Return, Scheme


def _day_start(day: date) -> datetime:
    """Midnight of ``day`` in the display time zone (Moscow), so the filter is a range on an indexed column."""
    return timezone.make_aware(datetime.combine(day, time.min))


OVERDUE, TODAY = "overdue", "today"
SHIPMENT_CHOICES = [
    (TODAY, _("To assemble today")),
    (OVERDUE, _("Overdue to ship")),
]


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
    warehouse = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.select_related("account").order_by("account__name", "name"), label=_("Warehouse")
    )
    # Exactly as the marketplace spells it (order_city_date index); the page offers the cities seen.
    city = django_filters.CharFilter(field_name="buyer_city", max_length=200, label=_("City"))
    shipment = django_filters.ChoiceFilter(choices=SHIPMENT_CHOICES, method="filter_shipment", label=_("Shipment"))
    # The orders of one card (its seller article; with ``account``, of that card only): the product page links here.
    offer = django_filters.CharFilter(method="filter_offer", max_length=255, label=_("Seller article"))
    q = SearchFilter()

    class Meta:
        model = Order
        fields = [
            "marketplace", "account", "status", "scheme", "ordered_from", "ordered_to", "warehouse", "city",
            "shipment", "offer", "q",
        ]

    def filter_offer(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset.filter(Exists(OrderLine.objects.filter(order_id=OuterRef("pk"), offer_id=value.strip())))

    def filter_from(self, queryset: QuerySet[Order], name: str, value: date) -> QuerySet[Order]:
        return queryset.filter(ordered_at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet[Order], name: str, value: date) -> QuerySet[Order]:
        if value >= date.max:  # the day after 9999-12-31 does not exist: no bound at all
            return queryset
        return queryset.filter(ordered_at__lt=_day_start(value + timedelta(days=1)))

    def filter_shipment(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        """Overdue: the deadline has passed and the order is not shipped. Today: not assembled yet and due
        today (Moscow). Both are ranges of the order_to_ship_due partial index."""
        if value == OVERDUE:
            return queryset.filter(status__in=TO_SHIP, shipment_due_at__lt=timezone.now())
        today = timezone.localdate()
        return queryset.filter(
            status__in=TO_ASSEMBLE,
            shipment_due_at__gte=_day_start(today),
            shipment_due_at__lt=_day_start(today + timedelta(days=1)),
        )

    def search(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        """The order / posting id or number and WB's srid by prefix, a seller article exactly: a union of
        single-table index scans (an OR across the lines' join would scan both tables)."""
        term = value.strip()
        if not term:
            return queryset
        ids = (
            Order.objects.filter(external_id__startswith=term).values("pk")
            .union(
                Order.objects.filter(order_number__startswith=term).values("pk"),
                Order.objects.exclude(srid="").filter(srid__startswith=term).values("pk"),
                OrderLine.objects.filter(offer_id=term).values("order_id"),
                all=True,
            )
        )
        return queryset.filter(pk__in=ids)


class ReturnFilter(django_filters.FilterSet):
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(
        queryset=MarketplaceAccount.objects.order_by("name"), label=_("Account")
    )
    kind = django_filters.ChoiceFilter(choices=Return.Kind.choices, label=_("Type"))
    # The marketplace's status of the return, exactly as it reports it (return_raw_status index).
    status = django_filters.CharFilter(field_name="raw_status", max_length=64, label=_("Status"))
    reason = django_filters.CharFilter(field_name="reason", max_length=2000, label=_("Reason"))
    returned_from = django_filters.DateFilter(method="filter_from", label=_("From"))
    returned_to = django_filters.DateFilter(method="filter_to", label=_("To"))
    q = SearchFilter()

    class Meta:
        model = Return
        fields = ["marketplace", "account", "kind", "status", "reason", "returned_from", "returned_to", "q"]

    def filter_from(self, queryset: QuerySet[Return], name: str, value: date) -> QuerySet[Return]:
        return queryset.filter(returned_at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet[Return], name: str, value: date) -> QuerySet[Return]:
        return queryset.filter(returned_at__lt=_day_start(value + timedelta(days=1)))

    def search(self, queryset: QuerySet[Return], name: str, value: str) -> QuerySet[Return]:
        """The return's or its order's marketplace id by prefix, the seller article exactly."""
        term = value.strip()
        if not term:
            return queryset
        ids = (
            Return.objects.filter(external_id__startswith=term).values("pk")
            .union(
                Return.objects.filter(order_external_id__startswith=term).values("pk"),
                Return.objects.filter(offer_id=term).values("pk"),
                all=True,
            )
        )
        return queryset.filter(pk__in=ids)
