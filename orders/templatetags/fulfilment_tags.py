"""What the order-action partials show (templates/orders/_order_actions.html, _bulk_actions.html and the
shipping desk): the actions the marketplaces' APIs allow, named in each marketplace's words, the ones
they do not allow with the reason, and the results of the last action, whichever page includes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.roles import EDITORS, has_role
from integrations.base import FulfilmentAction
from orders import fulfilment
from orders.fulfilment_forms import PACKING_CHOICES, BulkActionForm
from orders.models import Order

register = template.Library()

MARKETPLACES = ("ozon", "wildberries", "yandex_market")
SESSION_KEY = "fulfilment_results"
_TABLES: dict[str, tuple[dict[str, dict[str, str]], dict[str, dict[str, dict[str, str]]]]] = {}

# One order's action in the marketplace's own words.
ORDER_LABELS = {
    ("ozon", "assemble"): _("Assemble"),
    ("wildberries", "assemble"): _("Add to a supply"),
    ("yandex_market", "assemble"): _("Ready to ship"),
    ("yandex_market", "hand_over"): _("Shipped"),
    ("ozon", "label"): _("Download labels (PDF)"),
    ("wildberries", "label"): _("Download stickers (PDF)"),
    ("yandex_market", "label"): _("Download labels (PDF)"),
}
GENERIC_LABELS = {"hand_over": _("Hand over to delivery"), "cancel": _("Cancel the order")}


def tables() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, dict[str, str]]]]:
    """fulfilment.capabilities() and scheme_limits(): fixed per language, built once per process."""
    language = get_language() or ""
    if language not in _TABLES:
        _TABLES[language] = (fulfilment.capabilities(), fulfilment.scheme_limits())
    return _TABLES[language]


def can_act(request: HttpRequest | None) -> bool:
    return request is not None and has_role(getattr(request, "user", None), EDITORS)


def take_results(request: HttpRequest | None) -> dict[str, Any] | None:
    """The results of the action just done (put in the session before the redirect), shown once."""
    if request is None or not hasattr(request, "session"):
        return None
    return request.session.pop(SESSION_KEY, None)


def impossible(marketplaces: Iterable[str]) -> list[tuple[str, list[str]]]:
    """(marketplace label, reasons) of what their APIs do not allow, each reason once."""
    capability, by_scheme = tables()
    from core.models import Marketplace

    names = dict(Marketplace.choices)
    answer = []
    for marketplace in marketplaces:
        reasons = [r for r in capability.get(marketplace, {}).values() if r]
        reasons += [r for limits in by_scheme.get(marketplace, {}).values() for r in limits.values()]
        answer.append((str(names.get(marketplace, marketplace)), list(dict.fromkeys(reasons))))
    return answer


def allowed(marketplaces: Iterable[str], action: str) -> list[str]:
    capability, _schemes = tables()
    return [m for m in marketplaces if not capability.get(m, {}).get(action)]


@register.simple_tag(takes_context=True)
def bulk_actions(context: template.Context, marketplace: str = "") -> dict[str, Any]:
    """The bulk bar: the buttons for the marketplaces in view (one when the list is filtered to it)."""
    request = context.get("request")
    in_view = [marketplace] if marketplace in MARKETPLACES else list(MARKETPLACES)
    assemble = allowed(in_view, FulfilmentAction.ASSEMBLE)
    packers = [m for m in assemble if m != "wildberries"]  # WB's assembling is adding to a supply
    if packers == ["ozon"]:
        assemble_label = _("Assemble")
    elif packers == ["yandex_market"]:
        assemble_label = _("Ready to ship")
    else:
        assemble_label = _("Assemble / ready to ship")
    supplies = "wildberries" in allowed(in_view, FulfilmentAction.CREATE_SUPPLY)
    return {
        "can_act": can_act(request),
        "single": len(in_view) == 1,
        "next": request.get_full_path() if request is not None else "",
        "assemble": assemble_label if packers else "",
        "packing_choices": PACKING_CHOICES[:2],
        "supplies": supplies,
        "open_supplies": fulfilment.open_supplies() if supplies and can_act(request) else [],
        "hand_over": bool(allowed(in_view, FulfilmentAction.HAND_OVER)),
        "labels": bool(allowed(in_view, FulfilmentAction.LABEL)),
        "cancel": bool(allowed(in_view, FulfilmentAction.CANCEL)),
        "reasons": BulkActionForm.base_fields["reason"].choices[1:],  # type: ignore[attr-defined]
        "impossible": impossible(in_view),
        "results": take_results(request) if context.get("take_results", True) else None,
    }


@register.simple_tag(takes_context=True)
def order_actions(context: template.Context, order: Order) -> dict[str, Any]:
    """One order's actions: offered (with their button label) and not offered (with the reason)."""
    request = context.get("request")
    capability, by_scheme = tables()
    marketplace = order.account.marketplace
    offered, refused = [], []
    for action, why_not in fulfilment.actions_for(order, capability, by_scheme).items():
        label = ORDER_LABELS.get((marketplace, action), GENERIC_LABELS.get(action, action))
        (refused if why_not else offered).append({"action": action, "label": label, "why_not": why_not})
    names = {entry["action"] for entry in offered}
    lines = list(order.lines.all()) if "assemble" in names and marketplace != "wildberries" else []
    return {
        "can_act": can_act(request),
        "next": request.get_full_path() if request is not None else "",
        "offered": offered,
        "refused": refused,
        "names": names,
        "lines": lines,
        "packing_choices": PACKING_CHOICES,
        "open_supplies": [s for s in fulfilment.open_supplies() if s.account.pk == order.account_id]
        if "assemble" in names and marketplace == "wildberries" and can_act(request) else [],
        "reasons": BulkActionForm.base_fields["reason"].choices[1:],  # type: ignore[attr-defined]
        "results": take_results(request),
    }
