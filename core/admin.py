"""Admin building blocks for big tables, and the audit log's admin.

``LargeTableAdmin`` is the base of every admin over a table that grows with the seller (orders, lines,
finance operations, listings, stock, reviews…): no date drill-down, no facet counts, no second unfiltered
count, a paginator that estimates instead of counting a million rows, and an indexed default order.
Its subclasses search on exact or prefix matches of indexed columns (``external_id__exact``,
``^offer_id`` = case-insensitive prefix, backed by an ``UPPER(…) text_pattern_ops`` index) and filter
only on choices, booleans and small related tables (accounts), never on a DISTINCT of the big table.

``SyncedAdmin`` makes the fields that the marketplace sync writes read-only: an edit there would be
overwritten by the next sync. Changes to marketplaces go through the app's services and the outbox.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import ShowFacets
from django.db.models import QuerySet
from django.http import HttpRequest

from core.models import ApiToken, AuditEvent
from core.pagination import EstimatedCountPaginator
from core.tokens import token_revoke


class LargeTableAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    # The primary key's index; subclasses with a better indexed order say so.
    ordering = ["-id"]
    # Sorting by a column header would sort the whole table unless the column is indexed.
    sortable_by = ()


class SyncedAdmin(LargeTableAdmin):
    """Rows the marketplace sync owns: every field read-only except ``local_fields``; no adding by hand."""

    local_fields: tuple[str, ...] = ()
    # No bulk actions: the only one, "delete selected", would delete what the next sync brings back; and
    # the checkbox column they need is rendered through a form widget per row, half of a page's time.
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = self.model._meta.concrete_fields
        synced = [f.name for f in fields if not f.primary_key and f.name not in self.local_fields]
        return [*super().get_readonly_fields(request, obj), *synced]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UnchangeableAdmin(LargeTableAdmin):
    """Rows only code writes (the audit log, totals kept by triggers): listed and shown here, never added,
    changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    """Synced child rows shown on their parent's page, read-only."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in self.model._meta.concrete_fields if not f.primary_key]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(UnchangeableAdmin):
    """The audit log is append-only: readable in the admin, never edited there."""

    list_display = ["created_at", "channel", "action", "actor", "ip", "object_type", "object_id"]
    # "channel" has fixed choices; "action" and "object_type" have none, so a filter on them would be a
    # DISTINCT scan over the whole log.
    list_filter = ["channel"]
    search_fields = ["object_id__exact"]  # with object_type: the (object_type, object_id) index
    list_select_related = ["actor"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Tokens are issued by `issue_token` (the secret is shown once there); here they are listed and revoked."""

    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    exclude = ["digest"]
    actions = ["revoke"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_revoke(token_id=token.pk, actor=request.user)
