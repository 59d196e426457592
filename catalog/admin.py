from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from catalog.models import (
    Category,
    CategoryAttribute,
    CostPriceHistory,
    Listing,
    ListingCheck,
    Product,
    ProductStock,
    StockLevel,
    Warehouse,
)
from core.admin import LargeTableAdmin, ReadOnlyInline, SyncedAdmin


class CostPriceHistoryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CostPriceHistory
    extra = 0


@admin.register(Product)
class ProductAdmin(LargeTableAdmin):
    """The seller's own items: edited here (not synced)."""

    list_display = ["article", "name", "brand", "cost_price", "currency", "updated_at"]
    search_fields = ["^article"]
    ordering = ["article"]
    sortable_by = ["article"]
    inlines = [CostPriceHistoryInline]


@admin.register(CostPriceHistory)
class CostPriceHistoryAdmin(LargeTableAdmin):
    list_display = ["product", "cost_price", "currency", "valid_from"]
    search_fields = ["^product__article"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]


@admin.register(Listing)
class ListingAdmin(SyncedAdmin):
    # The link to a product is ours (manual override); the rest comes from the marketplace.
    local_fields = ("product", "link_source")
    list_display = ["offer_id", "title", "account", "product", "link_source", "status", "archived"]
    list_filter = ["account__marketplace", "account", "link_source", "archived"]
    search_fields = ["^offer_id", "external_id__exact", "marketplace_sku__exact"]
    list_select_related = ["account", "product"]
    raw_id_fields = ["product"]
    ordering = ["offer_id", "id"]
    sortable_by = ["offer_id"]


@admin.register(Warehouse)
class WarehouseAdmin(SyncedAdmin):
    list_display = ["name", "account", "kind", "is_active", "external_id"]
    list_filter = ["kind", "is_active", "account"]
    search_fields = ["name", "external_id"]  # a few hundred rows at most
    list_select_related = ["account"]
    ordering = ["account", "name"]


@admin.register(StockLevel)
class StockLevelAdmin(SyncedAdmin):
    list_display = ["listing", "warehouse", "variant_id", "present", "reserved", "updated_at"]
    list_filter = ["warehouse__account", "warehouse"]
    search_fields = ["listing__offer_id__exact"]
    list_select_related = ["listing", "warehouse"]


@admin.register(ProductStock)
class ProductStockAdmin(SyncedAdmin):
    """Kept by the database's triggers from the stock rows: shown, never edited."""

    list_display = ["product", "available"]
    search_fields = ["^product__article"]
    list_select_related = ["product"]
    ordering = ["product"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Listing checks (catalog.checks): dictionaries the categories stream fetched, and computed checks.
class CategoryAttributeInline(ReadOnlyInline):
    model = CategoryAttribute
    fields = ["external_id", "name", "required", "kind", "max_length", "max_values"]


@admin.register(Category)
class CategoryAdmin(SyncedAdmin):
    list_display = ["name", "marketplace", "external_id", "path", "fetched_at"]
    list_filter = ["marketplace"]
    search_fields = ["external_id__exact"]
    inlines = [CategoryAttributeInline]


@admin.register(CategoryAttribute)
class CategoryAttributeAdmin(SyncedAdmin):
    list_display = ["name", "category", "required", "kind", "max_length"]
    list_select_related = ["category"]


@admin.register(ListingCheck)
class ListingCheckAdmin(SyncedAdmin):
    list_display = ["listing", "score", "problem_count", "checked_at"]
    list_select_related = ["listing"]
    search_fields = ["listing__offer_id__exact"]
    ordering = ["-pk"]
