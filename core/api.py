"""Generic pieces of the JSON API. Permissions: core.permissions.RolePermission (the DRF default in settings)."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable paging for tables without a `created` column (DRF's default cursor ordering)."""

    ordering = "id"
