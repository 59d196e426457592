"""Forms of the catalogue screens; each write they lead to is one call of catalog.services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Listing, Product
from catalog.services import current_attributes, image_urls

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


@dataclass(frozen=True)
class AttributeField:
    """One characteristic the card's form offers: from the category's dictionary, or (dictionary not
    synced yet) one the card already has."""

    external_id: str
    name: str
    required: bool = False
    max_length: int | None = None


# Characteristics edited by the title form instead: Ozon's «Название» and «Аннотация»; WB's named field (0).
TEXT_ATTRIBUTES = {"ozon": {"4180", "4191"}, "wildberries": {"0"}}


def attribute_fields(listing: Listing, dictionary: Sequence[AttributeField]) -> list[AttributeField]:
    """The characteristics a card's form offers, required first."""
    skip = TEXT_ATTRIBUTES.get(listing.account.marketplace, set())
    fields = list(dictionary) or [
        AttributeField(attribute_id, name) for attribute_id, name, _value in current_attributes(listing) if attribute_id
    ]
    return sorted((f for f in fields if f.external_id not in skip and f.external_id.isdigit()),
                  key=lambda f: not f.required)


class CardMediaForm(forms.Form):
    """A card's characteristics (free text, one field each) and photos (links, one a line, the first
    the main one). The changed characteristics and the whole photo set are sent."""

    images = forms.CharField(
        label=_("Photos"), required=False, widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_("One https link a line; the first photo is the main one."),
    )

    def __init__(
        self, *args: object, listing: Listing, attributes: Sequence[AttributeField],
        pending: dict[str, Any] | None = None, **kwargs: object,
    ) -> None:
        self.listing = listing
        self.attributes = list(attributes)
        if pending and pending.get("attributes") is not None:
            current = [tuple(a) for a in pending["attributes"]]
        else:
            current = current_attributes(listing)
        by_id = {str(a[0]): str(a[2]) for a in current if a[0]}
        by_name = {str(a[1]).casefold(): str(a[2]) for a in current if a[1]}
        images = pending["images"] if pending and pending.get("images") is not None else image_urls(listing.images)
        self.current_images = [str(url) for url in images]
        self.current = {
            f.external_id: by_id.get(f.external_id, by_name.get(f.name.casefold(), "")) for f in self.attributes
        }
        initial = {f"attr_{key}": value for key, value in self.current.items()}
        initial["images"] = "\n".join(self.current_images)
        kwargs.setdefault("initial", initial)
        kwargs.setdefault("prefix", f"media{listing.pk}")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for attribute in self.attributes:
            self.fields[f"attr_{attribute.external_id}"] = forms.CharField(
                label=attribute.name, required=False, max_length=attribute.max_length or 5000,
            )
            self.fields[f"attr_{attribute.external_id}"].is_required_attribute = attribute.required  # type: ignore[attr-defined]
        self.order_fields([f"attr_{a.external_id}" for a in self.attributes] + ["images"])

    def attribute_bound_fields(self) -> list[forms.BoundField]:
        return [self[f"attr_{a.external_id}"] for a in self.attributes]

    def proposed(self) -> tuple[list[tuple[str, str, str]], list[str]]:
        """The characteristics (id, name, value) and photo links as the form leaves them."""
        attributes = [
            (a.external_id, a.name, " ".join(str(self.cleaned_data.get(f"attr_{a.external_id}") or "").split()))
            for a in self.attributes
        ]
        images = [line.strip() for line in self.cleaned_data["images"].splitlines() if line.strip()]
        return attributes, images

    def changed_values(self) -> dict[str, Any]:
        """Only what differs from what the card has (or is getting)."""
        attributes, images = self.proposed()
        values: dict[str, Any] = {}
        # Only the characteristics changed: unchanged dictionary values are not resent as free text.
        changed = [(i, n, v) for i, n, v in attributes if v != " ".join(self.current.get(i, "").split())]
        if changed:
            values["attributes"] = changed
        if images != self.current_images:
            values["images"] = images
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
