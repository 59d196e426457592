from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest


def accounts(request: HttpRequest) -> dict[str, Any]:
    """`has_accounts` for empty states, computed only if a template asks for it."""
    from integrations.models import MarketplaceAccount

    @cache
    def has_accounts() -> bool:
        return MarketplaceAccount.objects.exists()

    return {"has_accounts": has_accounts}
