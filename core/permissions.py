"""The DRF side of the roles: one permission class for every API view (the default in settings)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.roles import EDITORS, Role, role_of


class RolePermission(BasePermission):
    """Reads for every role; writes for Manager and Administrator, or the roles of the view's `write_roles`
    (a report job writes no data: every role); views with `admin_only = True` (settings, accounts, users)
    for the Administrator alone."""

    def has_permission(self, request: Any, view: Any) -> bool:
        role = role_of(request.user)
        if role is None:
            return False
        if getattr(view, "admin_only", False):
            return role is Role.ADMIN
        if request.method in SAFE_METHODS:
            return True
        return role in getattr(view, "write_roles", EDITORS)
