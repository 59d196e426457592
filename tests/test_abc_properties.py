"""Invariants of the ABC and XYZ classes, for any measures and weekly sales."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.abc import A_SHARE, B_SHARE, abc_classes, variation, xyz_class

amounts = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=2, allow_nan=False)
measures = st.dictionaries(st.text(min_size=1, max_size=6), amounts, max_size=40)
weeks = st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=26)


@given(measures)
def test_classes_partition_the_products(values: dict[str, Decimal]) -> None:
    classes = abc_classes(values)
    assert set(classes) == set(values) and set(classes.values()) <= {"A", "B", "C"}


@given(measures)
def test_a_holds_the_top_80_percent_and_no_more_than_needed(values: dict[str, Decimal]) -> None:
    classes = abc_classes(values)
    total = sum((v for v in values.values() if v > 0), Decimal(0))
    in_a = [values[k] for k, c in classes.items() if c == "A"]
    in_ab = [values[k] for k, c in classes.items() if c in "AB"]
    if total == 0:
        assert not in_a
        return
    assert sum(in_a, Decimal(0)) * 100 >= A_SHARE * total
    assert (sum(in_a, Decimal(0)) - min(in_a)) * 100 < A_SHARE * total  # without its smallest, A falls short
    assert sum(in_ab, Decimal(0)) * 100 >= B_SHARE * total


@given(measures)
def test_classes_follow_the_ranking(values: dict[str, Decimal]) -> None:
    classes = abc_classes(values)
    order = {"A": 0, "B": 1, "C": 2}
    for key, value in values.items():
        if value <= 0:
            assert classes[key] == "C"
        for other, other_value in values.items():
            if value > other_value:
                assert order[classes[key]] <= order[classes[other]]


@given(weeks, st.integers(min_value=1, max_value=50))
def test_variation_is_non_negative_and_scale_free(series: list[int], factor: int) -> None:
    cv = variation(series)
    if not any(series):
        assert cv is None and xyz_class(cv) == "Z"
        return
    assert cv is not None and cv >= 0
    assert abs(variation([w * factor for w in series]) - cv) <= Decimal("0.1")  # type: ignore[operator]
    assert variation([sum(series)] * len(series)) == 0  # the same every week: perfectly steady


@given(st.decimals(min_value=0, max_value=1000, places=1))
def test_xyz_thresholds_are_monotonic(cv: Decimal) -> None:
    order = "XYZ"
    assert order.index(xyz_class(cv)) <= order.index(xyz_class(cv + 1))


# The profit report computes tax in SQL (analytics.profit.GROUPED_SQL); pricing.economics is the
# reference: for any regime, rates and amounts, both give the same tax to the kopeck.
regimes = st.sampled_from(["usn_income", "usn_income_expense", "osno"])
money = st.decimals(min_value=Decimal("0"), max_value=Decimal("50000"), places=2)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(regime=regimes, rate=st.sampled_from([None, Decimal("7"), Decimal("15")]),
       vat=st.sampled_from([Decimal(0), Decimal(5), Decimal(20)]), cost_vat=st.booleans(), sale=money,
       commission=money, cost=st.one_of(st.none(), money), units=st.integers(0, 5))
def test_sql_tax_equals_the_unit_economics_tax(regime: str, rate: Decimal | None, vat: Decimal, cost_vat: bool,
                                               sale: Decimal, commission: Decimal, cost: Decimal | None,
                                               units: int) -> None:
    from analytics.models import FinanceDaily, SalesDaily
    from analytics.period import Period
    from analytics.profit import article_rows, figures_of, grouped, tax_settings_by_account
    from catalog.models import Listing, Product
    from pricing.models import LegalEntity, LegalEntityAccount
    from tests.foundation_support import make_account

    account = make_account("wildberries")
    entity = LegalEntity.objects.create(name=f"ООО {account.pk}", tax_regime=regime, tax_rate=rate, vat_rate=vat,
                                        cost_includes_vat=cost_vat)
    LegalEntityAccount.objects.create(account=account, legal_entity=entity)
    product = Product.objects.create(article=f"T-{account.pk}", name="Товар", cost_price=cost)
    Listing.objects.create(account=account, external_id="1", offer_id="SKU", product=product)
    day = date(2026, 11, 2)
    SalesDaily.objects.create(account=account, day=day, offer_id="SKU", orders=units, units=units,
                              revenue=sale)
    FinanceDaily.objects.create(account=account, day=day, offer_id="SKU", operations=1, quantity=units,
                                sale_amount=sale, payout=sale - commission, commission=-commission)
    period = Period(day, day)
    [row] = article_rows(period, accounts=[account.pk])
    expected = figures_of(row, tax_settings_by_account()[account.pk])
    [group] = grouped(period, "product", [account.pk])
    assert (group.figures.tax, group.figures.cost, group.figures.profit) == (
        expected.tax, expected.cost, expected.profit)
