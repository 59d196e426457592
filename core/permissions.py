from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission


class RolePermission(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)
