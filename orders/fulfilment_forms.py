"""The shipping desk's filters and the bulk-action form (orders.fulfilment_views)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filters import MarketplaceFilter, SearchFilter
from integrations.base import CancelReason
from integrations.models import MarketplaceAccount
from orders.models import Order, OrderLine, OrderStatus, Scheme

# What waits for the seller: the partial index order_to_ship covers exactly these rows.
TO_SHIP_STATUSES = (OrderStatus.NEW, OrderStatus.PROCESSING, OrderStatus.READY_TO_SHIP)
SELLER_SCHEMES = (Scheme.FBS, Scheme.DBS, Scheme.EXPRESS)


def to_ship() -> QuerySet[Order]:
    return Order.objects.filter(status__in=TO_SHIP_STATUSES, scheme__in=SELLER_SCHEMES).select_related("account")


def end_of_today() -> datetime:
    """Midnight after today in the display time zone (Moscow)."""
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))


class ShippingFilter(django_filters.FilterSet):
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(
        queryset=MarketplaceAccount.objects.order_by("name"), label=_("Account")
    )
    status = django_filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in TO_SHIP_STATUSES], label=_("Status")
    )
    scheme = django_filters.ChoiceFilter(choices=[(s.value, s.label) for s in SELLER_SCHEMES], label=_("Scheme"))
    deadline = django_filters.ChoiceFilter(
        choices=[("today", _("Ship by end of today")), ("overdue", _("Overdue"))],
        method="filter_deadline", label=_("Shipment deadline"),
    )
    q = SearchFilter()

    class Meta:
        model = Order
        fields = ["marketplace", "account", "status", "scheme", "deadline", "q"]

    def filter_deadline(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        limit = timezone.now() if value == "overdue" else end_of_today()
        return queryset.filter(shipment_due_at__lt=limit)

    def search(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(Q(external_id__startswith=term) | Q(order_number__startswith=term))


class OrderIds(forms.Field):
    """The selected orders' ids (checkboxes named `order`); anything not a number is dropped, and the
    service reads the orders fresh, skipping ids that do not exist."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        return list(dict.fromkeys(int(v) for v in values if str(v).isdigit()))[:MAX_SELECTION]


MAX_SELECTION = 500
PACKING_CHOICES = [
    ("per_line", _("Each line in its own package")),
    ("one", _("Everything in one package")),
    ("split", _("As split below")),
]
ACTIONS = ["assemble", "add_to_supply", "create_supply", "deliver_supply", "hand_over", "labels", "cancel"]


class BulkActionForm(forms.Form):
    """One submit of the bulk bar or of an order's actions: the button's `action`, the selected orders
    (checkboxes from any page), and what that action needs."""

    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    order = OrderIds(required=False)
    packing = forms.ChoiceField(choices=PACKING_CHOICES, required=False, initial="per_line")
    supply = forms.CharField(required=False, max_length=200)
    reason = forms.ChoiceField(
        choices=[("", "—"), (CancelReason.OUT_OF_STOCK, _("Out of stock")), (CancelReason.DEFECT, _("Defect")),
                 (CancelReason.OTHER, _("Other"))],
        required=False,
    )
    message = forms.CharField(required=False, max_length=500)
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.raw = data

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action not in ("deliver_supply",) and not data.get("order"):
            raise forms.ValidationError(_("Select at least one order"))
        if action == "deliver_supply" and not _supply_parts(data.get("supply", "")):
            raise forms.ValidationError(_("Choose the supply to hand over"))
        if action == "cancel":
            if not data.get("reason"):
                raise forms.ValidationError(_("Choose why the orders are cancelled"))
            if data["reason"] == CancelReason.OTHER and not data.get("message", "").strip():
                raise forms.ValidationError(_("Describe the reason when it is “other”"))
        return data

    def supply_parts(self) -> tuple[int, str] | None:
        return _supply_parts(self.cleaned_data.get("supply", ""))

    def packages(self) -> dict[int, list[list[tuple[str, int]]]]:
        """order id -> boxes of (line key, quantity), from the packing choice: one box per line, one box
        for all (the service's default, so nothing), or the split the order's page sent
        (`box_<line pk>` = the box number of that line)."""
        packing = self.cleaned_data.get("packing") or "per_line"
        ids = self.cleaned_data["order"]
        if packing == "one" or not ids:
            return {}
        lines = OrderLine.objects.filter(order_id__in=ids).order_by("order_id", "id").values_list(
            "pk", "order_id", "line_key", "quantity")
        boxes: dict[int, dict[int, list[tuple[str, int]]]] = {}
        for pk, order_id, key, quantity in lines:
            box = pk
            if packing == "split":
                raw = str(self.raw.get(f"box_{pk}", "1")) if self.raw is not None else "1"
                box = int(raw) if raw.isdigit() and 0 < int(raw) <= 100 else 1
            boxes.setdefault(order_id, {}).setdefault(box, []).append((key, quantity))
        return {order_id: [items for _, items in sorted(by_box.items())] for order_id, by_box in boxes.items()}


def _supply_parts(value: str) -> tuple[int, str] | None:
    """"<account pk>:<supply id>" -> (account pk, supply id)."""
    account, _sep, supply = (value or "").partition(":")
    return (int(account), supply.strip()) if account.isdigit() and supply.strip() else None
