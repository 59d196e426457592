"""Hypothesis properties of the money arithmetic around prices and fees:

- every amount survives each marketplace's money format both ways exactly (Ozon's price strings and
  JSON numbers, WB's kopecks and whole-rouble prices, YM's JSON numbers);
- fee lines of a finance operation add up to its total: what was accrued for the sale plus every
  fee line (charges negative) is what the marketplace paid, through the mapping and the stored rows.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.ingest import ingest_finance
from analytics.models import FeeLine, FinanceOperation
from core.money import from_minor_units, to_decimal, to_minor_units
from integrations.ozon import mapping as ozon_mapping
from integrations.ozon import schemas as ozon_schemas
from integrations.ozon.client import _money_number as ozon_number
from integrations.ozon.client import _money_text as ozon_text
from integrations.payloads import parse_json, payload
from integrations.yandex_market.client import _number as ym_number
from tests.outbox_support import make_account

D = Decimal
amounts = st.decimals(min_value=D("0.01"), max_value=D("9999999.99"), places=2)
signed = st.decimals(min_value=D("-99999.99"), max_value=D("99999.99"), places=2)


@payload
class Amount:
    value: Decimal


def through_json(number: int | float) -> Decimal:
    """What our pydantic readers make of the JSON number a marketplace sends."""
    return parse_json(Amount, json.dumps({"value": number})).value


@given(amounts)
def test_ozon_price_strings_and_numbers_round_trip(amount):
    assert to_decimal(ozon_text(amount)) == amount  # /v1/product/import/prices writes strings
    assert through_json(ozon_number(amount)) == amount  # /v5/product/info/prices reads numbers
    assert to_decimal(json.loads(json.dumps(ozon_number(amount)))) == amount


@given(amounts)
def test_wb_kopecks_and_finance_strings_round_trip(amount):
    assert from_minor_units(to_minor_units(amount)) == amount  # FBS orders: integers × 100
    assert to_decimal(format(amount, "f")) == amount  # finance-api: money as strings
    assert to_decimal(format(amount, "f").replace(".", ",")) == amount  # 10-rates: a decimal comma


@given(st.integers(min_value=1, max_value=99_999_999))
def test_wb_whole_rouble_prices_round_trip(roubles):
    assert through_json(int(Decimal(roubles))) == Decimal(roubles)


@given(amounts)
def test_ym_numbers_round_trip(amount):
    assert through_json(ym_number(amount)) == amount
    assert to_decimal(json.loads(json.dumps(ym_number(amount)))) == amount


fee_names = st.sampled_from(["MarketplaceServiceItemDirectFlowLogistic", "MarketplaceServiceItemDelivToCustomer",
                             "MarketplaceRedistributionOfAcquiringOperation", "MarketplaceServiceStorage",
                             "MarketplaceMarketingActionCostOperation", "SomethingNew"])


@st.composite
def ozon_operations(draw: st.DrawFn) -> list[ozon_schemas.FinanceOperation]:
    operations = []
    for n in range(draw(st.integers(1, 4))):
        sale = draw(st.decimals(min_value=D(0), max_value=D("99999.99"), places=2))
        commission, delivery, back = draw(signed), draw(signed), draw(signed)
        services = [{"name": draw(fee_names), "price": draw(signed)} for _ in range(draw(st.integers(0, 5)))]
        total = sale + commission + delivery + back + sum((s["price"] for s in services), D(0))
        raw = {"operation_id": 1000 + n, "operation_date": "2026-11-01 10:00:00", "amount": total,
               "accruals_for_sale": sale, "sale_commission": commission, "delivery_charge": delivery,
               "return_delivery_charge": back, "services": services,
               "items": [{"sku": 1, "name": "x"}] * draw(st.integers(0, 3))}
        operations.append(parse_json(ozon_schemas.FinanceOperation, json.dumps(raw, default=str)))
    return operations


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ozon_operations())
def test_fee_lines_add_up_to_the_finance_totals(operations):
    account = make_account()
    dtos = [ozon_mapping.finance_operation(op) for op in operations]
    for dto in dtos:
        assert dto.sale_amount + sum((fee.amount for fee in dto.fees), D(0)) == dto.amount
    ingest_finance(account.pk, dtos)
    for stored in FinanceOperation.objects.filter(account=account):
        lines = FeeLine.objects.filter(operation=stored).values_list("amount", flat=True)
        assert stored.sale_amount + sum(lines, D(0)) == stored.amount


@given(amount=amounts)
def test_an_uploaded_price_reads_back_as_written_in_russian_or_plain(amount: Decimal) -> None:
    from pricing.editor import parse_price

    russian = f"{amount:,.2f}".replace(",", "\u202f").replace(".", ",") + " ₽"  # "1 299,50 ₽" as Excel writes it
    assert parse_price(russian) == parse_price(str(amount)) == parse_price(amount) == amount


@pytest.mark.parametrize("bad", ["0", "-5", "1,234", "1000000000000", "abc", "NaN", "Infinity", "", None])
def test_an_uploaded_price_that_is_no_price_is_refused(bad: object) -> None:
    from pricing.editor import parse_price

    assert parse_price(bad) is None
