from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from supply.models import Supplier


class SupplierForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Supplier
        fields = ["name", "contact", "email", "phone", "lead_time_days", "min_order_amount", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class ProductTermsForm(forms.Form):
    article = forms.CharField(label=_("Seller article"), max_length=100)
    lead_time_days = forms.IntegerField(
        label=_("Lead time, days"), min_value=0, max_value=365, required=False,
        help_text=_("Empty: the supplier's lead time."),
    )
    min_order_qty = forms.IntegerField(label=_("Minimum order, pcs"), min_value=1, max_value=1_000_000, initial=1)
    pack_size = forms.IntegerField(label=_("Pack size, pcs"), min_value=1, max_value=100_000, initial=1)
    purchase_price = forms.DecimalField(
        label=_("Purchase price, ₽"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    is_primary = forms.BooleanField(label=_("Main supplier of this product"), required=False, initial=True)
