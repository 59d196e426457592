from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reviews.models import ReplyTemplate


class ReplyTemplateForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ReplyTemplate
        fields = ["name", "text", "min_rating", "max_rating", "for_questions"]
        labels = {
            "name": _("Name"),
            "text": _("Text"),
            "min_rating": _("Minimum rating"),
            "max_rating": _("Maximum rating"),
            "for_questions": _("For questions"),
        }
        help_texts = {"text": _("May use {author} (the buyer's name) and {product} (the product's name).")}
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def clean_text(self) -> str:
        from reviews.services import unknown_variables

        text: str = self.cleaned_data["text"]
        if unknown := unknown_variables(text):
            message = _("Unknown variable %(names)s: use {author} (or {buyer}) and {product}.")
            raise forms.ValidationError(message % {"names": ", ".join(unknown)})
        return text

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        low, high = data.get("min_rating"), data.get("max_rating")
        for name in ("min_rating", "max_rating"):
            value = data.get(name)
            if isinstance(value, int) and not 1 <= value <= 5:
                self.add_error(name, _("A rating is from 1 to 5."))
        if isinstance(low, int) and isinstance(high, int) and low > high:
            self.add_error("max_rating", _("The maximum is below the minimum."))
        return data
