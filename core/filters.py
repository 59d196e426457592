"""Shared pieces of the lists' FilterSets (django-filter); each app declares one FilterSet per list.

A FilterSet takes the query string and a base queryset, and knows nothing of the page, so the same class
filters the screen and its API endpoint (DRF's ``DjangoFilterBackend`` takes ``filterset_class``).
Unknown or malformed values are dropped by the form's validation and ignored, never an error.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.models import Marketplace

SEARCH_MAX_LENGTH = 100
# Below this length a substring (trigram) search matches too much to use its index; such terms
# are matched as prefixes / exact ids only.
SUBSTRING_MIN_LENGTH = 3


class MarketplaceFilter(django_filters.ChoiceFilter):  # type: ignore[misc]
    """The marketplace of the row's account: ``account__marketplace`` unless told another path."""

    def __init__(self, field_name: str = "account__marketplace", **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Marketplace"))
        super().__init__(field_name=field_name, choices=Marketplace.choices, **kwargs)


class SearchFilter(django_filters.CharFilter):  # type: ignore[misc]
    """The search box: trimmed, capped, handed to the FilterSet's ``search`` method."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Search"))
        kwargs.setdefault("max_length", SEARCH_MAX_LENGTH)
        super().__init__(method="search", **kwargs)


def int_param(request: HttpRequest, name: str, *, low: int, high: int) -> int | None:
    """A bounded integer outside any FilterSet (the analytics period); None when missing or out of range."""
    try:
        value = int(request.GET.get(name, ""))
    except ValueError:
        return None
    return value if low <= value <= high else None


def cleaned(filterset: django_filters.FilterSet) -> dict[str, Any]:
    """The valid filter values, for the page to show what is applied (invalid ones were ignored)."""
    filterset.form.is_valid()
    return {name: value for name, value in filterset.form.cleaned_data.items() if value not in (None, "")}


def filter_context(filterset: django_filters.FilterSet) -> dict[str, Any]:
    """What the filters bar of a list template needs (templates/includes/marketplace_filter.html)."""
    return {"filterset": filterset, "filters": cleaned(filterset), "marketplaces": Marketplace.choices}
