"""FBS/DBS order actions (integrations.base.FulfilmentClient) against the in-process sandbox: each
action changes what the marketplace reports afterwards, a refused one carries the marketplace's
message, and every exchange is checked against the official spec (as tests/test_contracts.py does
for MarketplaceClient)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pypdf
import pytest

from integrations.base import (
    CancelReason,
    FulfilmentClient,
    FulfilmentRequest,
    NotAvailableError,
    OrderDTO,
    PermanentError,
    ShipmentLine,
    WriteStatus,
)
from integrations.limiter import FakeClock, LocalLimiter
from integrations.registry import fulfilment_class
from integrations.sandbox.app import SandboxTransport
from integrations.sandbox.contract import ContractChecker, RecordingTransport, check_all
from integrations.sandbox.world import SandboxWorld
from integrations.yandex_market import fbs as ym_fbs
from tests.test_contracts import sandbox_config

PROTOCOL_METHODS = {
    name for name, value in vars(FulfilmentClient).items() if callable(value) and not name.startswith("_")
}


@pytest.fixture
def recording(sandbox_transport: SandboxTransport) -> RecordingTransport:
    return RecordingTransport(sandbox_transport)


def make_client(marketplace: str, transport: Any) -> Any:
    return fulfilment_class(marketplace)(sandbox_config(marketplace), transport=transport, clock=FakeClock(),
                                         limiter=LocalLimiter())


@pytest.fixture
def ozon(recording: RecordingTransport) -> Iterator[Any]:
    client = make_client("ozon", recording)
    yield client
    client.close()


@pytest.fixture
def wb(recording: RecordingTransport) -> Iterator[Any]:
    client = make_client("wildberries", recording)
    yield client
    client.close()


@pytest.fixture
def ym(recording: RecordingTransport) -> Iterator[Any]:
    client = make_client("yandex_market", recording)
    yield client
    client.close()


def read_orders(client: Any, world: SandboxWorld, since: Any = None) -> dict[str, OrderDTO]:
    start = since or world.config.start - timedelta(days=90)
    return {o.external_id: o for page in client.iter_orders(start) for o in page.items}


def request_for(order: OrderDTO, **extra: Any) -> FulfilmentRequest:
    lines = tuple(ShipmentLine(line.line_key, line.quantity) for line in order.lines)
    return FulfilmentRequest(f"key-{order.external_id}", order.external_id, order.scheme, lines, **extra)


def assert_spec_followed(marketplace: str, recording: RecordingTransport) -> None:
    checker = ContractChecker.for_marketplace(marketplace)
    violations = check_all(checker, recording.exchanges)
    assert not violations, "\n".join(violations)


def pdf_pages(content: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(content)).pages)


# ---- Ozon ---------------------------------------------------------------------------------------


def test_ozon_ship_in_two_packages_then_label_and_the_posting_awaits_delivery(
    ozon: Any, sandbox_world: SandboxWorld, recording: RecordingTransport
) -> None:
    orders = read_orders(ozon, sandbox_world)
    posting = next(o for o in orders.values() if o.raw_status == "awaiting_packaging" and o.scheme == "FBS")
    lines = [ShipmentLine(line.line_key, line.quantity) for line in posting.lines]
    # Each unit of the first line in a box of its own, the rest in another: two packages at least.
    first = lines[0]
    packages = ((ShipmentLine(first.line_key, first.quantity),), tuple(lines[1:])) if len(lines) > 1 else (
        (first,),)

    refused = ozon.labels([request_for(posting)])[0]
    assert refused.status == WriteStatus.REJECTED and "aren't ready" in refused.message

    [shipped] = ozon.assemble([request_for(posting, packages=packages)])
    assert (shipped.status, shipped.order_status, shipped.raw_status) == (
        WriteStatus.APPLIED, "ready_to_ship", "awaiting_deliver")
    again = ozon.assemble([request_for(posting)])[0]
    assert again.status == WriteStatus.REJECTED and "POSTING_ALREADY_SHIPPED" in again.message

    label = ozon.labels([request_for(posting)])[0]
    assert label.status == WriteStatus.APPLIED and label.content_type == "application/pdf"
    assert pdf_pages(label.content) == len(packages)
    assert read_orders(ozon, sandbox_world)[posting.external_id].raw_status == "awaiting_deliver"
    assert_spec_followed("ozon", recording)


def test_ozon_refuses_a_package_that_misses_products(ozon: Any, sandbox_world: SandboxWorld) -> None:
    posting = next(o for o in read_orders(ozon, sandbox_world).values() if o.raw_status == "awaiting_packaging")
    short = ShipmentLine(posting.lines[0].line_key, posting.lines[0].quantity + 1)
    [result] = ozon.assemble([request_for(posting, packages=((short,),))])
    assert result.status == WriteStatus.REJECTED and "INCORRECT_PRODUCTS" in result.message
    assert read_orders(ozon, sandbox_world)[posting.external_id].raw_status == "awaiting_packaging"


def test_ozon_cancel_with_a_reason(ozon: Any, sandbox_world: SandboxWorld, recording: RecordingTransport) -> None:
    orders = read_orders(ozon, sandbox_world)
    open_postings = [o for o in orders.values() if o.raw_status == "awaiting_packaging"]
    delivered = next(o for o in orders.values() if o.raw_status == "delivered")
    results = ozon.cancel([
        request_for(open_postings[0], reason=CancelReason.OUT_OF_STOCK),
        request_for(open_postings[1], reason=CancelReason.OTHER),  # "other" needs words
        request_for(delivered, reason=CancelReason.DEFECT),
    ])
    assert [r.status for r in results] == [WriteStatus.APPLIED, WriteStatus.REJECTED, WriteStatus.REJECTED]
    assert "CANCEL_REASON_MESSAGE_REQUIRED" in results[1].message
    assert "POSTING_CANNOT_BE_CANCELLED" in results[2].message
    assert read_orders(ozon, sandbox_world)[open_postings[0].external_id].status == "cancelled"
    assert_spec_followed("ozon", recording)


# ---- Wildberries --------------------------------------------------------------------------------


def wb_tasks(wb: Any, world: SandboxWorld, supplier_status: str) -> list[OrderDTO]:
    return [o for o in read_orders(wb, world, world.now - timedelta(days=20)).values()
            if o.scheme == "FBS" and o.raw_substatus == supplier_status and o.raw_status == "waiting"]


def test_wb_supply_takes_tasks_gives_stickers_and_is_delivered(
    wb: Any, sandbox_world: SandboxWorld, recording: RecordingTransport
) -> None:
    fresh = wb_tasks(wb, sandbox_world, "confirm")
    assert len(fresh) >= 2, "the sandbox has FBS tasks on assembly at the start"
    handed = next(o for o in read_orders(wb, sandbox_world).values()
                  if o.scheme == "FBS" and o.raw_substatus == "complete")
    cancelled = next(o for o in read_orders(wb, sandbox_world).values()
                     if o.scheme == "FBS" and o.raw_substatus == "cancel")

    no_sticker = wb.labels([request_for(cancelled)])[0]
    assert no_sticker.status == WriteStatus.REJECTED and "confirm" in no_sticker.message

    supply = wb.create_supply("Поставка на завтра")
    results = wb.assemble([request_for(fresh[0], supply_id=supply), request_for(fresh[1], supply_id=supply),
                           request_for(handed, supply_id=supply)])
    assert [r.status for r in results] == [WriteStatus.APPLIED, WriteStatus.APPLIED, WriteStatus.REJECTED]
    assert "FailedToAddSupplyOrder" not in results[0].message and "Не удалось закрепить" in results[2].message
    assert results[0].order_status == "processing" and results[0].remote_ref == supply

    stickers = wb.labels([request_for(fresh[0]), request_for(fresh[1])])
    assert all(s.status == WriteStatus.APPLIED and s.content.startswith(b"\x89PNG") for s in stickers)

    delivered = wb.deliver_supply(supply)
    assert {r.key for r in delivered} == {fresh[0].external_id, fresh[1].external_id}
    assert {r.order_status for r in delivered} == {"in_delivery"}
    now = read_orders(wb, sandbox_world, sandbox_world.now - timedelta(days=20))
    assert now[fresh[0].external_id].raw_substatus == "complete"
    with pytest.raises(PermanentError, match="Поставка уже передана"):
        wb.deliver_supply(supply)
    assert_spec_followed("wildberries", recording)


def test_wb_assemble_without_a_supply_creates_one(wb: Any, sandbox_world: SandboxWorld) -> None:
    task = wb_tasks(wb, sandbox_world, "confirm")[0]
    [result] = wb.assemble([request_for(task)])
    assert result.status == WriteStatus.APPLIED and result.remote_ref.startswith("WB-GI-")


def test_wb_cancel_while_with_the_seller_only(
    wb: Any, sandbox_world: SandboxWorld, recording: RecordingTransport
) -> None:
    task = wb_tasks(wb, sandbox_world, "confirm")[0]
    handed = next(o for o in read_orders(wb, sandbox_world).values()
                  if o.scheme == "FBS" and o.raw_substatus == "complete")
    results = wb.cancel([request_for(task), request_for(handed)])
    assert [r.status for r in results] == [WriteStatus.APPLIED, WriteStatus.REJECTED]
    assert "Несоответствие статусов" in results[1].message
    after = read_orders(wb, sandbox_world, sandbox_world.now - timedelta(days=20))[task.external_id]
    assert after.status == "cancelled"
    assert wb.hand_over([request_for(task)])[0].status == WriteStatus.REJECTED
    assert_spec_followed("wildberries", recording)


# ---- Yandex Market ------------------------------------------------------------------------------


def ym_order(ym: Any, world: SandboxWorld, scheme: str, raw: str, substatus: str) -> OrderDTO:
    return next(o for o in read_orders(ym, world, world.now - timedelta(days=29)).values()
                if o.scheme == scheme and o.raw_status == raw and o.raw_substatus == substatus)


def test_ym_boxes_ready_to_ship_and_labels(ym: Any, sandbox_world: SandboxWorld, recording: RecordingTransport) -> None:
    order = ym_order(ym, sandbox_world, "FBS", "PROCESSING", "STARTED")
    units = [ShipmentLine(line.line_key, 1) for line in order.lines for _ in range(line.quantity)]
    packages = tuple((unit,) for unit in units)  # a box per unit

    [ready] = ym.assemble([request_for(order, packages=packages)])
    assert (ready.status, ready.order_status) == (WriteStatus.APPLIED, "ready_to_ship")
    [label] = ym.labels([request_for(order)])
    assert label.status == WriteStatus.APPLIED and pdf_pages(label.content) == len(units)
    [twice] = ym.assemble([request_for(order)])
    assert twice.status == WriteStatus.REJECTED and "cannot be" in twice.message

    [fbs_hand_over] = ym.hand_over([request_for(order)])
    assert fbs_hand_over.status == WriteStatus.REJECTED and fbs_hand_over.message == str(ym_fbs.FBS_HAND_OVER)
    assert read_orders(ym, sandbox_world, sandbox_world.now - timedelta(days=29))[order.external_id].status == (
        "ready_to_ship")
    assert_spec_followed("yandex_market", recording)


def test_ym_dbs_hand_over_and_cancel_with_refusals(
    ym: Any, sandbox_world: SandboxWorld, recording: RecordingTransport
) -> None:
    dbs = ym_order(ym, sandbox_world, "DBS", "PROCESSING", "STARTED")
    fbs = ym_order(ym, sandbox_world, "FBS", "PROCESSING", "STARTED")
    delivered = ym_order(ym, sandbox_world, "DBS", "DELIVERED", "DELIVERED_USER_RECEIVED")
    assert ym.assemble([request_for(dbs)])[0].status == WriteStatus.APPLIED
    [handed] = ym.hand_over([request_for(dbs)])
    assert (handed.status, handed.order_status) == (WriteStatus.APPLIED, "in_delivery")

    results = ym.cancel([request_for(fbs), request_for(delivered)])
    assert [r.status for r in results] == [WriteStatus.APPLIED, WriteStatus.REJECTED]
    assert "cannot be changed" in results[1].message
    [no_label] = ym.labels([request_for(delivered)])
    assert no_label.status == WriteStatus.REJECTED and "STATUS_NOT_ALLOWED" in no_label.message
    assert_spec_followed("yandex_market", recording)


# ---- every method, every marketplace ------------------------------------------------------------


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_every_fulfilment_method_is_exercised_and_follows_the_spec(
    marketplace: str, sandbox_world: SandboxWorld, recording: RecordingTransport
) -> None:
    client = make_client(marketplace, recording)
    called: set[str] = set()
    orders = list(read_orders(client, sandbox_world, sandbox_world.now - timedelta(days=20)).values())
    requests = [request_for(o, reason=CancelReason.OUT_OF_STOCK) for o in orders if o.status in ("new", "processing")]
    assert requests
    unsupported = client.unsupported()
    called.add("unsupported")
    called.update({"create_supply", "deliver_supply"})
    if "create_supply" in unsupported:
        with pytest.raises(PermanentError):
            client.create_supply("x")
        with pytest.raises(PermanentError):
            client.deliver_supply("x")
    else:
        supply = client.create_supply("Контракт")
        client.assemble([request_for(o, supply_id=supply) for o in orders
                         if o.scheme == "FBS" and o.raw_substatus == "confirm"][:2])
        client.deliver_supply(supply)
    for method in ("assemble", "labels", "hand_over", "cancel"):
        called.add(method)
        results = getattr(client, method)(requests[:3])
        assert len(results) == len(requests[:3])
        if method in unsupported:
            assert {r.message for r in results} == {unsupported[method]}
    client.close()
    called.add("close")
    assert called >= PROTOCOL_METHODS, PROTOCOL_METHODS - called
    assert_spec_followed(marketplace, recording)


def test_ym_order_actions_need_the_order_processing_access(
    ym: Any, sandbox_world: SandboxWorld, recording: RecordingTransport
) -> None:
    order = ym_order(ym, sandbox_world, "FBS", "PROCESSING", "STARTED")
    sandbox_world.faults.update({"ym_api_key_scopes": ["INVENTORY_AND_ORDER_PROCESSING_READ_ONLY"]})
    with pytest.raises(NotAvailableError, match="do not allow updateOrderStatuses"):  # the key's scope, not the order
        ym.cancel([request_for(order, reason=CancelReason.OUT_OF_STOCK)])
    sandbox_world.faults.update({"ym_api_key_scopes": ["INVENTORY_AND_ORDER_PROCESSING"]})
    [cancelled] = ym.cancel([request_for(order, reason=CancelReason.OUT_OF_STOCK)])
    assert cancelled.status == WriteStatus.APPLIED
    assert_spec_followed("yandex_market", recording)
