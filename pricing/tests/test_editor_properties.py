"""Hypothesis properties of the price editor's money arithmetic (no database):

- the request item each marketplace's real payload builder makes from an outbox price payload (what
  the editor previews and the outbox sends) carries the exact Decimal price back: Ozon's strings,
  WB's whole-rouble list price and discount (the buyer's price WB computes from them is ours), YM's
  JSON numbers for value, discountBase and minimumForBestseller;
- the formulas give whole kopecks, a raise never lowers a price, and the rounding to …9/…90/…99 gives
  the smallest such price not below the raw one.
"""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.price_payloads import request_item
from pricing.editor import Formula, Operation, Rounding, apply, round_to_ending

D = Decimal
prices = st.decimals(min_value=D("0.01"), max_value=D("9999999.99"), places=2)
percents = st.decimals(min_value=D("0"), max_value=D("99.99"), places=2)


def payload(price: Decimal, **extra: object) -> dict[str, object]:
    return {"price": str(price), "currency": "RUB", "offer_id": "PRL-1", "listing_external_id": "123456",
            "old_price": None, "min_price": None, "discount_percent": None} | extra


def through_json(value: object) -> Decimal:
    return D(str(json.loads(json.dumps(value))))


@settings(deadline=None)  # the first call imports the adapter
@given(prices, st.one_of(st.none(), prices), st.one_of(st.none(), prices))
def test_ozon_request_carries_the_exact_prices(price, old, minimum):
    old = None if old is None or old <= price else old
    minimum = None if minimum is None or minimum > price else minimum
    item = request_item("ozon", "123456",
                        payload(price, old_price=old and str(old), min_price=minimum and str(minimum)))
    assert D(item["price"]) == price and item["currency_code"] == "RUB"
    assert (D(item["old_price"]) if "old_price" in item else None) == old
    assert (D(item["min_price"]) if "min_price" in item else None) == minimum


@settings(deadline=None)  # the first call imports the adapter
@given(st.integers(min_value=1, max_value=9_999_999), st.integers(min_value=0, max_value=99))
def test_wb_request_gives_back_the_list_price_and_discount_of_a_price_it_stores(list_price, discount):
    """A buyer's price WB can store (a whole-rouble list price less a whole-percent discount) goes out
    as exactly that list price and discount, and WB's own arithmetic gives our price back."""
    price = D(list_price) * (100 - discount) / 100
    if price != price.quantize(D("0.01")) or price <= 0:
        return  # not a price WB can hold: the editor shows the adapter's refusal instead
    item = request_item("wildberries", "123456", payload(price.quantize(D("0.01")), discount_percent=discount))
    assert item == {"nmID": 123456, "price": list_price, "discount": discount}
    assert through_json(item["price"]) * (100 - item["discount"]) / 100 == price


@settings(deadline=None)  # the first call imports the adapter
@given(prices, st.one_of(st.none(), prices), st.one_of(st.none(), prices))
def test_ym_request_numbers_read_back_as_the_same_decimals(price, base, minimum):
    base = None if base is None or base <= price else base
    minimum = None if minimum is None or minimum > price else minimum
    item = request_item("yandex_market", "123456",
                        payload(price, old_price=base and str(base), min_price=minimum and str(minimum)))
    sent = item["price"]
    assert through_json(sent["value"]) == price and sent["currencyId"] == "RUR"
    assert (through_json(sent["discountBase"]) if "discountBase" in sent else None) == base
    assert (through_json(sent["minimumForBestseller"]) if "minimumForBestseller" in sent else None) == minimum


@given(prices, st.sampled_from([Rounding.NINE, Rounding.NINETY, Rounding.NINETY_NINE]))
def test_rounding_gives_the_smallest_price_with_that_ending_not_below(price, rounding):
    rounded = round_to_ending(price, rounding)
    modulus = 10 ** len(rounding.value)
    assert rounded >= price and rounded == rounded.to_integral_value()
    assert int(rounded) % modulus == int(rounding.value)
    assert rounded - modulus < price  # the previous price with that ending is below


@given(prices, percents, st.sampled_from(list(Rounding)))
def test_formulas_give_whole_kopecks_and_a_raise_never_lowers(price, percent, rounding):
    raised = apply(Formula(Operation.INCREASE, percent, rounding), price)
    assert raised is not None and raised == raised.quantize(D("0.01"))
    assert raised >= price.quantize(D("0.01")) or (rounding == Rounding.NONE and price - raised <= D("0.005"))
    lowered = apply(Formula(Operation.DECREASE, percent, Rounding.NONE), price)
    assert lowered is None or (lowered <= price and lowered == lowered.quantize(D("0.01")))
    matched = apply(Formula(Operation.MATCH, percent, Rounding.NONE, "ozon", -1), D(0), reference=price)
    assert matched is None or matched <= price
