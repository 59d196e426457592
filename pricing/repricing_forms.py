"""Forms and filters of the repricing screens: a rule, a competitor price, a file of competitor prices, and
the FilterSets of the rules, runs and competitor prices lists."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filters import MarketplaceFilter, SearchFilter
from core.models import Marketplace
from pricing.models import CompetitorPrice, RepricingRule, RepricingRun

Strategy = RepricingRule.Strategy

SCOPES = [
    ("listing", _("one card (article or marketplace id)")),
    ("product", _("a product's cards (product article)")),
    ("category", _("a category's cards (category name)")),
    ("brand", _("a brand's products (brand name)")),
]
ROUNDINGS = [("", _("kopecks")), ("9", "…9"), ("90", "…90"), ("99", "…99")]
MARKETPLACE_CHOICES = [("", _("any marketplace")), *Marketplace.choices]


def _money(label: Any, **options: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=14, decimal_places=2, localize=True, **options)


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    scope = forms.ChoiceField(label=_("The rule covers"), choices=SCOPES)
    target = forms.CharField(label=_("Which one"), max_length=300,
                             help_text=_("The card's article or marketplace id, the product's article, or the "
                                         "brand's or category's name as on the cards."))
    marketplace = forms.ChoiceField(label=_("Marketplace"), choices=MARKETPLACE_CHOICES, required=False)
    strategy = forms.ChoiceField(label=_("Strategy"), choices=Strategy.choices)
    target_margin_percent = forms.DecimalField(
        label=_("Target margin, %"), max_digits=5, decimal_places=2, required=False, localize=True,
        help_text=_("After every marketplace fee and tax, of the price (target margin strategy)."))
    competitor = forms.CharField(label=_("Competitor"), max_length=200, required=False,
                                 help_text=_("Follow this competitor only; empty: the lowest of all."))
    step = _money(_("Step below the competitor"), initial=Decimal(1),
                  help_text=_("How far below the lowest competitor price; negative: above it."))
    step_unit = forms.ChoiceField(label=_("Step in"), choices=RepricingRule.StepUnit.choices)
    competitor_max_age_hours = forms.IntegerField(
        label=_("Competitor prices no older than, hours"), min_value=1, max_value=366 * 24, initial=72)
    floor_price = _money(_("Floor price"), required=False, help_text=_(
        "Never below it; the break-even price and the minimum margin are floors anyway."))
    ceiling_price = _money(_("Ceiling price"), required=False)
    min_margin_percent = forms.DecimalField(label=_("Minimum margin, %"), max_digits=5, decimal_places=2,
                                            required=False, localize=True,
                                            help_text=_("Over cost, of the price; also the price guard's floor."))
    rounding = forms.ChoiceField(label=_("Round to roubles ending in"), choices=ROUNDINGS, required=False)
    enabled = forms.BooleanField(label=_("Enabled (runs on schedule)"), required=False, initial=True)

    VALUES = ("name", "marketplace", "strategy", "target_margin_percent", "competitor", "step", "step_unit",
              "competitor_max_age_hours", "floor_price", "ceiling_price", "min_margin_percent", "rounding",
              "enabled")

    @classmethod
    def initial_for(cls, rule: RepricingRule) -> dict[str, Any]:
        initial = {name: getattr(rule, name) for name in cls.VALUES}
        if rule.listing_id and rule.listing is not None:
            initial.update(scope="listing", target=rule.listing.offer_id)
        elif rule.product_id and rule.product is not None:
            initial.update(scope="product", target=rule.product.article)
        elif rule.category:
            initial.update(scope="category", target=rule.category)
        else:
            initial.update(scope="brand", target=rule.brand)
        return initial

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.VALUES}


class CompetitorPriceForm(forms.Form):
    card = forms.CharField(label=_("Card"), max_length=255, help_text=_("Article or marketplace id."))
    marketplace = forms.ChoiceField(label=_("Marketplace"), choices=MARKETPLACE_CHOICES, required=False)
    competitor = forms.CharField(label=_("Competitor"), max_length=200)
    price = _money(_("Competitor's price"))
    url = forms.CharField(label=_("Link to the offer"), max_length=200, required=False)
    observed_at = forms.DateTimeField(
        label=_("Seen at (empty: now)"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M"],
    )

    def clean_observed_at(self) -> Any:
        moment = self.cleaned_data.get("observed_at")
        if moment is not None and timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


class EditCompetitorPriceForm(CompetitorPriceForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["card"]
        del self.fields["marketplace"]


class CompetitorFileForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"), help_text=_(
        "Columns: “Article” (or “Card”: the marketplace's id), optionally “Marketplace”, “Competitor”, “Price”, "
        "optionally “URL” and “Date”."))


class RepricingRuleFilter(django_filters.FilterSet):  # type: ignore[misc]
    strategy = django_filters.ChoiceFilter(choices=Strategy.choices, label=_("Strategy"))
    enabled = django_filters.BooleanFilter(label=_("Enabled"))
    q = SearchFilter()

    class Meta:
        model = RepricingRule
        fields = ["strategy", "enabled", "q"]

    def search(self, queryset: QuerySet[RepricingRule], name: str, value: str) -> QuerySet[RepricingRule]:
        # Tens of rules, not millions: a substring match is cheap here.
        term = value.strip()
        return queryset.filter(Q(name__icontains=term) | Q(brand__iexact=term) | Q(category__iexact=term)
                               | Q(listing__offer_id=term) | Q(product__article=term))


class RepricingRunFilter(django_filters.FilterSet):  # type: ignore[misc]
    state = django_filters.ChoiceFilter(choices=RepricingRun.State.choices, label=_("State"))
    trigger = django_filters.ChoiceFilter(choices=RepricingRun.Trigger.choices, label=_("Started by"))
    rule = django_filters.NumberFilter(field_name="rules", min_value=1, label=_("Rule (id)"))

    class Meta:
        model = RepricingRun
        fields = ["state", "trigger", "rule"]


class CompetitorPriceFilter(django_filters.FilterSet):  # type: ignore[misc]
    listing = django_filters.NumberFilter(field_name="listing_id", min_value=1, label=_("Card (id)"))
    marketplace = MarketplaceFilter(field_name="listing__account__marketplace")
    competitor = django_filters.CharFilter(field_name="competitor", lookup_expr="iexact", label=_("Competitor"))

    class Meta:
        model = CompetitorPrice
        fields = ["listing", "marketplace", "competitor"]
