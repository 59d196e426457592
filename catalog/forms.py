"""Forms of the catalogue screens; each write they lead to is one call of catalog.services."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Listing, Product

BULK_ACTIONS = [
    ("resend_content", _("Push content again")),
    ("unlink", _("Unlink the cards from their products")),
]


class ListingContentForm(forms.Form):
    """A card's title and description; the card's marketplace limits are checked by the service."""

    title = forms.CharField(label=_("Title"), max_length=1000)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(
        self, *args: object, listing: Listing, pending: dict[str, str] | None = None, **kwargs: object
    ) -> None:
        """`pending`: the payload of a change not read back yet (the card will have it), else the card's own."""
        source = pending or {"title": listing.title, "description": listing.description}
        self.current = {"title": str(source.get("title") or ""), "description": str(source.get("description") or "")}
        kwargs.setdefault("initial", self.current)
        kwargs.setdefault("prefix", f"card{listing.pk}")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.listing = listing

    def changed_values(self) -> dict[str, str]:
        """Only the fields that differ from what the card has (or is getting), so an untouched
        description is not resent."""
        values: dict[str, str] = {}
        if " ".join(self.cleaned_data["title"].split()) != " ".join(self.current["title"].split()):
            values["title"] = self.cleaned_data["title"]
        if self.cleaned_data["description"].strip() != self.current["description"].strip():
            values["description"] = self.cleaned_data["description"]
        return values


class LinkCardForm(forms.Form):
    """Find the card to link to a product by its marketplace id, sku or seller article."""

    card = forms.CharField(
        label=_("Card"), max_length=255,
        help_text=_("Marketplace id (Ozon product_id, WB nmID, YM offerId) or the card's seller article"),
    )

    def clean_card(self) -> Listing:
        term = self.cleaned_data["card"].strip()
        matches = list(
            Listing.objects.filter(Q(external_id=term) | Q(marketplace_sku=term) | Q(offer_id=term))
            .select_related("account")[:2]
        )
        if not matches:
            raise forms.ValidationError(_("No card has this id or article."))
        if len(matches) > 1:
            raise forms.ValidationError(_("Several cards match; give the marketplace id of the card."))
        return matches[0]


class LinkProductForm(forms.Form):
    """Link a card without a product to one, named by the product's article."""

    article = forms.CharField(label=_("Product article"), max_length=100)

    def clean_article(self) -> Product:
        product = Product.objects.filter(article=self.cleaned_data["article"].strip()).first()
        if product is None:
            raise forms.ValidationError(_("No product has this article."))
        return product


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=BULK_ACTIONS)
    products = forms.TypedMultipleChoiceField(coerce=int, choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Any ids; the view keeps the ones that exist. Checked as numbers only.
        self.fields["products"].choices = [
            (value, value) for value in (self.data.getlist("products") if hasattr(self.data, "getlist") else [])
        ]

    def clean_products(self) -> list[int]:
        ids = self.cleaned_data["products"]
        if len(ids) > 500:
            raise forms.ValidationError(_("Select at most 500 products at once."))
        return ids
