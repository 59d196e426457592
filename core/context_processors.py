from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The main navigation (each section only for roles that may open it), the user's role, and
    `has_accounts` for empty states, computed only if a template asks for it."""
    from core.roles import navigation_for, role_of
    from integrations.models import MarketplaceAccount

    @cache
    def has_accounts() -> bool:
        return MarketplaceAccount.objects.exists()

    return {
        "navigation": navigation_for(request),
        "user_role": role_of(getattr(request, "user", None)),
        "has_accounts": has_accounts,
    }
