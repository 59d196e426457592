"""Forms of the price editor: a formula for a selection, a file, and the confirmation of a batch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Marketplace
from pricing.editor import Formula, Operation, Rounding


class FormulaForm(forms.Form):
    operation = forms.ChoiceField(label=_("Change"), choices=[
        (Operation.INCREASE.value, _("raise by %")),
        (Operation.DECREASE.value, _("lower by %")),
        (Operation.SET.value, _("set to a price")),
        (Operation.MATCH.value, _("match another marketplace")),
    ])
    value = forms.DecimalField(label=_("Percent or price"), min_value=Decimal(0), max_digits=12, decimal_places=2,
                               localize=True)
    marketplace = forms.ChoiceField(label=_("Marketplace to match"), choices=[("", "—"), *Marketplace.choices],
                                    required=False)
    sign = forms.ChoiceField(label=_("Match"), choices=[("1", _("plus %")), ("-1", _("minus %"))], required=False)
    rounding = forms.ChoiceField(label=_("Round up to"), required=False, choices=[
        (Rounding.NONE.value, _("kopecks")), (Rounding.NINE.value, "…9"), (Rounding.NINETY.value, "…90"),
        (Rounding.NINETY_NINE.value, "…99"),
    ])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        operation = data.get("operation")
        value = data.get("value")
        if operation == Operation.MATCH and not data.get("marketplace"):
            self.add_error("marketplace", _("Choose the marketplace whose price to match."))
        if operation == Operation.SET and value is not None and value <= 0:
            self.add_error("value", _("The price must be greater than zero."))
        if operation == Operation.DECREASE and value is not None and value >= 100:
            self.add_error("value", _("A price cannot be lowered by 100 % or more."))
        return data

    def formula(self) -> Formula:
        data = self.cleaned_data
        return Formula(
            operation=Operation(data["operation"]), value=data["value"], rounding=Rounding(data.get("rounding") or ""),
            marketplace=data.get("marketplace") or "", sign=int(data.get("sign") or 1),
        )


class PriceFileForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"), help_text=_(
        "Columns: “Article” (or “Card”: the marketplace's id), optionally “Marketplace”, and “New price”."
    ))


class ConfirmBatchForm(forms.Form):
    """The hidden changes (change_<listing id> = price) travel with the visible fields."""

    formula = forms.CharField(max_length=200, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason for the override"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Needed to push a price below the floor or a change above the maximum."))
    override = forms.BooleanField(label=_("Push despite the warnings"), required=False)
    confirmed = forms.BooleanField(label=_("I have checked every card in this batch"), required=False)
    scheduled_for = forms.DateTimeField(
        label=_("Send at (empty: now)"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M"],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.changes: dict[int, Decimal] = {}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key, value in self.data.items():
            if key.startswith("change_") and key[7:].isdigit():
                try:
                    self.changes[int(key[7:])] = Decimal(str(value))
                except ArithmeticError:
                    raise forms.ValidationError(_("A price in the batch is not a number.")) from None
        if not self.changes:
            raise forms.ValidationError(_("No card to change."))
        moment = data.get("scheduled_for")
        if moment is not None and timezone.is_naive(moment):
            data["scheduled_for"] = timezone.make_aware(moment)
        return data
