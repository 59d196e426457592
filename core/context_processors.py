from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The main navigation (each section only for roles that may open it) and the user's role."""
    from core.roles import navigation_for, role_of

    return {
        "navigation": navigation_for(request),
        "user_role": role_of(getattr(request, "user", None)),
    }
