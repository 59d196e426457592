"""Admin pages of the daily roll-ups (analytics.rollup writes them; rebuild with `manage.py
rebuild_sales_rollup`), the report jobs and the report snapshots (analytics.report_cache): read-only.
Registered from AnalyticsConfig.ready."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.functional import cached_property

from analytics.models import (
    FinanceDaily,
    ReportInputChange,
    ReportJob,
    ReportSnapshot,
    ReportSnapshotRow,
    SalesDaily,
    SalesDayTotal,
)


class _CappedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most CAP rows (SELECT count(*) FROM (… LIMIT CAP)): the article table grows by about
    a row per order line, and an exact count of it would cost more than the page."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return int(self.object_list[: self.CAP].count())


class _Unchangeable(admin.ModelAdmin):  # type: ignore[type-arg]
    show_full_result_count = False
    paginator = _CappedCountPaginator
    ordering = ["-id"]  # the primary key's index: newest first without sorting the table

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _ReadOnly(_Unchangeable):
    list_select_related = ["account"]
    list_filter = ["account__marketplace", "account"]


@admin.register(SalesDaily)
class SalesDailyAdmin(_ReadOnly):
    list_display = ["day", "account", "offer_id", "listing", "orders", "units", "revenue", "returns", "currency"]
    search_fields = ["=offer_id"]
    raw_id_fields = ["listing"]
    list_select_related = ["account", "listing"]


@admin.register(SalesDayTotal)
class SalesDayTotalAdmin(_ReadOnly):
    list_display = ["day", "account", "orders", "cancelled", "units", "revenue", "returns", "currency"]


@admin.register(FinanceDaily)
class FinanceDailyAdmin(_ReadOnly):
    list_display = ["day", "account", "offer_id", "operations", "sale_amount", "commission", "logistics", "payout",
                    "currency"]
    search_fields = ["=offer_id"]


@admin.register(ReportJob)
class ReportJobAdmin(_ReadOnly):
    list_display = ["created_at", "user", "kind", "fmt", "status", "progress", "filename"]
    list_filter = ["status", "kind"]
    list_select_related = ["user"]
    exclude = ["content"]


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(_Unchangeable):
    list_display = ["kind", "option", "start", "end", "marketplace", "rows", "computed_at", "seconds"]
    list_filter = ["kind", "marketplace"]
    exclude = ["summary"]


@admin.register(ReportSnapshotRow)
class ReportSnapshotRowAdmin(_Unchangeable):
    list_display = ["snapshot", "position", "cell", "key", "label"]
    list_select_related = ["snapshot"]
    raw_id_fields = ["snapshot"]


@admin.register(ReportInputChange)
class ReportInputChangeAdmin(_Unchangeable):
    list_display = ["id", "weight"]
