"""The catalogue API: master products, marketplace cards (listings) with their listing check, warehouses,
stock levels, and setting the stock of a card on one of the seller's own (FBS) warehouses.

Lists filter with the screens' own FilterSets (catalog.filters, catalog.stock_filters) and page in the
screens' indexed sorts (catalog.selectors, catalog.stock_page)."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.filters import ListingFilter, ProductFilter
from catalog.models import Listing, ListingCheck, Product, StockLevel, Warehouse
from catalog.selectors import LISTING_SORTS, PRODUCT_SORTS, listing_list, product_list
from catalog.services import CatalogChangeError, link_listing_to_product, set_stock, update_listing_content
from catalog.stock_filters import StockFilter
from catalog.stock_page import STOCK_SORTS, stock_list
from core.api import DescribedModelSerializer, KeysetPagination, field_errors
from core.filters import MarketplaceFilter
from integrations.api import OutboxChangeSerializer
from integrations.models import MarketplaceAccount


class ProductSerializer(DescribedModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id", "article", "name", "brand", "description", "barcodes", "cost_price", "currency",
            "length_mm", "width_mm", "height_mm", "weight_g", "images", "created_at", "updated_at",
        ]
        read_only_fields = fields
        help_texts = {
            "name": "Product name.",
            "brand": "Brand.",
            "description": "Description.",
            "barcodes": "Barcodes (EAN) of the product.",
            "cost_price": "Cost today (see /costs/ for its history).",
            "length_mm": "Packed length, mm.",
            "width_mm": "Packed width, mm.",
            "height_mm": "Packed height, mm.",
            "weight_g": "Packed weight, g.",
            "images": "Image URLs.",
        }


class ProblemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    rule = serializers.CharField(help_text="Code of the rule the card breaks.")
    severity = serializers.ChoiceField(choices=["error", "warning"], help_text="error or warning.")
    message = serializers.CharField(help_text="What is wrong and how to fix it.")
    source = serializers.CharField(required=False, help_text="Where the rule comes from.")  # type: ignore[assignment]
    url = serializers.CharField(required=False, help_text="The marketplace's documentation of the rule.")


class ListingCheckSerializer(DescribedModelSerializer):
    problems = ProblemSerializer(many=True, read_only=True, help_text="What the check found.")

    class Meta:
        model = ListingCheck
        fields = ["score", "problem_count", "problems", "checked_at"]
        read_only_fields = fields
        help_texts = {
            "score": "Quality score, 0..100.",
            "problem_count": "Number of problems found.",
            "checked_at": "When the card was last checked.",
        }


class ListingSerializer(DescribedModelSerializer):
    marketplace = serializers.CharField(source="account.marketplace", read_only=True,
                                        help_text="Marketplace of the card's account.")
    check = ListingCheckSerializer(source="quality_check", read_only=True, allow_null=True,
                                   help_text="The latest listing check, null before the first one.")

    class Meta:
        model = Listing
        fields = [
            "id", "account", "marketplace", "external_id", "offer_id", "marketplace_sku", "product", "link_source",
            "title", "description", "brand", "category", "category_id", "barcodes", "status", "marketplace_errors",
            "archived", "missing_since", "external_updated_at", "created_at", "updated_at", "check",
        ]
        read_only_fields = fields
        help_texts = {
            "external_id": "The marketplace's id of the card: Ozon product_id, WB nmID, YM offerId.",
            "link_source": "How the card was linked to its product: article, barcode, manual, or empty.",
            "description": "Description on the marketplace.",
            "brand": "Brand on the marketplace.",
            "category": "Category name on the marketplace.",
            "category_id": "Category id in the marketplace's dictionary.",
            "barcodes": "Barcodes of the card.",
            "status": "The marketplace's status of the card.",
            "marketplace_errors": "Errors the marketplace reports for the card.",
            "archived": "Archived on the marketplace.",
            "missing_since": "Since when the marketplace no longer lists the card (deleted there), else null.",
        }


def _listings() -> Any:
    return listing_list().select_related("quality_check")


@extend_schema_view(
    list=extend_schema(summary="List master products",
                       description="Filters and search as on the catalogue screen."),
    retrieve=extend_schema(summary="One master product"),
)
class ProductViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = ProductSerializer
    queryset = product_list()
    pagination_class = KeysetPagination
    filterset_class = ProductFilter
    sorts = PRODUCT_SORTS


class ContentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    title = serializers.CharField(required=False, allow_null=True, default=None, max_length=1000,
                                  help_text="New title; omitted or null keeps it.")
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None,
                                        max_length=50000, help_text="New description; omitted or null keeps it.")


class LinkSerializer(serializers.Serializer):  # type: ignore[type-arg]
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), allow_null=True,
                                                 help_text="The master product (id); null unlinks the card.")


@extend_schema_view(
    list=extend_schema(summary="List marketplace cards (listings) with their listing checks",
                       description="Filters and search as on the cards screen; `problems=true` keeps the cards "
                                   "the listing check found problems in."),
    retrieve=extend_schema(summary="One marketplace card with its listing check"),
)
class ListingViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = ListingSerializer
    queryset = _listings()
    pagination_class = KeysetPagination
    filterset_class = ListingFilter
    sorts = LISTING_SORTS

    @extend_schema(
        summary="Change a card's title or description",
        description="Queues the new content for the marketplace through the outbox "
                    "(catalog.services.update_listing_content); the card changes when the next sync reads it "
                    "back. Managers and administrators.",
        request=ContentSerializer,
        responses={202: OutboxChangeSerializer},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def content(self, request: Request, pk: str | None = None) -> Response:
        form = ContentSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = form.validated_data
        try:
            change = update_listing_content(self.get_object(), data["title"], data["description"], request.user)
        except CatalogChangeError as error:
            raise field_errors(error, "title") from error
        return Response(OutboxChangeSerializer(change).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Link a card to a master product (or unlink it)",
        description="A manual link, which the automatic linking by article or barcode never overrides. "
                    "Managers and administrators.",
        request=LinkSerializer,
        responses={200: ListingSerializer},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def link(self, request: Request, pk: str | None = None) -> Response:
        form = LinkSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        listing = link_listing_to_product(self.get_object(), form.validated_data["product"], request.user)
        return Response(ListingSerializer(_listings().get(pk=listing.pk)).data)


# ---------------------------------------------------------------------------------------------
# Warehouses and stock


class WarehouseSerializer(DescribedModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "account", "external_id", "name", "kind", "is_active", "raw_status", "created_at",
                  "updated_at"]
        read_only_fields = fields
        help_texts = {
            "name": "Warehouse name.",
            "kind": "seller: the seller's own (FBS/DBS), stock set from here; marketplace: FBO.",
            "is_active": "Active on the marketplace.",
        }


class WarehouseFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.all(), label="Account (id).")
    kind = django_filters.ChoiceFilter(choices=Warehouse.Kind.choices, label="Kind of warehouse.")

    class Meta:
        model = Warehouse
        fields = ["marketplace", "account", "kind"]


@extend_schema_view(
    list=extend_schema(summary="List warehouses"),
    retrieve=extend_schema(summary="One warehouse"),
)
class WarehouseViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = WarehouseSerializer
    queryset = Warehouse.objects.all()
    pagination_class = KeysetPagination
    filterset_class = WarehouseFilter


class StockLevelSerializer(DescribedModelSerializer):
    offer_id = serializers.CharField(source="listing.offer_id", read_only=True,
                                     help_text="Seller article of the card.")
    available = serializers.SerializerMethodField(help_text="present − reserved, never below 0: what can be sold.")

    class Meta:
        model = StockLevel
        fields = ["id", "listing", "offer_id", "warehouse", "variant_id", "present", "reserved", "available",
                  "updated_at"]
        read_only_fields = fields
        help_texts = {
            "variant_id": "The size (WB chrtId) the stock is of; empty where stock is per card.",
            "present": "Units on the warehouse.",
            "reserved": "Units reserved for orders.",
        }

    def get_available(self, level: StockLevel) -> int:
        return max(level.present - level.reserved, 0)


class SetStockSerializer(serializers.Serializer):  # type: ignore[type-arg]
    listing = serializers.PrimaryKeyRelatedField(queryset=Listing.objects.select_related("account"),
                                                 help_text="The card.")
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all(),
                                                   help_text="One of the seller's own (FBS) warehouses of the "
                                                             "card's account.")
    quantity = serializers.IntegerField(min_value=0, help_text="Units available to sell (absolute, not a delta).")
    variant_id = serializers.CharField(required=False, default="", allow_blank=True, max_length=100,
                                       help_text="The size, for a card with several sizes (WB).")


def _stock_error_field(message: str) -> str:
    if "size" in message:
        return "variant_id"
    if "warehouse" in message:
        return "warehouse"
    return "quantity"


@extend_schema_view(
    list=extend_schema(summary="List stock levels",
                       description="One row per card, warehouse and size; filters as on the stock screen."),
    retrieve=extend_schema(summary="One stock level"),
)
class StockLevelViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = StockLevelSerializer
    queryset = stock_list()
    pagination_class = KeysetPagination
    filterset_class = StockFilter
    sorts = STOCK_SORTS

    @extend_schema(
        summary="Set the stock of a card on an own (FBS) warehouse",
        description="Queues the new quantity for the marketplace through the outbox (catalog.services.set_stock); "
                    "the stock level changes when the next sync reads it back. Managers and administrators.",
        request=SetStockSerializer,
        responses={202: OutboxChangeSerializer},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[], url_path="set")
    def set_stock(self, request: Request) -> Response:
        form = SetStockSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = form.validated_data
        try:
            change = set_stock(data["listing"], data["warehouse"], data["quantity"], request.user,
                               variant_id=data["variant_id"])
        except CatalogChangeError as error:
            raise field_errors(error, _stock_error_field(str(error))) from error
        return Response(OutboxChangeSerializer(change).data, status=status.HTTP_202_ACCEPTED)
