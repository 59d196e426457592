"""Advertising spend per card: the `ads` sync stream against the sandbox (WB and Ozon Performance),
its idempotent re-reads, "not available" without the Performance credentials, the profit report's
ad figure to the kopeck on a small fixed data set (ads counted once against the finance reports'
advertising), the /analytics/ads/ page (query count, keyset pages) and its exports, and the Ozon
account's encrypted Performance credentials."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from analytics import ads as ads_selectors
from analytics.ads import ingest_ad_stats
from analytics.ingest import ingest_finance
from analytics.models import AdSpendDaily
from analytics.period import Period
from analytics.profit import profit_report
from catalog.models import Listing, Product
from core.models import AuditEvent
from core.roles import Role
from integrations.ads import iter_ad_stats
from integrations.base import AdStatDTO, FeeDTO, FinanceOperationDTO, NotAvailableError, OrderDTO, OrderLineDTO
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount, SyncRun, SyncState
from integrations.registry import get_client
from integrations.sandbox import credentials as sandbox_credentials
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.sync import engine
from orders.ingest import ingest_orders
from orders.models import OrderStatus, Scheme
from pricing.models import LegalEntity, LegalEntityAccount
from tests.foundation_support import client_for, compile_translations, make_account, make_user

pytestmark = pytest.mark.django_db

PERFORMANCE = {"performance_client_id": sandbox_credentials.OZON_PERFORMANCE_CLIENT_ID,
               "performance_client_secret": sandbox_credentials.OZON_PERFORMANCE_CLIENT_SECRET}


# ---------------------------------------------------------------------------------------------
# The sync stream against the sandbox


def sandbox_account(marketplace: str, *, performance: bool = True) -> MarketplaceAccount:
    account = MarketplaceAccount(marketplace=marketplace, name=f"{marketplace} ads",
                                 base_url=f"http://sandbox.test/{marketplace}")
    if marketplace == "ozon":
        account.client_id = sandbox_credentials.OZON_CLIENT_ID
        account.set_credentials({"api_key": sandbox_credentials.OZON_API_KEY, **(PERFORMANCE if performance else {})})
    else:
        account.set_credentials({"token": sandbox_credentials.WB_TOKEN})
    account.save()
    return account


@pytest.fixture
def world() -> SandboxWorld:
    # The world's clock is the wall clock: the stream's window ends today, as the sandbox's statistics do;
    # but no later than 22:00 in Moscow, so the tests that move it on by an hour and a half stay within today.
    now = datetime.now(UTC).replace(microsecond=0)
    late = timezone.localtime(now).replace(hour=22, minute=0, second=0)
    return SandboxWorld(SandboxConfig(seed=42, products=40, orders=60, start=min(now, late.astimezone(UTC))))


@pytest.fixture
def connect(world: SandboxWorld) -> Callable[[MarketplaceAccount], Any]:
    app = SandboxApp(world)

    def client_for_account(account: MarketplaceAccount) -> Any:
        return get_client(account, transport=SandboxTransport(app), clock=FakeClock(), limiter=LocalLimiter())

    return client_for_account


def run(account: MarketplaceAccount, stream: str, client: Any) -> SyncRun:
    return engine.run_stream(account, stream, client=client, heartbeat=False)


def stored(account: MarketplaceAccount) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {(r.day, r.campaign_id, r.item_ref): (r.spend, r.views, r.clicks, r.orders, r.ordered_amount)
            for r in AdSpendDaily.objects.filter(account=account)}


@pytest.mark.parametrize("marketplace", ["wildberries", "ozon"])
def test_the_ads_stream_stores_each_cards_spend_and_a_re_read_changes_nothing(
    marketplace: str, connect: Callable[[MarketplaceAccount], Any]
) -> None:
    account = sandbox_account(marketplace)
    client = connect(account)
    assert run(account, "listings", client).status == SyncRun.Status.SUCCEEDED
    first = run(account, "ads", client)

    assert first.status == SyncRun.Status.SUCCEEDED
    rows = AdSpendDaily.objects.filter(account=account)
    assert first.created == rows.count() == first.fetched > 10
    # What the adapter reads for the run's window, stored as read, each row on its card.
    since = datetime.fromisoformat(first.progress["since"])
    read = [i for page in iter_ad_stats(connect(account), since) for i in page.items]
    assert stored(account) == {(i.day, i.campaign_id, i.item_ref): (i.spend, i.views, i.clicks, i.orders,
                                                                     i.ordered_amount) for i in read}
    cards = dict(Listing.objects.filter(account=account).values_list("marketplace_sku", "offer_id"))
    assert all(r.offer_id == cards[r.item_ref] and r.listing_id for r in rows)
    days = sorted({r.day for r in rows})
    today = timezone.localdate()
    assert days[-1] == today
    if marketplace == "ozon":
        assert days == [today - timedelta(days=1), today]  # the product statistics go back to yesterday only
    else:
        assert days[0] < today - timedelta(days=20)  # the first read goes a month back

    before = sorted(rows.values_list("pk", "updated_at"))
    again = run(account, "ads", client)
    assert (again.status, again.created, again.updated) == (SyncRun.Status.SUCCEEDED, 0, 0)
    assert again.unchanged == again.fetched > 0
    assert sorted(rows.values_list("pk", "updated_at")) == before


def test_a_later_re_read_revises_todays_figures_only(world: SandboxWorld, connect: Callable[..., Any]) -> None:
    account = sandbox_account("wildberries")
    client = connect(account)
    run(account, "listings", client)
    run(account, "ads", client)
    before = dict(AdSpendDaily.objects.filter(account=account).values_list("pk", "views"))
    world.advance(90)  # an hour and a half later WB counts more of today's views
    again = run(account, "ads", client)
    after = dict(AdSpendDaily.objects.filter(account=account).values_list("pk", "views"))
    changed = {pk for pk in before if after[pk] != before[pk]}
    assert again.updated == len(changed) > 0 and again.created == 0
    today = world.now.astimezone(timezone.get_current_timezone()).date()
    assert set(AdSpendDaily.objects.filter(pk__in=changed).values_list("day", flat=True)) == {today}
    assert all(after[pk] > before[pk] for pk in changed)


def test_ozon_without_performance_credentials_is_not_available_and_the_account_stays_healthy(
    connect: Callable[..., Any],
) -> None:
    account = sandbox_account("ozon", performance=False)
    with pytest.raises(NotAvailableError):
        run(account, "ads", connect(account))
    state = SyncState.objects.get(account=account, stream="ads")
    assert state.unavailable_since is not None and "Performance API" in state.unavailable_message
    account.refresh_from_db()
    assert account.last_error == ""
    assert not AdSpendDaily.objects.filter(account=account).exists()


# ---------------------------------------------------------------------------------------------
# The profit report, to the kopeck


def _order(external_id: str, offer: str, qty: int, price: str, at: Any) -> OrderDTO:
    return OrderDTO(
        external_id=external_id, scheme=Scheme.FBS, status=OrderStatus.NEW, raw_status="new", ordered_at=at,
        lines=(OrderLineDTO(line_key="1", offer_id=offer, quantity=qty, price=D(price), currency="RUB"),),
        currency="RUB", total_amount=D(price) * qty,
    )


def _operation(external_id: str, offer: str, qty: int, sale: str, at: Any, **fees: str) -> FinanceOperationDTO:
    lines = tuple(FeeDTO(kind=kind, name=kind.title(), amount=-D(value)) for kind, value in fees.items())
    amount = D(sale) + sum((fee.amount for fee in lines), D(0))
    return FinanceOperationDTO(
        external_id=external_id, operation_type="sale" if qty else "service", operation_at=at, amount=amount,
        currency="RUB", offer_id=offer, quantity=qty, sale_amount=D(sale), fees=lines,
    )


def _ad(day: Any, campaign: str, sku: str, spend: str, views: int, clicks: int, orders: int, amount: str) -> AdStatDTO:
    return AdStatDTO(day=day, campaign_id=campaign, item_ref=sku, spend=D(spend), views=views, clicks=clicks,
                     orders=orders, ordered_amount=D(amount))


@pytest.fixture
def dataset() -> dict[str, Any]:
    """Yesterday: SKU-1 (cost 100.00) 2 × 500.00, SKU-2 (no cost) 1 × 333.33; the finance reports:
    commission, logistics, acquiring, and account-level storage 12.34 and advertising 70.00. The ad
    statistics: SKU-1 60.10 + 25.00 in two campaigns, SKU-2 14.90, a card not synced 5.00 (105.00 in
    all). УСН 6 % of revenue."""
    account = make_account("ozon", name="Ozon main")
    entity = LegalEntity.objects.create(name="ИП Иванов", tax_regime="usn_income")
    LegalEntityAccount.objects.create(account=account, legal_entity=entity)
    one = Product.objects.create(article="A-1", name="Чайник", brand="Brand1", cost_price=D("100.00"))
    two = Product.objects.create(article="A-2", name="Кружка", brand="Brand2")
    Listing.objects.create(account=account, external_id="1", offer_id="SKU-1", marketplace_sku="1001", product=one,
                           title="Чайник электрический")
    Listing.objects.create(account=account, external_id="2", offer_id="SKU-2", marketplace_sku="1002", product=two,
                           title="Кружка керамическая")
    at = timezone.now() - timedelta(days=1)
    day = timezone.localtime(at).date()
    with transaction.atomic():
        ingest_orders(account.pk, [_order("O1", "SKU-1", 2, "500.00", at), _order("O2", "SKU-2", 1, "333.33", at)])
        ingest_finance(account.pk, [
            _operation("F1", "SKU-1", 2, "1000.00", at, commission="150.00", logistics="80.50", acquiring="15.25"),
            _operation("F2", "SKU-2", 1, "333.33", at, commission="50.00"),
            _operation("F3", "", 0, "0", at, storage="12.34"),
            _operation("F4", "", 0, "0", at, advertising="70.00"),
        ])
        counts = ingest_ad_stats(account.pk, [
            _ad(day, "501", "1001", "60.10", 1200, 40, 1, "500.00"),
            _ad(day, "502", "1001", "25.00", 300, 10, 0, "0"),
            _ad(day, "501", "1002", "14.90", 500, 9, 1, "333.33"),
            _ad(day, "501", "9999", "5.00", 100, 2, 0, "0"),
        ])
    assert counts.created == 4
    return {"account": account, "day": day}


def _week() -> Period:
    today = timezone.localdate()
    return Period(today - timedelta(days=6), today, 7)


def test_profit_charges_each_cards_ad_spend_and_counts_the_finance_advertising_once(dataset: dict[str, Any]) -> None:
    report = profit_report(_week(), "product")
    by_label = {g.label: g.figures for g in report.groups}
    kettle, mug = by_label["Чайник"], by_label["Кружка"]
    # Before the ads the kettle made 494.25 and the mug 263.33 (tests/test_analytics_reports.py).
    assert (kettle.ad_spend, kettle.profit, kettle.ad_share) == (D("85.10"), D("409.15"), D("17.2"))
    assert (mug.ad_spend, mug.profit, mug.ad_share) == (D("14.90"), D("248.43"), D("5.7"))
    charges = next(g for g in report.groups if g.key == f"a{dataset['account'].pk}:").figures
    # Storage 12.34 and the reports' advertising 70.00, of which the cards now carry 70.00 (of their 100.00)
    # and the card not synced 5.00 stays here: 5.00 − 70.00.
    assert (charges.fee("storage"), charges.fee("advertising"), charges.paid) == (D("12.34"), D("70.00"), D("-82.34"))
    assert (charges.ad_spend, charges.profit) == (D("-65.00"), D("-17.34"))
    # The account's ads cost max(70.00 charged, 105.00 in the statistics) = 105.00: 35.00 beyond the reports.
    assert (report.total.paid, report.total.ad_spend, report.total.profit) == (D("955.24"), D("35.00"), D("640.24"))
    assert report.total.paid - report.total.cost - report.total.tax - D("105.00") + D("70.00") == D("640.24")


def test_profit_counts_the_ad_statistics_alone_when_the_reports_charged_more(dataset: dict[str, Any]) -> None:
    account = dataset["account"]
    with transaction.atomic():
        ingest_finance(account.pk, [_operation("F4", "", 0, "0", timezone.now() - timedelta(days=1),
                                               advertising="130.00")])
    report = profit_report(_week(), "account")
    [group] = report.groups
    # The reports' 130.00 covers the statistics' 105.00: nothing more is charged for ads.
    assert (group.figures.fee("advertising"), group.figures.ad_spend) == (D("130.00"), D("0.00"))
    assert group.figures.profit == D("745.24") - D("130.00")


def test_profit_page_shows_the_ad_column_and_its_share(dataset: dict[str, Any], django_assert_max_num_queries: Any
                                                       ) -> None:
    compile_translations()
    client = client_for(make_user(Role.ANALYST))
    client.get("/analytics/profit/?days=7")
    with django_assert_max_num_queries(12):
        page = client.get("/analytics/profit/?days=7").content.decode()
    assert "Реклама на карточки" in page and "Доля рекламы в прибыли, %" in page
    assert "85,10\u00a0₽" in page and ">17,2<" in page
    assert "409,15\u00a0₽" in page and "640,24\u00a0₽" in page and 'href="/analytics/ads/?days=7"' in page
    workbook = load_workbook(io.BytesIO(b"".join(client.get("/analytics/profit.xlsx?days=7").streaming_content)))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    assert D(str(rows[-1][header.index("Реклама на карточки")])) == D("35.00")
    assert D(str(rows[-1][header.index("Реклама")])) == D("70.00")  # the finance reports' advertising fee
    assert D(str(rows[-1][header.index("Прибыль")])) == D("640.24")


# ---------------------------------------------------------------------------------------------
# The ads page and its exports


def test_ads_page_lists_spend_ctr_cost_per_order_and_drr(dataset: dict[str, Any], django_assert_max_num_queries: Any
                                                         ) -> None:
    compile_translations()
    client = client_for(make_user(Role.ANALYST))
    client.get("/analytics/ads/?days=7")
    with django_assert_max_num_queries(15):
        response = client.get("/analytics/ads/?days=7")
    page = response.content.decode()
    report = response.context["report"]
    assert [(r.offer_id, r.figures.spend) for r in report.rows] == [
        ("SKU-1", D("85.10")), ("SKU-2", D("14.90")), ("", D("5.00"))]
    kettle = report.rows[0]
    assert (kettle.title, kettle.campaigns, kettle.figures.views, kettle.figures.clicks, kettle.figures.orders) == (
        "Чайник электрический", 2, 1500, 50, 1)
    assert (kettle.figures.ctr, kettle.figures.cost_per_order, kettle.figures.revenue, kettle.figures.drr) == (
        D("3.33"), D("85.10"), D("1000.00"), D("8.5"))
    assert report.rows[1].figures.drr == D("4.5")  # 14.90 of 333.33
    # Ozon in all: 105.00 of the account's 1,333.33 of orders.
    ozon = report.by_marketplace["ozon"]
    assert (ozon.spend, ozon.views, ozon.clicks, ozon.orders, ozon.revenue, ozon.drr, ozon.cost_per_order) == (
        D("105.00"), 2100, 61, 2, D("1333.33"), D("7.9"), D("52.50"))
    assert "Реклама" in page and "ДРР, %" in page and "85,10\u00a0₽" in page and "105,00\u00a0₽" in page
    assert "Карточка ещё не загружена" in page and "2 кампании" in page


def test_ads_page_pages_by_keyset(dataset: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ads_selectors, "PAGE_SIZE", 2)
    client = client_for(make_user(Role.MANAGER))
    first = client.get("/analytics/ads/?days=7").context["report"]
    assert [r.offer_id for r in first.rows] == ["SKU-1", "SKU-2"] and first.next_cursor
    second = client.get("/analytics/ads/", {"days": "7", "after": first.next_cursor}).context["report"]
    assert [(r.offer_id, r.item_ref) for r in second.rows] == [("", "9999")] and not second.next_cursor
    broken = client.get("/analytics/ads/?days=7&after=not-a-cursor")
    assert broken.status_code == 200 and len(broken.context["report"].rows) == 2


def test_ads_exports_every_row(dataset: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    compile_translations()
    monkeypatch.setattr(ads_selectors, "PAGE_SIZE", 1)  # the page shows one; the files hold all
    client = client_for(make_user(Role.ANALYST))
    text = b"".join(client.get("/analytics/ads.csv?days=7").streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0][:6] == ["Маркетплейс", "Аккаунт", "Артикул продавца", "Карточка", "Кампании", "Расход"]
    assert [line[2] for line in lines[1:]] == ["SKU-1", "SKU-2", "9999"]
    assert lines[1][5] == "85,10" and lines[1][-1] == "8,5"
    workbook = load_workbook(io.BytesIO(b"".join(client.get("/analytics/ads.xlsx?days=7").streaming_content)))
    table, summary = workbook.worksheets
    assert table.max_row == 4 and [c.value for c in summary[2]][:2] == ["Ozon", 105]
    assert client.get("/analytics/ads.pdf?days=7").status_code == 404


# ---------------------------------------------------------------------------------------------
# The Ozon account's Performance credentials


def test_performance_credentials_are_stored_encrypted_and_survive_a_new_key() -> None:
    secret = "perf-secret-0f9e8d7c6b5a"
    call_command("add_account", "ozon", "--name", "Ozon ads", "--client-id", "100500", "--api-key", "seller-key-1",
                 "--performance-client-id", "42-1@advertising.performance.ozon.ru",
                 "--performance-client-secret", secret, stdout=io.StringIO())
    account = MarketplaceAccount.objects.get(name="Ozon ads")
    assert secret not in account.credentials_encrypted
    assert "advertising.performance" not in account.credentials_encrypted
    assert account.get_credentials() == {"api_key": "seller-key-1",
                                         "performance_client_id": "42-1@advertising.performance.ozon.ru",
                                         "performance_client_secret": secret}
    call_command("add_account", "ozon", "--name", "Ozon ads", "--client-id", "100500", "--api-key", "seller-key-2",
                 stdout=io.StringIO())
    account.refresh_from_db()
    assert account.get_credentials()["api_key"] == "seller-key-2"
    assert account.get_credentials()["performance_client_secret"] == secret
    call_command("add_account", "ozon", "--name", "Ozon ads", "--client-id", "100500",
                 "--performance-client-secret", "perf-secret-new", stdout=io.StringIO())
    account.refresh_from_db()
    assert account.get_credentials()["performance_client_secret"] == "perf-secret-new"
    event = AuditEvent.objects.filter(action="account.updated").latest("created_at")
    assert event.details["credentials_changed"] == ["performance_client_secret"]
    assert "perf-secret-new" not in str(event.details) + str(event.old) + str(event.new)


def test_the_account_form_sets_the_performance_credentials() -> None:
    compile_translations()
    account = make_account("ozon", name="Ozon form")
    client = client_for(make_user(Role.ADMIN))
    response = client.post(f"/settings/accounts/{account.pk}/", {
        "name": "Ozon form", "client_id": "100500", "business_id": "", "base_url": "", "enabled": "on",
        "secret": "", "campaign_ids": "", "performance_client_id": "7-1@advertising.performance.ozon.ru",
        "performance_client_secret": "form-perf-secret",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    credentials = account.get_credentials()
    assert credentials["performance_client_secret"] == "form-perf-secret"
    assert credentials["api_key"] == "key-0000-abcd"
    page = client.get(f"/settings/accounts/{account.pk}/").content.decode()
    assert "form-perf-secret" not in page and "advertising.performance" not in page
    assert "Client ID и секрет сохранены" in page


def test_new_ad_statistics_make_the_profit_page_recompute(dataset: dict[str, Any]) -> None:
    """The profit page reads a snapshot (analytics.report_cache): a sync of the ad statistics after it was
    computed must show on the next view, as a roll-up change does."""
    compile_translations()
    client = client_for(make_user(Role.ANALYST))

    def kettle_ads() -> D:
        rows = client.get("/analytics/profit/?days=7").context["rows"]
        return next(g for g in rows if g.label == "Чайник").figures.ad_spend

    assert kettle_ads() == D("85.10")
    with transaction.atomic():
        ingest_ad_stats(dataset["account"].pk, [_ad(dataset["day"], "502", "1001", "40.00", 300, 10, 0, "0")])
    assert kettle_ads() == D("100.10")
