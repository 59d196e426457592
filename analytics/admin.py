from django.contrib import admin

from analytics.models import FeeLine, FinanceOperation


class FeeLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FeeLine
    extra = 0


@admin.register(FinanceOperation)
class FinanceOperationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["external_id", "account", "operation_type", "operation_at", "sale_amount", "amount", "currency"]
    list_filter = ["account__marketplace", "account", "currency"]
    search_fields = ["external_id", "operation_type", "order_external_id", "offer_id"]
    list_select_related = ["account"]
    date_hierarchy = "operation_at"
    inlines = [FeeLineInline]


@admin.register(FeeLine)
class FeeLineAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["operation", "kind", "name", "amount"]
    list_filter = ["kind"]
    search_fields = ["name", "operation__external_id"]
    list_select_related = ["operation"]
    raw_id_fields = ["operation"]
