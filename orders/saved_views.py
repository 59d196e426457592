"""Saved views of the orders inbox: the built-in presets and each user's own (a name and the filters)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from orders.filters import OVERDUE, TODAY, OrderFilter
from orders.models import SavedOrderView

# What a view keeps of the query string: the filters and the sort, never a page's cursor.
KEPT = [*OrderFilter.Meta.fields, "sort"]
MAX_VIEWS_PER_USER = 30


@dataclass(frozen=True)
class Preset:
    key: str
    name: str | Promise
    query: str


PRESETS = [
    Preset("today", _("To assemble today"), urlencode({"shipment": TODAY, "sort": "due"})),
    Preset("overdue", _("Overdue"), urlencode({"shipment": OVERDUE, "sort": "due"})),
]


def view_query(params: QueryDict | dict[str, Any]) -> str:
    """The query string a view stores and compares: the kept, non-empty parameters in a fixed order."""
    pairs = [(key, str(params.get(key, "")).strip()) for key in KEPT]
    return urlencode([(key, value) for key, value in sorted(pairs) if value])


def saved_views_of(user: Any) -> list[SavedOrderView]:
    return list(SavedOrderView.objects.filter(user=user).order_by("name", "id"))


class TooManyViews(ValueError):
    pass


def saved_view_save(*, user: Any, name: str, params: QueryDict | dict[str, Any]) -> SavedOrderView:
    """Save the current filters under ``name`` (replacing the user's view of that name)."""
    name = name.strip()[:80]
    if not name:
        raise ValueError("a saved view needs a name")
    with transaction.atomic():
        existing = SavedOrderView.objects.select_for_update().filter(user=user)
        if not existing.filter(name=name).exists() and existing.count() >= MAX_VIEWS_PER_USER:
            raise TooManyViews(name)
        view, _created = SavedOrderView.objects.update_or_create(
            user=user, name=name, defaults={"query": view_query(params)}
        )
    return view


def saved_view_delete(*, user: Any, pk: int) -> bool:
    """Delete one of the user's own views; another user's view is not found."""
    deleted, _detail = SavedOrderView.objects.filter(user=user, pk=pk).delete()
    return deleted > 0
