"""Unit economics: fees, taxes, profit, and the solved floor and target-margin prices.

The solver is checked against the definition, kopeck by kopeck: at the solved price and at any
higher one the profit is never negative (margin never under the target), and a kopeck less falls
short — including fees that jump between price brackets and percentages with a minimum."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pricing.economics import (
    KOPECK,
    EconomicsInputs,
    FeeKind,
    FeeRule,
    NoPriceError,
    TaxRegime,
    TaxSettings,
    break_even_price,
    solve_price,
    unit_economics,
)

D = Decimal
USN6 = TaxSettings(TaxRegime.USN_INCOME, D(6))
USN15 = TaxSettings(TaxRegime.USN_INCOME_EXPENSE, D(15))
OSNO = TaxSettings(TaxRegime.OSNO, D(25), vat_rate=D(20), cost_includes_vat=True)

ALL_FEES = [
    FeeRule(FeeKind.COMMISSION, "commission", percent=D(15)),
    FeeRule(FeeKind.LOGISTICS, "logistics", fixed=D(76)),
    FeeRule(FeeKind.ACQUIRING, "acquiring", percent=D("1.5")),
    FeeRule(FeeKind.STORAGE, "storage", fixed=D("3.20")),
    FeeRule(FeeKind.RETURNS, "returns", fixed=D("4.10")),
]


def profit(price: Decimal, inputs: EconomicsInputs) -> Decimal:
    result = unit_economics(price, inputs).profit
    assert result is not None
    return result


# ---------------------------------------------------------------------------------------------
# One price


def test_every_fee_and_usn6_tax_add_up_to_the_profit():
    result = unit_economics(D("1000.00"), EconomicsInputs(D("400.00"), ALL_FEES, USN6))
    assert [line.amount for line in result.fees] == [D("150.00"), D("76.00"), D("15.00"), D("3.20"), D("4.10")]
    assert [line.amount for line in result.taxes] == [D("60.00")]
    assert result.profit == D("1000") - D("400") - D("248.30") - D("60")
    assert result.margin_percent == D("29.17")
    assert result.warnings == []


def test_usn15_taxes_the_profit_after_cost_and_fees():
    result = unit_economics(D("1000.00"), EconomicsInputs(D("400.00"), ALL_FEES, USN15))
    # (1000 - 400 - 248.30) * 15 % = 52.755 → 52.76
    assert [line.amount for line in result.taxes] == [D("52.76")]
    assert result.profit == D("351.70") - D("52.76")


def test_usn15_charges_no_tax_on_a_loss():
    result = unit_economics(D("300.00"), EconomicsInputs(D("400.00"), ALL_FEES, USN15))
    assert [line.amount for line in result.taxes] == [D("0.00")]
    assert result.profit is not None and result.profit < 0


def test_osno_pays_vat_on_added_value_and_profit_tax_on_net_profit():
    fees = [FeeRule(FeeKind.COMMISSION, "c", percent=D(10))]
    result = unit_economics(D("1200.00"), EconomicsInputs(D("600.00"), fees, OSNO))
    vat, profit_tax = (line.amount for line in result.taxes)
    # Output VAT 200, input VAT on the 120 commission 20 and on the 600 cost 100.
    assert vat == D("80.00")
    # Net revenue 1000 - net cost 500 - net commission 100 = 400, 25 % of it.
    assert profit_tax == D("100.00")
    assert result.profit == D("1200") - D("600") - D("120") - D("80") - D("100")


def test_usn_with_vat_takes_the_usn_rate_of_revenue_without_vat():
    tax = TaxSettings(TaxRegime.USN_INCOME, D(6), vat_rate=D(5))
    result = unit_economics(D("1050.00"), EconomicsInputs(D("0"), [], tax))
    assert [line.amount for line in result.taxes] == [D("50.00"), D("60.00")]


def test_a_missing_cost_is_a_warning_and_no_profit_not_a_zero():
    result = unit_economics(D("1000.00"), EconomicsInputs(None, ALL_FEES, USN6))
    assert result.profit is None and result.margin_percent is None
    assert any("cost price" in w for w in result.warnings)
    with pytest.raises(NoPriceError):
        break_even_price(EconomicsInputs(None, ALL_FEES, USN6))


def test_each_missing_fee_kind_and_a_missing_tax_regime_are_warnings():
    result = unit_economics(D("1000.00"), EconomicsInputs(D(1), ALL_FEES[:2], None))
    assert len(result.warnings) == 4
    assert [w for w in result.warnings if "acquiring" in w] and [w for w in result.warnings if "tax regime" in w]
    assert not result.complete


def test_a_bracket_fee_applies_only_inside_its_price_range():
    fees = [
        FeeRule(FeeKind.COMMISSION, "≤300", percent=D(20), price_to=D(300)),
        FeeRule(FeeKind.COMMISSION, ">300", percent=D(30), price_from=D(300)),
    ]
    assert unit_economics(D("299.99"), EconomicsInputs(D(0), fees, None)).fees_total == D("60.00")
    assert unit_economics(D("300.00"), EconomicsInputs(D(0), fees, None)).fees_total == D("90.00")


def test_a_clamped_percentage_pays_its_minimum_and_maximum():
    rule = FeeRule(FeeKind.LOGISTICS, "last mile", percent=D("5.5"), minimum=D(20), maximum=D(500))
    assert rule.amount(D(100)) == D("20.00")
    assert rule.amount(D(1000)) == D("55.00")
    assert rule.amount(D(100000)) == D("500.00")


# ---------------------------------------------------------------------------------------------
# Solved prices


def test_the_floor_is_solved_across_a_commission_bracket():
    # Below 1500 the commission is 10 %, from 1500 on 40 %: a price just under 1500 breaks even,
    # but 1500.00 loses money again, so the floor is the break-even point of the 40 % segment.
    fees = [
        FeeRule(FeeKind.COMMISSION, "low", percent=D(10), price_to=D(1500)),
        FeeRule(FeeKind.COMMISSION, "high", percent=D(40), price_from=D(1500)),
    ]
    inputs = EconomicsInputs(D("1000.00"), fees, None)
    floor = break_even_price(inputs)
    assert profit(D("1499.99"), inputs) > 0 and profit(D("1500.00"), inputs) < 0
    assert floor == D("1666.66")  # 40 % of it rounds to 666.66: profit exactly 0
    assert profit(floor, inputs) >= 0 > profit(floor - KOPECK, inputs)


def test_the_target_margin_price_keeps_the_margin():
    inputs = EconomicsInputs(D("400.00"), ALL_FEES, USN6)
    price = solve_price(inputs, D(20))
    assert profit(price, inputs) >= price * D("0.20")
    assert profit(price - KOPECK, inputs) < (price - KOPECK) * D("0.20")


def test_no_price_is_found_when_fees_take_the_whole_price():
    inputs = EconomicsInputs(D("10.00"), [FeeRule(FeeKind.COMMISSION, "c", percent=D(95))], USN6)
    with pytest.raises(NoPriceError):
        break_even_price(inputs)


money = st.decimals(min_value=D("0"), max_value=D("5000"), places=2)
percent = st.decimals(min_value=D("0"), max_value=D("30"), places=2)
regimes = st.sampled_from([None, USN6, USN15, OSNO, TaxSettings(TaxRegime.USN_INCOME, D(6), vat_rate=D(7))])


@st.composite
def fee_schedules(draw: st.DrawFn) -> list[FeeRule]:
    """A commission by up to three price segments, logistics by price bracket, acquiring with a
    minimum, and fixed storage and returns."""
    cuts = sorted(set(draw(st.lists(st.decimals(min_value=D("50"), max_value=D("5000"), places=2), max_size=2))))
    edges: list[Decimal | None] = [None, *cuts, None]
    rules = [
        FeeRule(FeeKind.COMMISSION, f"commission {i}", percent=draw(percent), price_from=lo, price_to=hi)
        for i, (lo, hi) in enumerate(pairwise(edges))
    ]
    split = draw(st.decimals(min_value=D("100"), max_value=D("3000"), places=2))
    rules += [
        FeeRule(FeeKind.LOGISTICS, "cheap", fixed=draw(money) / 10, price_to=split),
        FeeRule(FeeKind.LOGISTICS, "dear", fixed=draw(money) / 10, percent=draw(percent) / 5, price_from=split),
        FeeRule(FeeKind.ACQUIRING, "acquiring", percent=draw(percent) / 10, minimum=draw(money) / 100),
        FeeRule(FeeKind.STORAGE, "storage", fixed=draw(money) / 100),
        FeeRule(FeeKind.RETURNS, "returns", fixed=draw(money) / 100),
    ]
    return rules


@settings(max_examples=300, deadline=None)
@given(cost=money, fees=fee_schedules(), tax=regimes, margin=st.sampled_from([D(0), D(0), D(5), D("12.5"), D(30)]),
       above=st.lists(st.decimals(min_value=D("0"), max_value=D("20000"), places=2), max_size=8))
@example(cost=D("1000.00"), fees=[FeeRule(FeeKind.COMMISSION, "low", percent=D(10), price_to=D(1500)),
                                  FeeRule(FeeKind.COMMISSION, "high", percent=D(40), price_from=D(1500))],
         tax=USN15, margin=D(0), above=[D("0.01")])
def test_the_solved_price_never_falls_short_and_is_minimal_within_a_kopeck(cost, fees, tax, margin, above):
    inputs = EconomicsInputs(cost, fees, tax)
    try:
        price = solve_price(inputs, margin)
    except NoPriceError:
        # Only when the top segment's fees and taxes eat the price: check it really loses money there.
        top = D("99999999.99")
        assert profit(top, inputs) - top * margin / 100 < 0
        return
    share = margin / 100

    def ok(p: Decimal) -> bool:
        return profit(p, inputs) >= p * share

    assert price >= KOPECK
    assert ok(price)
    if price > KOPECK:
        assert not ok(price - KOPECK)
    # Every price above it too, including the kopecks around every bracket edge.
    edges = [p for rule in fees for p in rule.breakpoints()]
    probes = [price + x for x in above] + [e + d for e in edges for d in (-KOPECK, D(0), KOPECK)]
    for p in probes:
        p = p.quantize(KOPECK)
        if p >= price:
            assert ok(p), p


@settings(max_examples=30, deadline=None)
@given(cost=st.decimals(min_value=D("0"), max_value=D("300"), places=2), fees=fee_schedules(), tax=regimes)
def test_the_floor_matches_a_brute_force_scan_of_every_kopeck(cost, fees, tax):
    """Over small prices, check every kopeck: the floor is the kopeck after the last loss."""
    inputs = EconomicsInputs(cost, fees[:1] + fees[-3:], tax)  # one commission segment, no brackets
    try:
        floor = break_even_price(inputs)
    except NoPriceError:
        return
    if floor > D(1500):
        return
    p = floor + D(10)  # every kopeck from 10 roubles above the floor down to the first loss
    last_loss = D(0)
    while p > 0:
        if profit(p, inputs) < 0:
            last_loss = p
            break
        p -= KOPECK
    assert floor == last_loss + KOPECK
