from django.contrib import admin

from orders.models import Order, OrderLine, OrderStatusChange, Return


class OrderLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OrderLine
    extra = 0
    raw_id_fields = ["listing"]


class OrderStatusChangeInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OrderStatusChange
    extra = 0
    readonly_fields = ["from_status", "to_status", "raw_status", "changed_at", "source", "recorded_at"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "external_id",
        "account",
        "scheme",
        "status",
        "raw_status",
        "ordered_at",
        "total_amount",
        "currency",
    ]
    list_filter = ["status", "scheme", "account__marketplace", "account"]
    search_fields = ["external_id", "order_number", "tracking_number", "buyer_city"]
    list_select_related = ["account"]
    date_hierarchy = "ordered_at"
    raw_id_fields = ["warehouse"]
    inlines = [OrderLineInline, OrderStatusChangeInline]


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["order", "line_key", "offer_id", "quantity", "price", "currency"]
    list_filter = ["currency"]
    search_fields = ["order__external_id", "offer_id", "name"]
    list_select_related = ["order"]
    raw_id_fields = ["order", "listing"]


@admin.register(OrderStatusChange)
class OrderStatusChangeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["order", "from_status", "to_status", "raw_status", "changed_at", "source"]
    list_filter = ["to_status", "source"]
    search_fields = ["order__external_id", "raw_status"]
    list_select_related = ["order"]
    raw_id_fields = ["order"]


@admin.register(Return)
class ReturnAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["external_id", "account", "kind", "order_external_id", "offer_id", "quantity", "returned_at"]
    list_filter = ["kind", "account__marketplace", "account"]
    search_fields = ["external_id", "order_external_id", "offer_id", "reason"]
    list_select_related = ["account"]
    raw_id_fields = ["order", "listing"]
    date_hierarchy = "returned_at"
