"""The analytics API: the marketplaces' finance operations (accruals, fees, payouts) with their fee lines."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from analytics.models import FeeLine, FinanceOperation
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
    operation_from = django_filters.IsoDateTimeFilter(field_name="operation_at", lookup_expr="gte",
                                                      label="Operations at or after this time.")
    operation_to = django_filters.IsoDateTimeFilter(field_name="operation_at", lookup_expr="lt",
                                                    label="Operations before this time.")

    class Meta:
        model = FinanceOperation
        fields = ["marketplace", "account", "order", "operation_from", "operation_to"]


@extend_schema_view(list=extend_schema(summary="List finance operations with their fees"),
                    retrieve=extend_schema(summary="One finance operation with its fees"))
class FinanceOperationViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = FinanceOperationSerializer
    queryset = FinanceOperation.objects.prefetch_related("fees")
    pagination_class = KeysetPagination
    filterset_class = FinanceOperationFilter
