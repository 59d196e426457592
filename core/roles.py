"""Roles: Administrator, Manager, Analyst. Placeholder wiring, completed by the foundation work."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation_for(request: HttpRequest) -> list[dict[str, Any]]:
    return []
