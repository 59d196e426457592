from django.contrib import admin

from analytics.models import FeeLine, FinanceOperation
from core.admin import ReadOnlyInline, SyncedAdmin


class FeeLineInline(ReadOnlyInline):
    model = FeeLine


@admin.register(FinanceOperation)
class FinanceOperationAdmin(SyncedAdmin):
    list_display = ["external_id", "account", "operation_type", "operation_at", "sale_amount", "amount", "currency"]
    list_filter = ["account__marketplace", "account"]
    # Exact ids only: the finance_operation_external_id and order_external_id indexes.
    search_fields = ["external_id__exact", "order_external_id__exact"]
    list_select_related = ["account"]
    inlines = [FeeLineInline]


@admin.register(FeeLine)
class FeeLineAdmin(SyncedAdmin):
    list_display = ["operation", "kind", "name", "amount"]
    list_filter = ["kind"]
    search_fields = ["operation__external_id__exact"]
    list_select_related = ["operation"]
