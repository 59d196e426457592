"""pricing.floors.card_economics_bulk gives every card the figures pricing.fees.card_economics gives it
card by card, to the kopeck: fees, taxes, profit, margin, warnings and the solved floor, over cards of
several accounts with their own legal entities (every tax regime, VAT, VAT in the cost), fee rates of
every scope (card, category, account), scheme, date and price bracket with clamps, volume, daily and
per-return rates, finance averages for the kinds no rate gives, dated, undated and missing costs,
cards without a product, and stock on the marketplace's warehouse (FBO) or not.

And it reads them in a fixed number of queries whatever the number of cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.models import FeeLine, FinanceOperation
from catalog.models import CostPriceHistory, Listing, Product, StockLevel, Warehouse
from pricing.economics import TaxRegime
from pricing.fees import CardEconomics, card_economics
from pricing.floors import card_economics_bulk
from pricing.models import FeeRate, LegalEntity, LegalEntityAccount, Price
from tests.outbox_support import make_account, make_listing, make_warehouse

pytestmark = pytest.mark.django_db
D = Decimal
ON = date(2026, 6, 1)
BEFORE, LATER = ON - timedelta(days=40), ON + timedelta(days=10)
KINDS = ["commission", "logistics", "acquiring", "storage", "returns"]
CATEGORIES = ["", "Посуда", "Одежда"]

money = st.decimals(min_value=D("0"), max_value=D("400"), places=2)
percent = st.decimals(min_value=D("0"), max_value=D("25"), places=2)
price = st.decimals(min_value=D("1.00"), max_value=D("15000.00"), places=2)


@dataclass(frozen=True)
class CardSpec:
    account: int
    category: str
    cost: str  # "history" (one in effect, one later), "future" (dated after ON only), "undated", "none", "product"
    amount: Decimal
    litres: tuple[int, int, int] | None
    fbo_stock: bool
    price: Decimal | None


@dataclass(frozen=True)
class RateSpec:
    scope: str  # "card", "category", "account"
    card: int
    category: str
    scheme: str
    kind: str
    percent: Decimal
    fixed: Decimal
    bracket: tuple[Decimal | None, Decimal | None]
    minimum: Decimal | None
    maximum: Decimal | None
    per_extra_litre: Decimal
    per_day: bool
    effective_from: date


@dataclass(frozen=True)
class SaleSpec:
    card: int
    quantity: int
    sale_amount: Decimal
    fees: tuple[tuple[str, Decimal], ...]
    days_ago: int


@dataclass(frozen=True)
class EntitySpec:
    regime: str | None  # None: the account has no legal entity
    tax_rate: Decimal | None
    vat_rate: Decimal
    cost_includes_vat: bool


cards = st.builds(
    CardSpec, account=st.integers(0, 2), category=st.sampled_from(CATEGORIES),
    cost=st.sampled_from(["history", "future", "undated", "none", "product"]), amount=money,
    litres=st.one_of(st.none(), st.tuples(st.integers(50, 600), st.integers(50, 400), st.integers(10, 300))),
    fbo_stock=st.booleans(), price=st.one_of(st.none(), price),
)
rates = st.builds(
    RateSpec, scope=st.sampled_from(["card", "category", "account"]), card=st.integers(0, 7),
    category=st.sampled_from(CATEGORIES[1:]), scheme=st.sampled_from(["", "fbo", "fbs"]), kind=st.sampled_from(KINDS),
    percent=percent, fixed=st.decimals(min_value=D("0"), max_value=D("150"), places=2),
    bracket=st.sampled_from([(None, None), (None, D(1000)), (D(1000), None), (D(300), D(3000))]),
    minimum=st.one_of(st.none(), st.decimals(min_value=D("5"), max_value=D("60"), places=2)),
    maximum=st.one_of(st.none(), st.decimals(min_value=D("60"), max_value=D("900"), places=2)),
    per_extra_litre=st.sampled_from([D(0), D(0), D("7.50")]), per_day=st.booleans(),
    effective_from=st.sampled_from([BEFORE, BEFORE + timedelta(days=5), LATER]),
)
sales = st.builds(
    SaleSpec, card=st.integers(0, 7), quantity=st.integers(0, 4),
    sale_amount=st.decimals(min_value=D("0"), max_value=D("9000"), places=2),
    fees=st.lists(st.tuples(st.sampled_from(["commission", "logistics", "storage", "acquiring", "advertising"]),
                            st.decimals(min_value=D("-900"), max_value=D("50"), places=2)),
                  max_size=4, unique_by=lambda fee: fee[0]).map(tuple),
    days_ago=st.sampled_from([0, 5, 60, 89, 95, -3]),  # 95: out of the 90-day window; -3: after ON
)
entities = st.builds(
    EntitySpec, regime=st.sampled_from([None, *[r.value for r in TaxRegime]]),
    tax_rate=st.one_of(st.none(), st.decimals(min_value=D("1"), max_value=D("20"), places=2)),
    vat_rate=st.sampled_from([D(0), D(5), D(7), D(20)]), cost_includes_vat=st.booleans(),
)


def build(card_specs: list[CardSpec], rate_specs: list[RateSpec], sale_specs: list[SaleSpec],
          entity_specs: list[EntitySpec]) -> list[Listing]:
    accounts = [make_account(m) for m in ("ozon", "wildberries", "yandex_market")]
    for n, (account, spec) in enumerate(zip(accounts, entity_specs, strict=True)):
        if spec.regime is not None:
            entity = LegalEntity.objects.create(name=f"Юрлицо {n}", tax_regime=spec.regime, tax_rate=spec.tax_rate,
                                                vat_rate=spec.vat_rate, cost_includes_vat=spec.cost_includes_vat)
            LegalEntityAccount.objects.create(account=account, legal_entity=entity)
    fbo = {account.pk: make_warehouse(account, "fbo", kind=Warehouse.Kind.MARKETPLACE) for account in accounts}
    listings = []
    for n, spec in enumerate(card_specs, start=1):
        account = accounts[spec.account]
        listing = make_listing(account, n, cost=str(spec.amount) if spec.cost in ("undated", "history") else None)
        listing.category = spec.category
        if spec.cost == "product":
            listing.product = None
        listing.save(update_fields=["category", "product"])
        product = listing.product
        if product is not None:
            if spec.litres:
                product.length_mm, product.width_mm, product.height_mm = spec.litres
                product.save(update_fields=["length_mm", "width_mm", "height_mm"])
            if spec.cost == "history":
                CostPriceHistory.objects.create(product=product, cost_price=spec.amount, valid_from=BEFORE)
                CostPriceHistory.objects.create(product=product, cost_price=spec.amount + 50, valid_from=LATER)
            elif spec.cost == "future":
                CostPriceHistory.objects.create(product=product, cost_price=spec.amount, valid_from=LATER)
        StockLevel.objects.create(listing=listing, warehouse=fbo[account.pk], present=5 if spec.fbo_stock else 0)
        if spec.price is not None:
            Price.objects.create(listing=listing, price=spec.price)
        listings.append(listing)
    for n, spec in enumerate(rate_specs):
        card = listings[spec.card % len(listings)]
        account_id = card.account_id if spec.scope == "card" else accounts[spec.card % 3].pk
        FeeRate.objects.create(
            account_id=account_id, listing=card if spec.scope == "card" else None,
            category=spec.category if spec.scope == "category" else "", scheme=spec.scheme, kind=spec.kind,
            name=f"Тариф {n}", percent=spec.percent, fixed=spec.fixed, price_from=spec.bracket[0],
            price_to=spec.bracket[1], minimum=spec.minimum, maximum=spec.maximum,
            per_extra_litre=spec.per_extra_litre, per_day=spec.per_day, effective_from=spec.effective_from,
        )
    for n, spec in enumerate(sale_specs):
        card = listings[spec.card % len(listings)]
        at = datetime(ON.year, ON.month, ON.day, 9, tzinfo=UTC) - timedelta(days=spec.days_ago)
        operation = FinanceOperation.objects.create(
            account_id=card.account_id, external_id=f"op-{n}", operation_type="Продажа", operation_at=at,
            offer_id=card.offer_id, quantity=spec.quantity, sale_amount=spec.sale_amount, amount=spec.sale_amount)
        FeeLine.objects.bulk_create([FeeLine(operation=operation, kind=kind, name=kind, amount=amount)
                                     for kind, amount in spec.fees])
    return listings


def figures(card: CardEconomics) -> dict[str, Any]:
    """Everything a screen or a guard reads of a card's economics."""
    result = card.result
    return {
        "scheme": card.scheme, "floor": card.floor, "floor_problem": card.floor_problem,
        "result": None if result is None else {
            "price": result.price, "cost": result.cost, "profit": result.profit, "margin": result.margin_percent,
            "fees": sorted((line.kind, line.name, line.amount, line.source) for line in result.fees),
            "taxes": [(line.kind, line.name, line.amount) for line in result.taxes],
            "fees_total": result.fees_total, "warnings": sorted(result.warnings),
        },
    }


def one_by_one(listing_id: int, price: Decimal | None = None, scheme: str | None = None) -> CardEconomics:
    """The reference: pricing.fees.card_economics on a card loaded afresh, as the card page used to."""
    listing = Listing.objects.select_related("account", "product").get(pk=listing_id)
    return card_economics(listing, price=price, scheme=scheme, on=ON)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    card_specs=st.lists(cards, min_size=1, max_size=8),
    rate_specs=st.lists(rates, max_size=12),
    sale_specs=st.lists(sales, max_size=8),
    entity_specs=st.lists(entities, min_size=3, max_size=3),
    other_prices=st.lists(st.one_of(st.none(), price), min_size=8, max_size=8),
    scheme=st.sampled_from([None, None, "fbo", "fbs", "dbs"]),
)
def test_the_bulk_economics_equal_the_card_by_card_ones_to_the_kopeck(
    card_specs, rate_specs, sale_specs, entity_specs, other_prices, scheme,
):
    with transaction.atomic():
        listings = build(card_specs, rate_specs, sale_specs, entity_specs)
        ids = [listing.pk for listing in listings]
        # At each card's current price (None: no price, the floor only) ...
        bulk = card_economics_bulk(ids, scheme=scheme, on=ON)
        assert list(bulk) == ids
        for listing_id in ids:
            assert figures(bulk[listing_id]) == figures(one_by_one(listing_id, scheme=scheme)), listing_id
        # ... and at other prices (a card mapped to None: its current price, as card_economics's default).
        asked = dict(zip(ids, other_prices, strict=False))
        given_objects = list(Listing.objects.filter(pk__in=ids))  # nothing preloaded: read in bulk
        bulk = card_economics_bulk(given_objects, prices={pk: p for pk, p in asked.items() if p is not None}, on=ON)
        for listing_id in ids:
            expected = one_by_one(listing_id, price=asked.get(listing_id))
            assert figures(bulk[listing_id]) == figures(expected), listing_id
        transaction.set_rollback(True)


def test_a_card_mapped_to_no_price_gets_its_floor_only_and_unknown_ids_are_left_out():
    listing = make_listing(make_account(), 1)
    Price.objects.create(listing=listing, price=D("1000.00"))
    cards = card_economics_bulk([listing.pk, 10**9], prices={listing.pk: None}, on=ON)
    assert list(cards) == [listing.pk]
    assert cards[listing.pk].result is None and cards[listing.pk].floor == one_by_one(listing.pk).floor


def _cards(count: int) -> list[int]:
    account = make_account()
    LegalEntityAccount.objects.create(account=account, legal_entity=LegalEntity.objects.create(name="ИП"))
    products = Product.objects.bulk_create([Product(article=f"Q-{n}", name=f"Товар {n}", cost_price=D(300))
                                            for n in range(count)])
    listings = Listing.objects.bulk_create([
        Listing(account=account, external_id=str(500000 + n), offer_id=p.article, title=p.name, product=p,
                category=CATEGORIES[n % 3]) for n, p in enumerate(products)])
    Price.objects.bulk_create([Price(listing=x, price=D(1000)) for x in listings])
    FeeRate.objects.create(account=account, kind="commission", name="Комиссия", percent=D(15), effective_from=BEFORE)
    FeeRate.objects.create(account=account, listing=listings[0], kind="logistics", name="Логистика", fixed=D(80),
                           effective_from=BEFORE)
    operation = FinanceOperation.objects.create(
        account=account, external_id="op", operation_type="Продажа", operation_at=datetime(2026, 5, 20, tzinfo=UTC),
        offer_id=listings[1].offer_id, quantity=2, sale_amount=D(2000), amount=D(1700))
    FeeLine.objects.create(operation=operation, kind="logistics", name="Логистика", amount=D(-180))
    return [x.pk for x in listings]


def test_the_bulk_economics_read_a_fixed_number_of_queries_whatever_the_number_of_cards():
    ids = _cards(100)
    counts = []
    for chosen in (ids[:5], ids[:100]):
        with CaptureQueriesContext(connection) as queries:
            cards = card_economics_bulk(chosen, on=ON)
        assert len(cards) == len(chosen) and all(c.floor is not None for c in cards.values())
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6, counts
    # The finance averages came through: the second card's logistics is 180 / 2 units.
    second = card_economics_bulk([ids[1]], on=ON)[ids[1]].result
    assert second is not None and {line.kind: line.amount for line in second.fees}["logistics"] == D("90.00")
