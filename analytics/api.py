"""The analytics API: the marketplaces' finance operations (accruals, fees, payouts) with their fee lines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from analytics.models import Discrepancy, FeeLine, FinanceOperation
from analytics.reconciliation import DISCREPANCY_SORTS, discrepancies
from analytics.reconciliation_filters import DiscrepancyFilter
from core.api import DescribedModelSerializer, KeysetPagination
from core.filters import MarketplaceFilter
from integrations.models import MarketplaceAccount


class FeeLineSerializer(DescribedModelSerializer):
    class Meta:
        model = FeeLine
        fields = ["kind", "name", "amount"]
        read_only_fields = fields
        help_texts = {
            "kind": "Kind of fee (commission, logistics, storage, …).",
            "name": "The marketplace's own name of the fee.",
            "amount": "Amount of the fee (negative: charged).",
        }


class FinanceOperationSerializer(DescribedModelSerializer):
    fees = FeeLineSerializer(many=True, read_only=True, help_text="The operation's fee lines.")

    class Meta:
        model = FinanceOperation
        fields = ["id", "account", "external_id", "operation_type", "operation_at", "order_external_id", "order",
                  "offer_id", "quantity", "sale_amount", "amount", "currency", "fees", "created_at", "updated_at"]
        read_only_fields = fields
        help_texts = {
            "operation_type": "The marketplace's type of operation.",
            "operation_at": "When the operation took place.",
            "order": "The order (id), once linked.",
            "quantity": "Units the operation is about.",
        }


class FinanceOperationFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.all(), label="Account (id).")
    order = django_filters.NumberFilter(field_name="order_id", min_value=1, label="Order (id).")
    # Days in the display time zone, as the orders' filter (a range on the indexed column).
    operation_from = django_filters.DateFilter(method="filter_from", label="Operations on or after this day.")
    operation_to = django_filters.DateFilter(method="filter_to", label="Operations on or before this day.")

    class Meta:
        model = FinanceOperation
        fields = ["marketplace", "account", "order", "operation_from", "operation_to"]

    def filter_from(self, queryset: QuerySet[FinanceOperation], name: str, value: date) -> QuerySet[FinanceOperation]:
        return queryset.filter(operation_at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet[FinanceOperation], name: str, value: date) -> QuerySet[FinanceOperation]:
        if value >= date.max:
            return queryset
        return queryset.filter(operation_at__lt=_day_start(value + timedelta(days=1)))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@extend_schema_view(list=extend_schema(summary="List finance operations with their fees"),
                    retrieve=extend_schema(summary="One finance operation with its fees"))
class FinanceOperationViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = FinanceOperationSerializer
    queryset = FinanceOperation.objects.prefetch_related("fees")
    pagination_class = KeysetPagination
    filterset_class = FinanceOperationFilter


class DiscrepancySerializer(DescribedModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True,
                                       help_text="The kind of discrepancy, in words.")

    class Meta:
        model = Discrepancy
        fields = ["id", "account", "kind", "kind_label", "day", "occurred_at", "order", "order_external_id",
                  "expected", "actual", "difference", "rate", "currency", "operation_ids", "computed_at"]
        read_only_fields = fields
        help_texts = {
            "kind": "no_payout, underpaid, commission_high, return_unrecorded, unexpected_charge or unknown_order.",
            "day": "The order's day (Moscow), or the operation's when it names no order of ours.",
            "order": "Our order (id), when we have it.",
            "order_external_id": "The order as the marketplace names it.",
            "expected": "What our orders predict (charges negative).",
            "actual": "What the marketplace's finance reports say (charges negative).",
            "difference": "expected − actual: what the marketplace owes by our orders.",
            "rate": "The tariff's commission, % (commission above the tariff only).",
            "operation_ids": "The marketplace's ids of the operations concerned.",
        }


@extend_schema_view(list=extend_schema(summary="List reconciliation discrepancies"),
                    retrieve=extend_schema(summary="One reconciliation discrepancy"))
class DiscrepancyViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """Differences between our orders and what the marketplaces accrued, charged and paid, as the
    reconciliation's last refresh found them (read only)."""

    serializer_class = DiscrepancySerializer
    queryset = discrepancies()
    pagination_class = KeysetPagination
    filterset_class = DiscrepancyFilter
    sorts = DISCREPANCY_SORTS
