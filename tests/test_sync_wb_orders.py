"""Wildberries orders as WB reports them over their whole life, through the real adapter, the sync
engine and PostgreSQL against the sandbox (issue 9: points 1-4).

The sandbox world has six weeks of orders; some FBS tasks wait weeks on assembly, bought-out orders
reach the statistics sales report days after the order, and some come back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from analytics.models import FinanceOperation
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount
from integrations.registry import get_client
from integrations.sandbox import credentials as sandbox_credentials
from integrations.sandbox import wildberries as wb_sandbox
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.sync import engine
from integrations.wildberries.mapping import assembly_status
from orders.models import Order, OrderStatusChange, Return

pytestmark = pytest.mark.django_db

DAY_MINUTES = 24 * 60


@pytest.fixture
def world() -> SandboxWorld:
    # 1000 orders an hour apart: six weeks of history, so some tasks are older than WB's 14-day re-read.
    start = datetime.now(UTC).replace(microsecond=0)
    return SandboxWorld(SandboxConfig(seed=11, products=40, orders=1000, start=start))


@pytest.fixture
def wb_state(world: SandboxWorld) -> wb_sandbox.WBState:
    state: wb_sandbox.WBState = world.state("wildberries", wb_sandbox.build_state)
    return state


class Connection:
    """The account, its adapter over a recording in-process transport, and an adapter clock that
    follows the sandbox's."""

    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self.account = MarketplaceAccount(marketplace="wildberries", name="WB sandbox",
                                          base_url="http://sandbox.test/wildberries")
        self.account.set_credentials({"token": sandbox_credentials.WB_TOKEN})
        self.account.save()
        self.recorder = RecordingTransport(SandboxTransport(SandboxApp(world)))
        self.clock = FakeClock(world.now.timestamp())
        self.client = get_client(self.account, transport=self.recorder, clock=self.clock, limiter=LocalLimiter())

    def run(self, stream: str, *, full: bool = False) -> Any:
        self.clock.current = max(self.clock.current, self.world.now.timestamp())
        return engine.run_stream(self.account, stream, full=full, client=self.client, heartbeat=False)

    def advance(self, minutes: int) -> None:
        self.world.advance(minutes)

    def requests(self, path: str) -> list[Any]:
        return [request for request, _ in self.recorder.exchanges if request.url.path.endswith(path)]


@pytest.fixture
def wb(world: SandboxWorld) -> Connection:
    return Connection(world)


def sandbox_orders(world: SandboxWorld, state: wb_sandbox.WBState) -> list[dict[str, Any]]:
    return wb_sandbox._orders_created(world, state, state.base, world.now)


def wb_status_now(order: dict[str, Any], now: datetime) -> str:
    _, supplier, wb_status = wb_sandbox._status_at(order, now)
    return assembly_status(supplier, wb_status)


# ---- point 1: an FBS task is followed to its final status, whatever its age ----------------------


def test_an_fbs_task_completed_weeks_after_creation_reaches_its_final_status(
    wb: Connection, world: SandboxWorld, wb_state: wb_sandbox.WBState
) -> None:
    wb.run("orders")
    # Tasks older than WB's 14-day re-read that are still on assembly and end within the next 10 days.
    horizon = world.now + timedelta(days=10)
    late = [
        o for o in sandbox_orders(world, wb_state)
        if o["scheme"] == "FBS" and o["created"] < world.now - timedelta(days=15)
        and world.now < o["events"][-1][0] <= horizon
    ]
    assert len(late) >= 3, "the sandbox has FBS tasks that complete weeks after creation"
    task_ids = {str(o["id"]) for o in late}
    assert set(Order.objects.filter(external_id__in=task_ids).values_list("status", flat=True)) == {"processing"}
    status_requests_before = len(wb.requests("/api/v3/orders/status"))

    wb.advance(10 * DAY_MINUTES)
    wb.run("orders")

    for order in late:
        stored = Order.objects.get(account=wb.account, external_id=str(order["id"]))
        expected = wb_status_now(order, world.now)
        assert expected in {"delivered", "cancelled"}
        assert stored.status == expected, order["id"]
        assert OrderStatusChange.objects.filter(order=stored, to_status=expected).count() == 1
        # A status lookup carries no details: what the full read stored stays.
        assert stored.srid == order["rid"] and stored.total_amount > 0 and stored.lines.count() == 1
    # Fewest requests: the old open tasks were asked for in batches of up to 1000 ids, each once.
    old_lookups = [json.loads(r.content)["orders"] for r in wb.requests("/api/v3/orders/status")
                   [status_requests_before:]]
    asked = [task_id for body in old_lookups for task_id in body if str(task_id) in task_ids]
    assert sorted(map(str, asked)) == sorted(task_ids)
    assert all(len(body) <= 1000 for body in old_lookups)

    # Once final, an order is no longer looked up.
    before = len(wb.requests("/api/v3/orders/status"))
    wb.run("orders")
    later = [json.loads(r.content)["orders"] for r in wb.requests("/api/v3/orders/status")[before:]]
    assert not {str(t) for body in later for t in body} & task_ids


# ---- point 2: the sales report moves orders to delivered / returned ------------------------------


def test_the_sales_report_delivers_fbw_orders_and_returns_link_to_their_orders_by_srid(
    wb: Connection, world: SandboxWorld, wb_state: wb_sandbox.WBState
) -> None:
    wb.run("orders")
    fbw = Order.objects.filter(account=wb.account, scheme="FBO")
    assert fbw.exists() and not fbw.filter(status="delivered").exists(), "statistics orders never say delivered"

    run = wb.run("sales")

    by_srid = {o["rid"]: o for o in sandbox_orders(world, wb_state)}
    sold = {srid for srid, o in by_srid.items() if wb_sandbox._sale_rows(world, o)}
    returned = {srid for srid, o in by_srid.items() if len(wb_sandbox._sale_rows(world, o)) == 2}
    assert sold and returned and run.updated > 0
    for order in Order.objects.filter(account=wb.account):
        if order.srid in returned:
            assert order.status == "returned", order.external_id
        elif order.srid in sold:
            assert order.status == "delivered", order.external_id
    assert fbw.filter(status="delivered").exists()
    # Each return is a Return row linked to its order by srid, FBS tasks (keyed by task id) included.
    returns = Return.objects.filter(account=wb.account, external_id__startswith="R")
    assert {r.order_external_id for r in returns} == returned & set(
        Order.objects.filter(account=wb.account).values_list("srid", flat=True))
    assert not returns.filter(order__isnull=True).exists()
    fbs_returns = returns.filter(order__scheme="FBS").select_related("order")
    assert fbs_returns and all(r.order.external_id != r.order_external_id == r.order.srid for r in fbs_returns)
    returned_order = returns.first().order
    change = returned_order.status_changes.order_by("-id").first()
    assert (change.to_status, change.raw_status) == ("returned", returns.get(order=returned_order).external_id)
    assert all(r.amount and r.amount > 0 for r in returns)

    # Incremental and idempotent: the same report read again changes nothing.
    again = wb.run("sales", full=True)
    assert (again.created, again.updated) == (0, 0)


def test_sales_that_come_days_after_the_order_are_read_incrementally(
    wb: Connection, world: SandboxWorld
) -> None:
    wb.run("orders")
    wb.run("sales")
    delivered_before = Order.objects.filter(account=wb.account, status="delivered").count()
    requests_before = len(wb.requests("/api/v1/supplier/sales"))

    wb.advance(4 * DAY_MINUTES)
    wb.run("orders")
    run = wb.run("sales")

    assert Order.objects.filter(account=wb.account, status="delivered").count() > delivered_before
    assert run.updated > 0
    # One request: the answer is shorter than WB's 80,000-row cap, so it is the end (1 request a minute).
    assert len(wb.requests("/api/v1/supplier/sales")) == requests_before + 1
    date_from = wb.requests("/api/v1/supplier/sales")[-1].url.params["dateFrom"]
    assert "+" not in date_from and "Z" not in date_from  # Moscow wall time, as the spec asks


# ---- point 3: returns and finance rows link to orders by srid, every scheme ---------------------


def test_claims_and_finance_rows_link_to_fbs_and_fbw_orders_by_srid_whichever_stream_ran_first(
    wb: Connection, world: SandboxWorld
) -> None:
    # Finance and claims first: their orders are not stored yet.
    wb.run("finance")
    wb.run("returns")
    operations = FinanceOperation.objects.filter(account=wb.account).exclude(order_external_id="")
    assert operations.exists() and not operations.filter(order__isnull=False).exists()

    wb.run("orders")

    assert not operations.filter(order__isnull=True).exists()
    assert {op.order.scheme for op in operations.select_related("order")} >= {"FBS", "FBO"}
    for op in operations.select_related("order")[:50]:
        assert op.order.srid == op.order_external_id
    claims = Return.objects.filter(account=wb.account).exclude(order_external_id="")
    assert claims.exists() and not claims.filter(order__isnull=True).exists()
    assert claims.filter(order__scheme="FBS").exists()

    # And the other way round: rows read after their orders link at once.
    FinanceOperation.objects.filter(account=wb.account).delete()
    wb.run("finance", full=True)
    assert not operations.filter(order__isnull=True).exists()


# ---- point 4: two totals with one meaning on every scheme ----------------------------------------


def test_order_totals_mean_the_same_on_every_scheme(
    wb: Connection, world: SandboxWorld, wb_state: wb_sandbox.WBState
) -> None:
    wb.run("orders")
    # Tasks still new now: their seller price comes from /api/v3/orders/new only.
    new_fbs = [o for o in sandbox_orders(world, wb_state)
               if o["scheme"] == "FBS" and wb_sandbox._status_at(o, world.now)[1:] == ("new", "waiting")]
    assert new_fbs and wb.requests("/api/v3/orders/new")

    by_srid = {o["rid"]: o for o in sandbox_orders(world, wb_state)}
    stored = list(Order.objects.filter(account=wb.account).prefetch_related("lines"))
    assert {o.scheme for o in stored} == {"FBS", "DBS", "FBO"}
    for order in stored:
        source = by_srid[order.srid]
        # What the buyer paid: FBS/DBS price (after WB's discount), FBW finishedPrice.
        assert order.buyer_total == source["finished"], order.external_id
        line = order.lines.get()
        assert line.buyer_price == source["finished"]
        if order.scheme == "FBO" or order.external_id in {str(o["id"]) for o in new_fbs}:
            # The seller's price after the seller's discount: FBW priceWithDisc, FBS salePrice.
            assert order.seller_total == source["paid"] and line.seller_price == source["paid"]
    assert any(o.seller_total and o.buyer_total and o.seller_total > o.buyer_total for o in stored)

    # A task that leaves "new" is no longer listed there; its seller price stays.
    if new_fbs:
        wb.advance(2 * DAY_MINUTES)
        wb.run("orders")
        for source in new_fbs:
            order = Order.objects.get(account=wb.account, external_id=str(source["id"]))
            assert wb_sandbox._status_at(source, world.now)[1:] != ("new", "waiting")
            assert order.seller_total == source["paid"]
            assert order.buyer_total == source["finished"]
    assert Decimal(0) not in {o.buyer_total for o in Order.objects.filter(account=wb.account)}


def test_a_sale_and_its_return_in_one_page_are_both_in_the_history_and_a_late_sale_undoes_nothing(
    wb: Connection,
) -> None:
    from integrations.base import OrderDTO, SaleDTO
    from orders.ingest import ingest_orders, ingest_sales

    at = datetime(2026, 10, 1, 12, tzinfo=UTC)
    ingest_orders(wb.account.pk, [OrderDTO(
        external_id="4000000001", scheme="FBS", status="in_delivery", raw_status="sorted", ordered_at=at, lines=(),
        currency="RUB", total_amount=Decimal("100"), srid="srid-1")])
    sale = SaleDTO("S1", "srid-1", False, at + timedelta(days=3), updated_at=at + timedelta(days=3))
    back = SaleDTO("R1", "srid-1", True, at + timedelta(days=5), buyer_price=Decimal("90"),
                   updated_at=at + timedelta(days=5))

    result = ingest_sales(wb.account.pk, [back, sale])  # WB pages by change time; a page may hold both

    order = Order.objects.get(account=wb.account, external_id="4000000001")
    assert order.status == "returned" and result.status_changes == 2
    assert list(order.status_changes.values_list("from_status", "to_status", "raw_status")) == [
        ("", "in_delivery", "sorted"), ("in_delivery", "delivered", "S1"), ("delivered", "returned", "R1")]
    assert Return.objects.get(external_id="R1").order == order
    # The sale row read again (an overlap) does not move a returned order back.
    assert ingest_sales(wb.account.pk, [sale]).orders.updated == 0
    assert Order.objects.get(pk=order.pk).status == "returned"
