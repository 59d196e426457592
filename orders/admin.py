from django.contrib import admin

from core.admin import ReadOnlyInline, SyncedAdmin, UnchangeableAdmin
from orders.models import Order, OrderLine, OrderStatusChange, Return, ReturnArticleTotal, SavedOrderView


class OrderLineInline(ReadOnlyInline):
    model = OrderLine


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange


@admin.register(Order)
class OrderAdmin(SyncedAdmin):
    list_display = [
        "external_id", "account", "scheme", "status", "raw_status", "ordered_at", "total_amount", "currency",
    ]
    list_filter = ["status", "scheme", "account__marketplace", "account"]
    # The marketplace's ids by prefix: the order_external_id_prefix / order_number_prefix indexes.
    search_fields = ["external_id__startswith", "order_number__startswith"]
    list_select_related = ["account"]
    ordering = ["-ordered_at", "-id"]
    sortable_by = ["ordered_at", "total_amount"]
    inlines = [OrderLineInline, OrderStatusChangeInline]


@admin.register(OrderLine)
class OrderLineAdmin(SyncedAdmin):
    list_display = ["order", "line_key", "offer_id", "quantity", "price", "currency"]
    search_fields = ["offer_id__exact"]
    list_select_related = ["order"]


@admin.register(OrderStatusChange)
class OrderStatusChangeAdmin(SyncedAdmin):
    list_display = ["order", "from_status", "to_status", "raw_status", "changed_at", "source"]
    list_filter = ["source"]
    search_fields = ["order__external_id__exact"]
    list_select_related = ["order"]


@admin.register(Return)
class ReturnAdmin(SyncedAdmin):
    list_display = ["external_id", "account", "kind", "order_external_id", "offer_id", "quantity", "returned_at"]
    list_filter = ["kind", "account__marketplace", "account"]
    search_fields = ["external_id__exact", "order_external_id__exact"]
    list_select_related = ["account"]




@admin.register(ReturnArticleTotal)
class ReturnArticleTotalAdmin(UnchangeableAdmin):
    """The returns' totals per article, kept by triggers (rebuild: `manage.py rebuild_return_totals`): read-only."""

    list_display = ["offer_id", "returns", "units"]
    search_fields = ["offer_id__exact"]
    ordering = ["-units", "-returns", "offer_id"]  # the return_article_rank index


@admin.register(SavedOrderView)
class SavedOrderViewAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "user", "query", "created_at"]
    list_select_related = ["user"]
    search_fields = ["name"]
