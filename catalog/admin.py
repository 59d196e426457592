from django.contrib import admin

from catalog.models import CostPriceHistory, Listing, Product, StockLevel, Warehouse


class CostPriceHistoryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CostPriceHistory
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["article", "name", "brand", "cost_price", "currency", "updated_at"]
    list_filter = ["brand", "currency"]
    search_fields = ["article", "name", "brand", "barcodes"]
    inlines = [CostPriceHistoryInline]


@admin.register(CostPriceHistory)
class CostPriceHistoryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["product", "cost_price", "currency", "valid_from"]
    list_filter = ["currency"]
    search_fields = ["product__article", "product__name"]
    list_select_related = ["product"]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["offer_id", "title", "account", "product", "link_source", "status", "archived"]
    list_filter = ["account__marketplace", "account", "link_source", "archived"]
    search_fields = ["offer_id", "external_id", "marketplace_sku", "title", "barcodes"]
    list_select_related = ["account", "product"]
    raw_id_fields = ["product"]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "account", "kind", "is_active", "external_id"]
    list_filter = ["kind", "is_active", "account"]
    search_fields = ["name", "external_id"]
    list_select_related = ["account"]


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["listing", "warehouse", "variant_id", "present", "reserved", "updated_at"]
    list_filter = ["warehouse__account", "warehouse"]
    search_fields = ["listing__offer_id", "warehouse__name"]
    list_select_related = ["listing", "warehouse"]
    raw_id_fields = ["listing"]
