"""The reviews list's filters, shared by the screen and (later) its API endpoint."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.filters import MarketplaceFilter
from integrations.models import MarketplaceAccount
from reviews.models import Review

ANSWERED_CHOICES = [("no", _("Unanswered")), ("yes", _("Answered"))]


class ReviewFilter(django_filters.FilterSet):
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(
        queryset=MarketplaceAccount.objects.order_by("name"), label=_("Account")
    )
    rating = django_filters.TypedChoiceFilter(
        choices=[(n, f"{n}★") for n in range(5, 0, -1)], coerce=int, label=_("Rating")
    )
    answered = django_filters.ChoiceFilter(choices=ANSWERED_CHOICES, method="filter_answered", label=_("Answered"))
    # The reviews of one card: the product page links here.
    listing = django_filters.NumberFilter(field_name="listing_id", min_value=1, label=_("Card"))

    class Meta:
        model = Review
        fields = ["marketplace", "account", "rating", "answered", "listing"]

    def filter_answered(self, queryset: QuerySet[Review], name: str, value: str) -> QuerySet[Review]:
        return queryset.filter(is_answered=value == "yes")
