"""The daily sales roll-up: kept by the order and return ingests, equal to a rebuild from the source
rows, and what the sales page, its CSV and the overview read."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import rollup
from analytics.models import SalesDaily, SalesDayTotal
from catalog.models import Listing
from core.roles import Role
from dashboard.selectors import OVERVIEW_COUNTS_KEY
from integrations.base import OrderDTO, OrderLineDTO, ReturnDTO
from integrations.sync import engine
from orders.ingest import ingest_orders, ingest_returns, link_waiting_to_listings
from orders.models import OrderStatus, Scheme
from tests.foundation_support import client_for, compile_translations, make_account, make_listing, make_user
from tests.test_sync_sandbox import connect, world  # noqa: F401 - the sandbox fixtures
from tests.test_sync_sandbox import make_account as sandbox_account

pytestmark = pytest.mark.django_db

# 23:30 UTC on 9 March is 02:30 on 10 March in Moscow.
T0 = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
D10, D11 = date(2026, 3, 10), date(2026, 3, 11)


def order(
    external_id: str, *lines: tuple[str, int, str], status: str = OrderStatus.NEW, at: datetime = T0,
    updated: datetime | None = None,
) -> OrderDTO:
    return OrderDTO(
        external_id=external_id, scheme=Scheme.FBS, status=status, raw_status=status, ordered_at=at,
        lines=tuple(
            OrderLineDTO(line_key=str(i), offer_id=offer, quantity=qty, price=Decimal(price), currency="RUB")
            for i, (offer, qty, price) in enumerate(lines)
        ),
        currency="RUB", total_amount=sum((Decimal(p) * q for _, q, p in lines), Decimal(0)), updated_at=updated,
    )


def returned(external_id: str, offer: str, qty: int = 1, amount: str = "100.00", *, kind: str = "return",
             at: datetime = T0 + timedelta(days=1)) -> ReturnDTO:
    return ReturnDTO(external_id=external_id, kind=kind, returned_at=at, offer_id=offer, quantity=qty,
                     amount=Decimal(amount))


def sync_orders(account_id: int, *orders: OrderDTO) -> None:
    with transaction.atomic():
        ingest_orders(account_id, orders)


def sync_returns(account_id: int, *returns: ReturnDTO) -> None:
    with transaction.atomic():
        ingest_returns(account_id, returns)


def articles(account_id: int) -> dict[tuple[date, str], tuple[Any, ...]]:
    rows = SalesDaily.objects.filter(account_id=account_id)
    return {
        (r.day, r.offer_id): (r.orders, r.cancelled, r.units, r.revenue, r.returns, r.return_units, r.return_amount)
        for r in rows
    }


def days(account_id: int) -> dict[date, tuple[Any, ...]]:
    rows = SalesDayTotal.objects.filter(account_id=account_id)
    return {
        r.day: (r.orders, r.cancelled, r.units, r.revenue, r.returns, r.return_units, r.return_amount) for r in rows
    }


def snapshot(account_id: int) -> tuple[Any, ...]:
    listing_of = dict(SalesDaily.objects.filter(account_id=account_id).values_list("offer_id", "listing_id"))
    return articles(account_id), days(account_id), listing_of


def dec(value: str) -> Decimal:
    return Decimal(value)


def test_orders_fill_the_day_of_moscow_time_by_article_and_account() -> None:
    account = make_account("ozon")
    sync_orders(
        account.pk, order("A", ("SKU-1", 2, "100.00"), ("SKU-2", 1, "50.50")), order("B", ("SKU-1", 1, "100.00"))
    )
    assert articles(account.pk) == {
        (D10, "SKU-1"): (2, 0, 3, dec("300.00"), 0, 0, dec("0")),
        (D10, "SKU-2"): (1, 0, 1, dec("50.50"), 0, 0, dec("0")),
    }
    # Each order counted once a day, however many articles it holds.
    assert days(account.pk) == {D10: (2, 0, 4, dec("350.50"), 0, 0, dec("0"))}


def test_an_order_read_again_does_not_count_twice() -> None:
    account = make_account("ozon")
    a = order("A", ("SKU-1", 2, "100.00"))
    sync_orders(account.pk, a)
    before = snapshot(account.pk)
    sync_orders(account.pk, a)
    sync_orders(account.pk, a, a)  # twice in one page too
    assert snapshot(account.pk) == before
    # A change that is not a status (a line's price) moves the revenue by the difference only.
    sync_orders(account.pk, order("A", ("SKU-1", 2, "90.00"), status=OrderStatus.PROCESSING))
    assert days(account.pk) == {D10: (1, 0, 2, dec("180.00"), 0, 0, dec("0"))}


@pytest.mark.parametrize("status", [OrderStatus.CANCELLED, OrderStatus.RETURNED])
def test_a_cancelled_or_not_bought_order_leaves_the_sales(status: str) -> None:
    account = make_account("wildberries")
    sync_orders(account.pk, order("A", ("SKU-1", 1, "100.00")), order("B", ("SKU-1", 1, "70.00")))
    moved = OrderStatus.IN_DELIVERY if status == OrderStatus.RETURNED else OrderStatus.NEW
    sync_orders(account.pk, order("A", ("SKU-1", 1, "100.00"), status=moved))
    sync_orders(account.pk, order("A", ("SKU-1", 1, "100.00"), status=status))
    assert articles(account.pk) == {(D10, "SKU-1"): (1, 1, 1, dec("70.00"), 0, 0, dec("0"))}
    assert days(account.pk) == {D10: (1, 1, 1, dec("70.00"), 0, 0, dec("0"))}
    # A stale re-read of the earlier status is refused by the status machine: nothing moves back.
    sync_orders(account.pk, order("A", ("SKU-1", 1, "100.00")))
    assert days(account.pk) == {D10: (1, 1, 1, dec("70.00"), 0, 0, dec("0"))}


def test_an_order_moved_to_another_day_moves_and_leaves_no_empty_row() -> None:
    account = make_account("ozon")
    sync_orders(account.pk, order("A", ("SKU-1", 1, "100.00")))
    sync_orders(account.pk, order("A", ("SKU-1", 1, "100.00"), at=T0 + timedelta(days=1)))
    assert articles(account.pk) == {(D11, "SKU-1"): (1, 0, 1, dec("100.00"), 0, 0, dec("0"))}
    assert set(days(account.pk)) == {D11}


def test_lines_synced_before_their_listing_get_it_when_it_arrives() -> None:
    account = make_account("ozon")
    sync_orders(account.pk, order("A", ("LATE-1", 1, "100.00")))
    row = SalesDaily.objects.get(account=account, offer_id="LATE-1")
    assert row.listing_id is None and row.orders == 1  # counted from the start, under its article
    listing = Listing.objects.create(account=account, external_id="ext-late", offer_id="LATE-1", title="Late")
    with transaction.atomic():
        link_waiting_to_listings(account.pk, ["LATE-1"])
    row.refresh_from_db()
    assert row.listing_id == listing.pk and row.orders == 1
    # Later orders of the article are linked as they are stored.
    sync_orders(account.pk, order("B", ("LATE-1", 1, "100.00")))
    row.refresh_from_db()
    assert (row.listing_id, row.orders) == (listing.pk, 2)


def test_returns_count_on_their_day_once_and_move_when_changed() -> None:
    account = make_account("ozon")
    sync_orders(account.pk, order("A", ("SKU-1", 2, "100.00")))
    sync_returns(account.pk, returned("R1", "SKU-1", 1, "100.00"), returned("C1", "SKU-1", kind="cancellation"))
    sync_returns(account.pk, returned("R1", "SKU-1", 1, "100.00"))  # read again
    assert articles(account.pk)[(D11, "SKU-1")] == (0, 0, 0, dec("0"), 1, 1, dec("100.00"))
    assert days(account.pk)[D11] == (0, 0, 0, dec("0"), 1, 1, dec("100.00"))
    sync_returns(account.pk, returned("R1", "SKU-1", 2, "200.00"))
    assert days(account.pk)[D11] == (0, 0, 0, dec("0"), 1, 2, dec("200.00"))
    assert days(account.pk)[D10] == (1, 0, 2, dec("200.00"), 0, 0, dec("0"))  # the sale stays on its day


def test_rebuild_command_gives_the_incremental_table() -> None:
    ozon, wb = make_account("ozon"), make_account("wildberries")
    make_listing(ozon)
    next_day = T0 + timedelta(days=1)
    sync_orders(ozon.pk, order("A", ("SKU-1", 2, "100.00")), order("B", ("SKU-2", 1, "10.00"), at=next_day))
    sync_orders(ozon.pk, order("B", ("SKU-2", 1, "10.00"), at=T0 + timedelta(days=1), status=OrderStatus.CANCELLED))
    sync_returns(ozon.pk, returned("R1", "SKU-1"))
    sync_orders(wb.pk, order("W", ("SKU-9", 1, "5.00")))
    incremental = snapshot(ozon.pk), snapshot(wb.pk)
    SalesDaily.objects.all().update(orders=99)  # spoil the table: the command recomputes it
    SalesDayTotal.objects.filter(account=wb).delete()
    out = io.StringIO()
    call_command("rebuild_sales_rollup", stdout=out)
    assert (snapshot(ozon.pk), snapshot(wb.pk)) == incremental
    assert f"account {ozon.pk}: 3 article-days, 2 days" in out.getvalue()
    # --since and --account rebuild only those days of that account.
    SalesDaily.objects.filter(account=ozon).update(orders=99)
    call_command("rebuild_sales_rollup", "--account", str(ozon.pk), "--since", "2026-03-11", stdout=out)
    assert articles(ozon.pk)[(D10, "SKU-1")][0] == 99
    assert articles(ozon.pk)[(D11, "SKU-1")] == incremental[0][0][(D11, "SKU-1")]


# Property: whatever sequence of pages the syncs bring (new orders, re-reads, status changes, lines
# changed, orders moved across midnight, returns, listings arriving late), the incremental table
# equals the one rebuilt from the stored rows.
_OFFERS = st.sampled_from(["P-1", "P-2", "P-3"])
_LINE = st.tuples(_OFFERS, st.integers(1, 3), st.sampled_from(["10.00", "99.90", "250.00"]))
_ORDER = st.builds(
    lambda n, lines, status, hours: order(
        f"O{n}", *lines, status=status, at=T0 + timedelta(hours=hours)
    ),
    st.integers(1, 6), st.lists(_LINE, min_size=0, max_size=3),
    st.sampled_from([OrderStatus.NEW, OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.RETURNED,
                     OrderStatus.IN_DELIVERY]),
    st.sampled_from([0, 1, 30]),
)
_RETURN = st.builds(
    lambda n, offer, qty, kind, hours: returned(
        f"R{n}", offer, qty, "50.00", kind=kind, at=T0 + timedelta(hours=hours)
    ),
    st.integers(1, 4), _OFFERS, st.integers(1, 2), st.sampled_from(["return", "unredeemed", "cancellation"]),
    st.sampled_from([0, 26]),
)
_STEP = st.one_of(
    st.tuples(st.just("orders"), st.lists(_ORDER, min_size=1, max_size=4)),
    st.tuples(st.just("returns"), st.lists(_RETURN, min_size=1, max_size=3)),
    st.tuples(st.just("listing"), _OFFERS),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_STEP, min_size=1, max_size=8))
def test_incremental_roll_up_equals_the_rebuild(steps: list[tuple[str, Any]]) -> None:
    with transaction.atomic():
        account = make_account("yandex_market")
        for kind, payload in steps:
            if kind == "orders":
                sync_orders(account.pk, *payload)
            elif kind == "returns":
                sync_returns(account.pk, *payload)
            elif not Listing.objects.filter(account=account, offer_id=payload).exists():
                Listing.objects.create(account=account, external_id=f"x-{payload}", offer_id=payload, title=payload)
                with transaction.atomic():
                    link_waiting_to_listings(account.pk, [payload])
        incremental = snapshot(account.pk)
        rollup.rebuild(account.pk)
        assert snapshot(account.pk) == incremental
        transaction.set_rollback(True)


# The pages read the roll-up.
@pytest.fixture
def _russian() -> None:
    compile_translations()


def test_sales_page_and_csv_read_the_roll_up(_russian: None) -> None:
    account = make_account("ozon")
    today = timezone.localdate()
    # Only roll-up rows, no orders at all: what the page shows can only come from the roll-up.
    SalesDayTotal.objects.create(account=account, day=today, orders=7, units=9, revenue=Decimal("4321.50"),
                                 returns=2, return_units=2, return_amount=Decimal("300.00"))
    SalesDayTotal.objects.create(account=account, day=today - timedelta(days=20), orders=1, revenue=Decimal("1"))
    client = client_for(make_user(Role.ANALYST))
    page = client.get("/analytics/?days=7").content.decode()
    assert "4321,50" in page and "Возвраты" in page
    rows = list(csv.reader(io.StringIO(client.get("/analytics/sales.csv?days=7").content.decode())))
    assert rows[1:] == [[today.isoformat(), "ozon", "7", "4321.50", "RUB", "9", "2", "300.00"]]
    rows = list(csv.reader(io.StringIO(client.get("/analytics/sales.csv?days=30").content.decode())))
    assert len(rows) == 3


def test_overview_orders_today_come_from_the_roll_up() -> None:
    cache.delete(OVERVIEW_COUNTS_KEY)
    account = make_account("ozon")
    sync_orders(account.pk, order("A", ("SKU-1", 1, "10.00"), at=timezone.now()),
                order("B", ("SKU-1", 1, "10.00"), at=timezone.now(), status=OrderStatus.CANCELLED))
    SalesDayTotal.objects.filter(account=account).update(orders=40)  # the page shows the roll-up's figure
    page = client_for(make_user(Role.ANALYST)).get("/").content.decode()
    assert "<dd><a href=\"/orders/?marketplace=ozon\">41</a></dd>" in page  # placed today: sales + cancelled


def _queries(path: str) -> list[str]:
    client = client_for(make_user(Role.ADMIN))
    client.get(path)  # warm up (session, role; the overview's minute cache)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("path", ["/", "/analytics/?days=90", "/analytics/sales.csv?days=90"])
def test_overview_and_analytics_never_read_orders_or_listings(path: str) -> None:
    cache.delete(OVERVIEW_COUNTS_KEY)
    accounts = [make_account(m) for m in ("ozon", "wildberries", "yandex_market")]
    for i, account in enumerate(accounts):
        make_listing(account)
        sync_orders(account.pk, *(order(f"A{i}-{n}", ("SKU-1", 1, "10.00"), at=timezone.now() - timedelta(days=n))
                                  for n in range(5)))
    few = _queries(path)
    for i, account in enumerate(accounts):
        make_listing(account)
        sync_orders(account.pk, *(order(f"B{i}-{n}", ("SKU-2", 2, "10.00"), at=timezone.now() - timedelta(days=n))
                                  for n in range(40)))
    many = _queries(path)
    assert len(few) == len(many) <= 8
    scans = [q for q in many if any(t in q for t in ("orders_order", "catalog_listing", "reviews_review"))]
    assert scans == []


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_real_syncs_keep_the_roll_up_equal_to_the_rebuild(marketplace: str, connect: Any, world: Any) -> None:  # noqa: F811
    """Through the adapters and the engine: orders before their listings, returns, then the sandbox's
    clock moves (new orders, status changes, cancellations) and the change streams run again."""
    account = sandbox_account(marketplace)
    client = connect(account)
    for stream in ("orders", "returns", "listings"):
        engine.run_stream(account, stream, client=client, heartbeat=False)
    assert SalesDaily.objects.filter(account=account, listing__isnull=False).exists()
    world.advance(180)
    for stream in ("orders", "returns"):
        engine.run_stream(account, stream, client=client, heartbeat=False)
    incremental = snapshot(account.pk)
    assert incremental[1], "the sandbox's orders made sales"
    rollup.rebuild(account.pk)
    assert snapshot(account.pk) == incremental
