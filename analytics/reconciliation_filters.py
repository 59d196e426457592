"""The discrepancy list's filters, shared by the reconciliation page, its exports and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from analytics.models import Discrepancy
from core.filters import MarketplaceFilter
from integrations.models import MarketplaceAccount


class DiscrepancyFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(
        queryset=MarketplaceAccount.objects.order_by("name"), label=_("Account")
    )
    kind = django_filters.ChoiceFilter(choices=Discrepancy.Kind.choices, label=_("Discrepancy"))
    # Moscow days of the order (or of the operation without our order): a range on the indexed column.
    start = django_filters.DateFilter(field_name="day", lookup_expr="gte", label=_("From"))
    end = django_filters.DateFilter(field_name="day", lookup_expr="lte", label=_("To"))

    class Meta:
        model = Discrepancy
        fields = ["marketplace", "account", "kind", "start", "end"]
