"""Parsing list-page filters from the query string: unknown values are ignored, never an error."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest

from core.models import Marketplace


def choice_param(request: HttpRequest, name: str, allowed: Iterable[str]) -> str:
    value = request.GET.get(name, "")
    return value if value in set(allowed) else ""


def marketplace_param(request: HttpRequest) -> str:
    return choice_param(request, "marketplace", Marketplace.values)


def int_param(request: HttpRequest, name: str, *, low: int, high: int) -> int | None:
    try:
        value = int(request.GET.get(name, ""))
    except ValueError:
        return None
    return value if low <= value <= high else None
