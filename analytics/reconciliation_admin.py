"""Admin pages of the reconciliation's tables: read-only (analytics.reconciliation's refresh writes
them). Registered from AnalyticsConfig.ready."""

from __future__ import annotations

from django.contrib import admin

from analytics.models import Discrepancy, DiscrepancyDaily, ReconciliationDaily, ReconciliationRun
from analytics.rollup_admin import _ReadOnly


@admin.register(Discrepancy)
class DiscrepancyAdmin(_ReadOnly):
    list_display = ["day", "account", "kind", "order_external_id", "expected", "actual", "difference", "currency"]
    list_filter = ["kind", "account__marketplace", "account"]
    search_fields = ["=order_external_id"]
    raw_id_fields = ["order"]


@admin.register(ReconciliationDaily)
class ReconciliationDailyAdmin(_ReadOnly):
    list_display = ["day", "account", "orders", "predicted", "accrued", "paid", "commission", "currency"]


@admin.register(DiscrepancyDaily)
class DiscrepancyDailyAdmin(_ReadOnly):
    list_display = ["day", "account", "kind", "count", "amount", "currency"]


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(_ReadOnly):
    list_display = ["created_at", "account", "status", "since", "discrepancies", "finished_at", "requested_by"]
    list_filter = ["status", "account"]
    list_select_related = ["account", "requested_by"]
