"""The customer inbox's filters: one FilterSet that reads and validates the query string; the
inbox (reviews.inbox) is a union of reviews and questions, so the FilterSet hands its cleaned values
over as InboxFilters instead of filtering a queryset itself."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.filters import MarketplaceFilter, SearchFilter
from integrations.models import MarketplaceAccount
from reviews.inbox import NEWEST, QUESTION, REVIEW, UNANSWERED_FIRST, InboxFilters
from reviews.models import Review

ANSWERED_CHOICES = [("no", _("Unanswered")), ("yes", _("Answered"))]
KIND_CHOICES = [(REVIEW, _("Reviews")), (QUESTION, _("Questions"))]
SORT_CHOICES = [(UNANSWERED_FIRST, _("Unanswered first")), (NEWEST, _("Newest first"))]


class InboxFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=KIND_CHOICES, method="keep", label=_("Kind"))
    marketplace = MarketplaceFilter(method="keep")
    account = django_filters.ModelChoiceFilter(
        queryset=MarketplaceAccount.objects.order_by("name"), method="keep", label=_("Account")
    )
    rating = django_filters.TypedChoiceFilter(
        choices=[(n, f"{n}★") for n in range(5, 0, -1)], coerce=int, method="keep", label=_("Rating")
    )
    answered = django_filters.ChoiceFilter(choices=ANSWERED_CHOICES, method="keep", label=_("Answered"))
    flagged = django_filters.BooleanFilter(method="keep", label=_("Suspicious only"))
    q = SearchFilter(label=_("Product"))
    product = django_filters.NumberFilter(min_value=1, method="keep", label=_("Product"))
    # The feedback on one card: the product page links here.
    listing = django_filters.NumberFilter(min_value=1, method="keep", label=_("Card"))
    # One item (an alert links to it): "review:12".
    item = django_filters.CharFilter(max_length=40, method="keep", label=_("Item"))
    sort = django_filters.ChoiceFilter(choices=SORT_CHOICES, method="keep", label=_("Sort"))

    class Meta:
        model = Review
        fields: list[str] = []

    def keep(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset

    def cleaned(self) -> dict[str, Any]:
        self.form.is_valid()
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "")}

    def inbox_filters(self) -> InboxFilters:
        data = self.cleaned()
        answered = data.get("answered")
        account = data.get("account")
        return InboxFilters(
            marketplace=data.get("marketplace", ""),
            account_id=account.pk if account is not None else None,
            kind=data.get("kind", ""),
            rating=data.get("rating"),
            answered=None if answered is None else answered == "yes",
            product_id=int(data["product"]) if "product" in data else None,
            flagged=bool(data.get("flagged")),
            listing_id=int(data["listing"]) if "listing" in data else None,
            search=data.get("q", "").strip(),
            item=data.get("item", ""),
        )

    def sort_key(self) -> str:
        return self.cleaned().get("sort") or UNANSWERED_FIRST
