"""The orders API: orders with their lines and status history, returns, and the FBS/DBS actions
(orders.fulfilment: assemble, hand over, cancel, labels as one PDF, WB supplies), each with a result per order.

The actions call the marketplace at once (see orders.fulfilment for why they are not outbox rows); a
marketplace that cannot be reached at all answers 502."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import DescribedModelSerializer, KeysetPagination
from core.filters import MarketplaceFilter
from integrations.base import CancelReason, MarketplaceError
from integrations.models import MarketplaceAccount
from orders import fulfilment
from orders.filters import OrderFilter
from orders.models import Order, OrderLine, OrderStatusChange, Return
from orders.selectors import ORDER_SORTS, order_list

MAX_SELECTION = 100


class OrderLineSerializer(DescribedModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "line_key", "listing", "offer_id", "name", "quantity", "price", "currency", "commission",
                  "fees", "buyer_price", "seller_price"]
        read_only_fields = fields
        help_texts = {
            "name": "Product name as the order names it.",
            "price": "Unit price as the marketplace's order read reports it.",
            "commission": "Marketplace commission for the line, if reported.",
            "fees": "Other marketplace fees for the line, if reported.",
            "buyer_price": "Unit price the buyer paid, every discount included; null when not reported.",
            "seller_price": "Unit price after the seller's own discount; null when not reported.",
        }


class StatusChangeSerializer(DescribedModelSerializer):
    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to_status", "raw_status", "changed_at", "source", "recorded_at"]
        read_only_fields = fields
        help_texts = {
            "from_status": "Status before (empty for the first).",
            "to_status": "Status after.",
            "changed_at": "When the status changed.",
            "source": "sync, manual (an action from here) or push (a marketplace notification).",
            "recorded_at": "When the change was recorded here.",
        }


class OrderSerializer(DescribedModelSerializer):
    marketplace = serializers.CharField(source="account.marketplace", read_only=True,
                                        help_text="Marketplace of the order's account.")
    lines = OrderLineSerializer(many=True, read_only=True, help_text="The order's lines.")
    status_history = StatusChangeSerializer(source="status_changes", many=True, read_only=True,
                                            help_text="Status changes, oldest first.")

    class Meta:
        model = Order
        fields = [
            "id", "account", "marketplace", "external_id", "order_number", "scheme", "status", "raw_status",
            "raw_substatus", "ordered_at", "status_changed_at", "shipment_due_at", "warehouse", "buyer_city",
            "tracking_number", "total_amount", "buyer_total", "seller_total", "currency", "srid",
            "external_updated_at", "created_at", "updated_at", "lines", "status_history",
        ]
        read_only_fields = fields
        help_texts = {
            "external_id": "Ozon posting number, WB order id, YM order id.",
            "order_number": "The order number the buyer sees, if different.",
            "scheme": "FBO, FBS, DBS, EXPRESS or UNKNOWN.",
            "status": "Canonical status: new, processing, ready_to_ship, in_delivery, delivered, cancelled, "
                      "returned, unknown.",
            "raw_substatus": "The marketplace's own substatus.",
            "ordered_at": "When the order was placed.",
            "status_changed_at": "When the status last changed.",
            "shipment_due_at": "Ship by (FBS/DBS).",
            "warehouse": "The warehouse (id) it ships from, if known.",
            "buyer_city": "The buyer's city.",
            "tracking_number": "Tracking number.",
        }


def _orders() -> Any:
    return order_list().prefetch_related(
        "lines", Prefetch("status_changes", queryset=OrderStatusChange.objects.order_by("changed_at", "id"))
    )


class SelectionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    orders = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Order.objects.all(), help_text=f"Ids of the selected orders (1..{MAX_SELECTION})."
    )

    def validate_orders(self, value: list[Order]) -> list[Order]:
        if not value or len(value) > MAX_SELECTION:
            raise serializers.ValidationError(f"select 1 to {MAX_SELECTION} orders")
        return value


class AssembleSerializer(SelectionSerializer):
    supply_id = serializers.CharField(required=False, default="", allow_blank=True, max_length=100,
                                      help_text="WB: the supply to add the tasks to; empty: a new one.")


class CancelSerializer(SelectionSerializer):
    reason = serializers.ChoiceField(choices=[r.value for r in CancelReason], help_text="Why the seller cancels.")
    message = serializers.CharField(required=False, default="", allow_blank=True, max_length=1000,
                                    help_text="The reason in words; required when the reason is “other”.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["reason"] == CancelReason.OTHER and not attrs["message"].strip():
            raise serializers.ValidationError({"message": ["Describe the reason when it is “other”."]})
        return attrs


class ItemResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    order_id = serializers.IntegerField(allow_null=True, help_text="The order (null: a WB task unknown here).")
    external_id = serializers.CharField(help_text="The marketplace's order id.")
    status = serializers.ChoiceField(choices=["applied", "rejected"], help_text="applied or rejected.")
    message = serializers.CharField(allow_blank=True, help_text="Why it was refused (the marketplace's reason).")
    new_status = serializers.CharField(allow_blank=True, help_text="The order's status after the action, if moved.")
    remote_ref = serializers.CharField(allow_blank=True, help_text="WB: the supply id.")


class SupplyCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    account = serializers.PrimaryKeyRelatedField(queryset=MarketplaceAccount.objects.filter(enabled=True),
                                                 help_text="The (Wildberries) account.")
    name = serializers.CharField(max_length=128, help_text="Name of the new supply.")


class SupplyCreatedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    supply_id = serializers.CharField(help_text="The new supply's id.")


class SupplyDeliverSerializer(serializers.Serializer):  # type: ignore[type-arg]
    account = serializers.PrimaryKeyRelatedField(queryset=MarketplaceAccount.objects.filter(enabled=True),
                                                 help_text="The (Wildberries) account.")
    supply_id = serializers.CharField(max_length=100, help_text="The supply to close and hand to the marketplace.")


class LabelRefusalSerializer(serializers.Serializer):  # type: ignore[type-arg]
    results = ItemResultSerializer(many=True, help_text="Why each selected order has no label.")


class MarketplaceDownSerializer(serializers.Serializer):  # type: ignore[type-arg]
    detail = serializers.CharField(help_text="What the marketplace or the network answered.")


UNREACHABLE = OpenApiResponse(MarketplaceDownSerializer, description="The marketplace could not be reached.")
RESULTS = OpenApiResponse(ItemResultSerializer(many=True), description="One result per selected order, in order.")


def _results(items: list[fulfilment.ItemResult]) -> Response:
    return Response(ItemResultSerializer(items, many=True).data)


def _unreachable(error: MarketplaceError) -> Response:
    return Response({"detail": error.message}, status=502)


@extend_schema_view(
    list=extend_schema(summary="List orders with their lines and status history",
                       description="Filters and search as on the orders screen."),
    retrieve=extend_schema(summary="One order with its lines and status history"),
)
class OrderViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = OrderSerializer
    queryset = _orders()
    pagination_class = KeysetPagination
    filterset_class = OrderFilter
    sorts = ORDER_SORTS

    def _selection(self, request: Request, form_class: type[SelectionSerializer]) -> dict[str, Any]:
        form = form_class(data=request.data)
        form.is_valid(raise_exception=True)
        return dict(form.validated_data)

    @extend_schema(summary="Assemble orders (FBS/DBS)",
                   description="Ozon: ship with one package per order; WB: into the supply (a new one when "
                               "empty); YM: boxes, then ready to ship.",
                   request=AssembleSerializer, responses={200: RESULTS})
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def assemble(self, request: Request) -> Response:
        data = self._selection(request, AssembleSerializer)
        return _results(fulfilment.assemble(request.user, data["orders"], supply_id=data["supply_id"]))

    @extend_schema(summary="Hand orders over to delivery", request=SelectionSerializer, responses={200: RESULTS})
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[], url_path="hand-over")
    def hand_over(self, request: Request) -> Response:
        data = self._selection(request, SelectionSerializer)
        return _results(fulfilment.hand_over(request.user, data["orders"]))

    @extend_schema(summary="Cancel orders", request=CancelSerializer, responses={200: RESULTS})
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def cancel(self, request: Request) -> Response:
        data = self._selection(request, CancelSerializer)
        return _results(fulfilment.cancel(request.user, data["orders"], reason=data["reason"],
                                          message=data["message"]))

    @extend_schema(
        summary="Labels of orders as one PDF",
        description="Every printable label of the selection in one PDF, in the selection's order. The "
                    "X-Refused-Orders header lists the orders without a label; 422 when none has one.",
        request=SelectionSerializer,
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The labels."),
            422: OpenApiResponse(LabelRefusalSerializer, description="No order has a label."),
        },
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def labels(self, request: Request) -> Any:
        data = self._selection(request, SelectionSerializer)
        bundle = fulfilment.labels(request.user, data["orders"])
        if not bundle.pages:
            return Response({"results": ItemResultSerializer(bundle.results, many=True).data}, status=422)
        response = HttpResponse(bundle.pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="labels.pdf"'
        response["X-Refused-Orders"] = ",".join(r.external_id for r in bundle.results if not r.applied)
        return response

    @extend_schema(summary="Create a WB supply", request=SupplyCreateSerializer,
                   responses={201: SupplyCreatedSerializer, 502: UNREACHABLE})
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[], url_path="supplies")
    def create_supply(self, request: Request) -> Response:
        form = SupplyCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            supply_id = fulfilment.create_supply(request.user, form.validated_data["account"],
                                                 form.validated_data["name"])
        except MarketplaceError as error:
            return _unreachable(error)
        return Response({"supply_id": supply_id}, status=201)

    @extend_schema(summary="Hand a WB supply over", request=SupplyDeliverSerializer,
                   responses={200: RESULTS, 502: UNREACHABLE})
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[], url_path="supplies/deliver")
    def deliver_supply(self, request: Request) -> Response:
        form = SupplyDeliverSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            results = fulfilment.deliver_supply(request.user, form.validated_data["account"],
                                                form.validated_data["supply_id"])
        except MarketplaceError as error:
            return _unreachable(error)
        return _results(results)


# ---------------------------------------------------------------------------------------------
# Returns


class ReturnSerializer(DescribedModelSerializer):
    class Meta:
        model = Return
        fields = ["id", "account", "external_id", "order", "order_external_id", "listing", "offer_id", "kind",
                  "quantity", "reason", "raw_status", "amount", "currency", "returned_at", "external_updated_at",
                  "created_at", "updated_at"]
        read_only_fields = fields
        help_texts = {
            "order": "The order (id), once synced.",
            "order_external_id": "The marketplace's id of the order.",
            "kind": "return, cancellation or unredeemed (not picked up).",
            "reason": "The buyer's reason.",
            "amount": "Amount returned, if reported.",
            "returned_at": "When it was returned.",
        }


class ReturnFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.all(), label="Account (id).")
    kind = django_filters.ChoiceFilter(choices=Return.Kind.choices, label="Kind of return.")
    order = django_filters.NumberFilter(field_name="order_id", min_value=1, label="Order (id).")

    class Meta:
        model = Return
        fields = ["marketplace", "account", "kind", "order"]


@extend_schema_view(list=extend_schema(summary="List returns"), retrieve=extend_schema(summary="One return"))
class ReturnViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = ReturnSerializer
    queryset = Return.objects.all()
    pagination_class = KeysetPagination
    filterset_class = ReturnFilter
