"""Filters of the promotions desk and the money-at-risk queue (one FilterSet per list)."""

from __future__ import annotations

import django_filters
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filters import MarketplaceFilter, SearchFilter
from integrations.models import MarketplaceAccount
from pricing.models import MoneyAtRisk, Promotion, PromotionOffer

PROMOTION_STATES = (("running", _("Running")), ("upcoming", _("Upcoming")), ("ended", _("Ended")))


class PromotionFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.order_by("name"),
                                               label=_("Account"))
    state = django_filters.ChoiceFilter(choices=PROMOTION_STATES, method="by_state", label=_("State"))
    q = SearchFilter()

    class Meta:
        model = Promotion
        fields = ["marketplace", "account", "state", "q"]

    def by_state(self, queryset: QuerySet[Promotion], name: str, value: str) -> QuerySet[Promotion]:
        now = timezone.now()
        if value == "ended":
            return queryset.filter(ends_at__lte=now)
        if value == "upcoming":
            return queryset.filter(starts_at__gt=now)
        return queryset.filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now),
                               Q(ends_at__isnull=True) | Q(ends_at__gt=now))

    def search(self, queryset: QuerySet[Promotion], name: str, value: str) -> QuerySet[Promotion]:
        # A seller has tens of promotions, not thousands: a substring match is cheap here.
        return queryset.filter(Q(title__icontains=value.strip()) | Q(external_id=value.strip()))


class PromotionOfferFilter(django_filters.FilterSet):  # type: ignore[misc]
    below_floor = django_filters.BooleanFilter(method="by_floor", label=_("Below the floor only"))
    q = SearchFilter()

    class Meta:
        model = PromotionOffer
        fields = ["below_floor", "q"]

    def by_floor(self, queryset: QuerySet[PromotionOffer], name: str, value: bool) -> QuerySet[PromotionOffer]:
        if not value:
            return queryset
        below = Q(action_price__lt=F("listing__card_floor__floor")) | Q(
            action_price__isnull=True, max_action_price__lt=F("listing__card_floor__floor"))
        return queryset.filter(below)

    def search(self, queryset: QuerySet[PromotionOffer], name: str, value: str) -> QuerySet[PromotionOffer]:
        term = value.strip()
        return queryset.filter(Q(offer_key__startswith=term) | Q(listing__offer_id__istartswith=term))


class MoneyAtRiskFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.order_by("name"),
                                               label=_("Account"))
    reason = django_filters.ChoiceFilter(choices=MoneyAtRisk.Reason.choices, label=_("Reason"))

    class Meta:
        model = MoneyAtRisk
        fields = ["marketplace", "account", "reason"]
