"""Fee rates kept with effective dates, the rules a card's economics uses (card over category over
account, API rates over finance averages), tax per legal entity, and the fees stream end to end."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from analytics.models import FeeLine, FinanceOperation
from catalog.models import Listing
from integrations.base import FeeRateDTO
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount
from integrations.registry import get_client
from integrations.sandbox import credentials as sandbox_credentials
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.sync import engine
from pricing.costs import set_cost
from pricing.economics import FeeKind, TaxRegime
from pricing.fees import card_economics, economics_inputs, tax_settings
from pricing.ingest import ingest_fee_rates
from pricing.models import FeeRate, LegalEntity, LegalEntityAccount, Price
from tests.outbox_support import make_account, make_listing

pytestmark = pytest.mark.django_db
D = Decimal
DAY1, DAY2, DAY3 = date(2026, 3, 1), date(2026, 4, 6), date(2026, 4, 7)


def commission(percent: str, listing: Listing | None = None, **kw) -> FeeRateDTO:
    return FeeRateDTO("commission", "Комиссия", "fbs", listing.external_id if listing else "", percent=D(percent), **kw)


def all_fees(listing: Listing) -> list[FeeRateDTO]:
    key = listing.external_id
    return [
        FeeRateDTO("commission", "Комиссия", "fbs", key, percent=D(15)),
        FeeRateDTO("logistics", "Логистика", "fbs", key, fixed=D(80)),
        FeeRateDTO("acquiring", "Эквайринг", "", key, percent=D("1.5")),
        FeeRateDTO("storage", "Хранение", "", key, fixed=D(0)),
        FeeRateDTO("returns", "Возвраты", "fbs", key, fixed=D(100)),
    ]


def test_rates_are_kept_with_effective_dates_and_only_changes_are_written():
    account = make_account()
    listing = make_listing(account, 1)
    assert ingest_fee_rates(account.pk, [commission("15", listing)], DAY1).created == 1
    assert ingest_fee_rates(account.pk, [commission("15", listing)], DAY2).unchanged == 1
    assert FeeRate.objects.count() == 1
    # From 6 Apr the commission depends on the price segment: a new set of two brackets.
    brackets = [commission("20", listing, price_to=D(300)), commission("25", listing, price_from=D(300))]
    brackets = [FeeRateDTO(r.kind, f"{r.name} {i}", r.scheme, r.listing_external_id, percent=r.percent,
                           price_from=r.price_from, price_to=r.price_to) for i, r in enumerate(brackets)]
    assert ingest_fee_rates(account.pk, brackets, DAY2).created == 2
    before = economics_inputs(listing, scheme="fbs", on=date(2026, 4, 5)).fees
    after = economics_inputs(listing, scheme="fbs", on=DAY3).fees
    assert [(r.percent, r.price_from) for r in before if r.kind == "commission"] == [(D(15), None)]
    assert sorted((r.percent, r.price_from or D(0)) for r in after if r.kind == "commission") == [
        (D(20), D(0)), (D(25), D(300))]
    # The same day read again with other values replaces that day's set.
    assert ingest_fee_rates(account.pk, [commission("21", listing)], DAY2).updated == 1
    assert [r.percent for r in economics_inputs(listing, scheme="fbs", on=DAY3).fees] == [D(21)]


def test_rates_of_cards_not_synced_yet_are_skipped():
    account = make_account()
    counts = ingest_fee_rates(account.pk, [FeeRateDTO("commission", "c", "fbs", "404", percent=D(5))], DAY1)
    assert counts.skipped == 1 and not FeeRate.objects.exists()


def test_the_cards_own_rate_beats_its_categorys_which_beats_the_accounts():
    account = make_account("wildberries")
    listing = make_listing(account, 1)
    Listing.objects.filter(pk=listing.pk).update(category="Посуда")
    listing.refresh_from_db()
    ingest_fee_rates(account.pk, [commission("10"), commission("12", category="Посуда")], DAY1)
    assert [r.percent for r in economics_inputs(listing, scheme="fbs", on=DAY1).fees] == [D(12)]
    ingest_fee_rates(account.pk, [commission("14", listing)], DAY1)
    assert [r.percent for r in economics_inputs(listing, scheme="fbs", on=DAY1).fees] == [D(14)]
    # Another scheme's rate does not apply.
    assert economics_inputs(listing, scheme="fbo", on=DAY1).fees == []


def test_volume_daily_storage_and_per_return_rates_become_per_unit_fees(settings):
    settings.PRICING_STORAGE_DAYS = 30
    settings.PRICING_RETURN_SHARE_PERCENT = 10
    account = make_account("wildberries")
    listing = make_listing(account, 1)
    product = listing.product
    product.length_mm, product.width_mm, product.height_mm = 300, 200, 100  # 6 litres
    product.save()
    ingest_fee_rates(account.pk, [
        FeeRateDTO("logistics", "Логистика", "fbo", fixed=D(55), per_extra_litre=D(12)),
        FeeRateDTO("storage", "Хранение в день", "fbo", fixed=D("0.16"), per_day=True),
        FeeRateDTO("returns", "Обратная логистика", "fbo", listing.external_id, fixed=D(50)),
    ], DAY1)
    fees = {r.kind: r.fixed for r in economics_inputs(listing, scheme="fbo", on=DAY1).fees}
    assert fees == {"logistics": D(55) + 5 * D(12), "storage": D("4.80"), "returns": D("5.0")}


def test_fees_the_api_does_not_give_are_averaged_from_finance_operations_with_a_note():
    account = make_account()
    listing = make_listing(account, 1)
    ingest_fee_rates(account.pk, [commission("15", listing)], DAY1)
    for n, (qty, sale, logistics, storage) in enumerate([(1, "1000", "-90", "-4"), (3, "3000", "-210", "-8")]):
        op = FinanceOperation.objects.create(
            account=account, external_id=f"op{n}", operation_type="sale", quantity=qty, sale_amount=D(sale),
            amount=D(sale), offer_id=listing.offer_id, operation_at=datetime(2026, 2, 20, tzinfo=UTC))
        FeeLine.objects.create(operation=op, kind="logistics", name="Логистика", amount=D(logistics))
        FeeLine.objects.create(operation=op, kind="storage", name="Хранение", amount=D(storage))
        FeeLine.objects.create(operation=op, kind="commission", name="Комиссия", amount=D("-999"))
    inputs = economics_inputs(listing, scheme="fbs", on=DAY1)
    by_kind = {r.kind: r for r in inputs.fees}
    assert by_kind["commission"].percent == D(15) and by_kind["commission"].source == "api"  # the API wins
    assert (by_kind["logistics"].fixed, by_kind["logistics"].source) == (D("75.00"), "finance")
    assert by_kind["storage"].fixed == D("3.00")
    assert len(inputs.notes) == 2
    result = card_economics(listing, price=D(1000), scheme="fbs", on=DAY1).result
    assert result is not None
    assert any("acquiring" in w for w in result.warnings) and any("returns" in w for w in result.warnings)
    assert any("averaged" in w for w in result.warnings)


@pytest.mark.parametrize(("regime", "rate", "vat", "expected"), [
    (TaxRegime.USN_INCOME, None, "0", (TaxRegime.USN_INCOME, D(6), D(0))),
    (TaxRegime.USN_INCOME_EXPENSE, None, "0", (TaxRegime.USN_INCOME_EXPENSE, D(15), D(0))),
    (TaxRegime.OSNO, None, "20", (TaxRegime.OSNO, D(25), D(20))),
    (TaxRegime.USN_INCOME, "4", "5", (TaxRegime.USN_INCOME, D(4), D(5))),
])
def test_the_tax_comes_from_the_accounts_legal_entity(regime, rate, vat, expected):
    account = make_account()
    assert tax_settings(account.pk) is None
    entity = LegalEntity.objects.create(name="ООО Ромашка", tax_regime=regime, tax_rate=rate, vat_rate=D(vat))
    LegalEntityAccount.objects.create(account=account, legal_entity=entity)
    tax = tax_settings(account.pk)
    assert tax is not None and (tax.regime, tax.rate, tax.vat_rate) == expected


def test_a_card_with_every_fee_and_a_cost_has_a_profit_a_margin_and_a_safe_floor():
    account = make_account()
    listing = make_listing(account, 1, cost=None)
    set_cost(listing.product, "400", DAY1)
    ingest_fee_rates(account.pk, all_fees(listing), DAY1)
    entity = LegalEntity.objects.create(name="ИП", tax_regime=TaxRegime.USN_INCOME)
    LegalEntityAccount.objects.create(account=account, legal_entity=entity)
    Price.objects.create(listing=listing, price=D("1000.00"))
    card = card_economics(listing, scheme="fbs", on=DAY1)
    assert card.result is not None and card.result.warnings == []
    # 1000 - 400 - 150 - 80 - 15 - 0 - 5 (100 × 5 % returned) - 60 tax
    assert card.result.profit == D("290.00") and card.result.margin_percent == D("29.00")
    assert card.floor is not None
    floor_result = card_economics(listing, price=card.floor, scheme="fbs", on=DAY1).result
    below = card_economics(listing, price=card.floor - D("0.01"), scheme="fbs", on=DAY1).result
    assert floor_result is not None and below is not None
    assert floor_result.profit is not None and floor_result.profit >= 0
    assert below.profit is not None and below.profit < 0


def test_a_card_without_a_cost_shows_no_profit_and_no_floor_but_says_why():
    account = make_account()
    listing = make_listing(account, 1, cost=None)
    card = card_economics(listing, price=D(500), scheme="fbs")
    assert card.result is not None and card.result.profit is None and card.floor is None
    assert any("cost price" in w for w in card.result.warnings) and card.floor_problem


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_the_fees_stream_stores_rates_from_the_sandbox(marketplace):
    world = SandboxWorld(SandboxConfig(seed=42, products=12, orders=10, start=datetime.now(UTC).replace(microsecond=0)))
    account = MarketplaceAccount(marketplace=marketplace, name=f"{marketplace} fees",
                                 base_url=f"http://sandbox.test/{marketplace}")
    if marketplace == "ozon":
        account.client_id = sandbox_credentials.OZON_CLIENT_ID
        account.set_credentials({"api_key": sandbox_credentials.OZON_API_KEY})
    elif marketplace == "wildberries":
        account.set_credentials({"token": sandbox_credentials.WB_TOKEN})
    else:
        account.business_id = str(sandbox_credentials.YM_BUSINESS_ID)
        account.set_credentials({"api_key": sandbox_credentials.YM_API_KEY})
    account.save()
    client = get_client(account, transport=SandboxTransport(SandboxApp(world)), clock=FakeClock(),
                        limiter=LocalLimiter())
    for stream in ("warehouses", "listings", "fees"):
        run = engine.run_stream(account, stream, client=client, heartbeat=False)
        assert run.status == "succeeded", (stream, run.status, run.error_message)
    listing = Listing.objects.filter(account=account).order_by("offer_id").first()
    assert listing is not None
    inputs = economics_inputs(listing, scheme="fbs")
    kinds = {rule.kind for rule in inputs.fees}
    assert {FeeKind.COMMISSION, FeeKind.LOGISTICS} <= kinds, kinds
    # A second read the same day changes nothing.
    before = FeeRate.objects.count()
    engine.run_stream(account, "fees", client=client, heartbeat=False)
    assert FeeRate.objects.count() == before
