"""The purchasing API: suppliers (supply.services.save_supplier), the products bought from them with their
terms (set_product_terms, remove_product) and the stock forecast per product (read-only, the screen's
ForecastFilter and order)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import DescribedModelSerializer, KeysetPagination, field_errors
from core.pagination import Sort, Sorts
from supply.filters import FORECAST_SORTS, ForecastFilter
from supply.models import ProductForecast, Supplier, SupplierProduct
from supply.services import SupplyError, remove_product, save_supplier, set_product_terms

SUPPLIER_SORTS = Sorts(Supplier, [Sort("name", "By name", ("name", "id")), Sort("newest", "Newest first", ("-id",))])


def _refusal(error: DjangoValidationError) -> ValidationError:
    """A model's full_clean refusal as the API's 400 (field → messages)."""
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"non_field_errors": error.messages})


class SupplierSerializer(DescribedModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "name", "contact", "email", "phone", "lead_time_days", "min_order_amount", "notes",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        help_texts = {
            "name": "Name of the supplier (unique).",
            "contact": "Contact person.",
            "lead_time_days": "Days from placing an order to the goods being sellable (the products' default).",
            "min_order_amount": "Smallest order the supplier accepts, ₽.",
        }


class SupplierFilter(django_filters.FilterSet):  # type: ignore[misc]
    q = django_filters.CharFilter(field_name="name", lookup_expr="istartswith", max_length=200,
                                  label="Name starts with.")

    class Meta:
        model = Supplier
        fields = ["q"]


@extend_schema_view(
    list=extend_schema(summary="List suppliers", description="Every role; `q` finds a name by its beginning."),
    retrieve=extend_schema(summary="One supplier"),
    create=extend_schema(summary="Add a supplier", description="Audited. Managers and administrators."),
    update=extend_schema(summary="Replace a supplier's details", description="Audited with the changes."),
    partial_update=extend_schema(summary="Change a supplier's details", description="Audited with the changes."),
)
class SupplierViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = SupplierSerializer
    queryset = Supplier.objects.all()
    pagination_class = KeysetPagination
    filterset_class = SupplierFilter
    sorts = SUPPLIER_SORTS

    def perform_create(self, serializer: Any) -> None:
        self._save(serializer, Supplier())

    def perform_update(self, serializer: Any) -> None:
        self._save(serializer, serializer.instance)

    def _save(self, serializer: Any, supplier: Supplier) -> None:
        for name, value in serializer.validated_data.items():
            setattr(supplier, name, value)
        try:
            serializer.instance = save_supplier(supplier, self.request.user)
        except DjangoValidationError as error:
            raise _refusal(error) from error


# ---------------------------------------------------------------------------------------------
# The products bought from a supplier


class SupplierProductSerializer(DescribedModelSerializer):
    article = serializers.CharField(source="product.article", read_only=True, help_text="Seller article of the "
                                                                                        "product.")
    lead_time = serializers.IntegerField(read_only=True, help_text="Lead time that applies: the product's, else "
                                                                   "the supplier's.")

    class Meta:
        model = SupplierProduct
        fields = ["id", "supplier", "product", "article", "lead_time_days", "lead_time", "min_order_qty",
                  "pack_size", "purchase_price", "is_primary"]
        read_only_fields = fields
        help_texts = {
            "supplier": "The supplier (id).",
            "lead_time_days": "Lead time of this product; null: the supplier's.",
            "min_order_qty": "Smallest order of this product, pcs.",
            "pack_size": "Units in a pack; orders are whole packs.",
            "purchase_price": "Purchase price of one unit, ₽.",
            "is_primary": "The product's main supplier (the one the reorder suggestion uses).",
        }


class TermsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The terms of the screen's form (supply.forms.ProductTermsForm), each optional on a change."""

    lead_time_days = serializers.IntegerField(min_value=0, max_value=365, required=False, allow_null=True,
                                              help_text="Lead time of this product, days; null: the supplier's.")
    min_order_qty = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False,
                                             help_text="Smallest order, pcs.")
    pack_size = serializers.IntegerField(min_value=1, max_value=100_000, required=False, help_text="Units in a pack.")
    purchase_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False,
                                              allow_null=True, help_text="Purchase price of one unit, ₽.")
    is_primary = serializers.BooleanField(required=False, help_text="Make it the product's main supplier (takes "
                                                                    "that role from the previous one).")


class SetTermsSerializer(TermsSerializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all(), help_text="The supplier (id).")
    article = serializers.CharField(max_length=100, help_text="Seller article of the product (any case).")


class SupplierProductFilter(django_filters.FilterSet):  # type: ignore[misc]
    supplier = django_filters.NumberFilter(field_name="supplier_id", min_value=1, label="Supplier (id).")
    product = django_filters.NumberFilter(field_name="product_id", min_value=1, label="Product (id).")

    class Meta:
        model = SupplierProduct
        fields = ["supplier", "product"]


def _set_terms(supplier: Supplier, article: str, terms: dict[str, Any], user: Any) -> SupplierProduct:
    try:
        return set_product_terms(supplier, article, terms, user)
    except SupplyError as error:
        raise field_errors(error, "article") from error
    except DjangoValidationError as error:
        raise _refusal(error) from error


@extend_schema_view(
    list=extend_schema(summary="List the products bought from suppliers", description="With their terms."),
    retrieve=extend_schema(summary="One supplier's product with its terms"),
    destroy=extend_schema(summary="Remove a product from its supplier", description="Audited."),
)
class SupplierProductViewSet(mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = SupplierProductSerializer
    queryset = SupplierProduct.objects.select_related("product", "supplier")
    pagination_class = KeysetPagination
    filterset_class = SupplierProductFilter

    @extend_schema(summary="Add a product to a supplier or change its terms",
                   description="By the seller article; the same article again changes the terms. Audited. "
                               "Managers and administrators.",
                   request=SetTermsSerializer, responses={201: SupplierProductSerializer})
    def create(self, request: Request) -> Response:
        form = SetTermsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        supplier, article = data.pop("supplier"), data.pop("article")
        row = _set_terms(supplier, article, data, request.user)
        return Response(SupplierProductSerializer(self.get_queryset().get(pk=row.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a supplier's product terms", description="Only the terms sent change. Audited.",
                   request=TermsSerializer, responses={200: SupplierProductSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        form = TermsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        row = self.get_object()
        _set_terms(row.supplier, row.product.article, dict(form.validated_data), request.user)
        return Response(SupplierProductSerializer(self.get_queryset().get(pk=row.pk)).data)

    def perform_destroy(self, instance: SupplierProduct) -> None:
        remove_product(instance, self.request.user)


# ---------------------------------------------------------------------------------------------
# The stock forecast


class ForecastSerializer(DescribedModelSerializer):
    article = serializers.CharField(source="product.article", read_only=True, help_text="Seller article.")
    product_name = serializers.CharField(source="product.name", read_only=True, help_text="Name of the product.")

    class Meta:
        model = ProductForecast
        fields = ["id", "product", "article", "product_name", "stock", "units_sold", "daily_rate", "days_left",
                  "stockout_on", "supplier", "lead_time_days", "order_by", "reorder_qty", "computed_at"]
        read_only_fields = fields
        help_texts = {
            "daily_rate": "Units sold per day over the window.",
            "days_left": "Whole days the stock lasts (100000: nothing sold in the window).",
            "stockout_on": "The day the stock runs out at this rate (null: nothing sold).",
            "supplier": "The main supplier (id), if any.",
            "lead_time_days": "Lead time used (the main supplier's terms).",
            "reorder_qty": "Units to order now (0: none needed yet); whole packs, at least the minimum order.",
            "computed_at": "When the forecast was computed (hourly).",
        }


@extend_schema_view(
    list=extend_schema(summary="Stock forecast per product",
                       description="Days of stock, stock-out date and what to order by when, every marketplace "
                                   "together; the forecast screen's filters, runs-out-first order."),
    retrieve=extend_schema(summary="One product's stock forecast"),
)
class ForecastViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = ForecastSerializer
    pagination_class = KeysetPagination
    filterset_class = ForecastFilter
    sorts = FORECAST_SORTS

    def get_queryset(self) -> QuerySet[ProductForecast]:
        return ProductForecast.objects.select_related("product")
