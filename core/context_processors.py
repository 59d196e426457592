from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The main navigation; each section shows only to users whose role may open it."""
    from core.roles import navigation_for

    return {"navigation": navigation_for(request)}
