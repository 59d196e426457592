from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest


def unread(request: HttpRequest) -> dict[str, Any]:
    """`unread_notifications` for the header: computed only when a page renders it (≤ 1 query, cached)."""
    user = getattr(request, "user", None)

    @cache
    def count() -> int:
        if user is None or not user.is_authenticated:
            return 0
        from notifications.services import unread_count

        return unread_count(user)

    return {"unread_notifications": count}
