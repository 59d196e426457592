"""Wildberries FBS supplies, stickers and cancels in the sandbox (03-orders-fbs.yaml):

- POST /api/v3/supplies: a new open supply (201 {"id": "WB-GI-…"}).
- PATCH /api/marketplace/v3/supplies/{supplyId}/orders: adds up to 100 FBS tasks in status `new`
  or `confirm` to an open supply and moves them to `confirm`; 404 for an unknown supply, 409
  FailedToAddSupplyOrder for a closed supply or a task that cannot join.
- GET /api/marketplace/v3/supplies/{supplyId}/order-ids: the supply's tasks.
- PATCH /api/v3/supplies/{supplyId}/deliver: closes the supply; its tasks become `complete` and
  walk on (sorted, sent to carrier, ready for pickup, sold); 409 SupplyHasZeroOrders when empty.
- POST /api/v3/orders/stickers?type=png|svg|zplv|zplh&width=58|40&height=40|30: stickers only for
  tasks in `confirm` or `complete` (the spec's limit); others get none.
- PATCH /api/v3/orders/{orderId}/cancel: `cancel` while the task is with the seller (new/confirm),
  409 StatusMismatch after it was handed over.

Tasks are generated in wildberries.py as a list of (time, supplierStatus, wbStatus) events; an
action replaces the events from now on, so the task lists and status reads see it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from integrations.sandbox import wildberries as wb
from integrations.sandbox.app import Route, SandboxRequest, empty_response, json_response
from integrations.sandbox.documents import sticker_png
from integrations.sandbox.world import SandboxWorld

SUPPLY_BASE = 9_000_000
STICKER_SIZES = {("58", "40"), ("40", "30")}
STICKER_TYPES = {"svg", "zplv", "zplh", "png"}
HOUR = timedelta(hours=1)


@dataclass
class Supply:
    id: str
    name: str
    created: datetime
    orders: list[int] = field(default_factory=list)
    closed: datetime | None = None


@dataclass
class WBFbsState:
    supplies: dict[str, Supply] = field(default_factory=dict)
    cancelled: set[int] = field(default_factory=set)


def _fbs_state(world: SandboxWorld) -> WBFbsState:
    return world.state("wildberries_fbs", lambda _world: WBFbsState())  # type: ignore[no-any-return]


def _error(status: int, code: str, message: str) -> httpx.Response:
    return json_response({"code": code, "message": message, "data": None}, status)


def _task(world: SandboxWorld, state: wb.WBState, task_id: Any) -> dict[str, Any] | None:
    order = wb._order_by_task(world, state, task_id)
    return order if order is not None and order["scheme"] == "FBS" else None


def _rewrite(order: dict[str, Any], now: datetime, events: list[tuple[datetime, str, str]]) -> None:
    """Keeps the task's history up to now and puts `events` after it."""
    order["events"] = [event for event in order["events"] if event[0] <= now] + events


def create_supply(world: SandboxWorld, state: wb.WBState, request: SandboxRequest) -> httpx.Response:
    name = (request.json() or {}).get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 128:
        return _error(400, "IncorrectRequestBody", "Некорректное тело запроса")
    fbs = _fbs_state(world)
    supply = Supply(f"WB-GI-{SUPPLY_BASE + len(fbs.supplies) + 1}", name, world.now.replace(microsecond=0))
    fbs.supplies[supply.id] = supply
    return json_response({"id": supply.id}, 201)


def add_orders(world: SandboxWorld, state: wb.WBState, request: SandboxRequest, supplyId: str) -> httpx.Response:
    ids = (request.json() or {}).get("orders")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100 or not all(isinstance(i, int) for i in ids):
        return _error(400, "IncorrectParameter", "Некорректный параметр: orders (от 1 до 100 ID)")
    supply = _fbs_state(world).supplies.get(supplyId)
    if supply is None:
        return _error(404, "NotFound", "Не найдено")
    failed = "Не удалось закрепить сборочное задание за поставкой. " \
             "Убедитесь, что сборочное задание и поставка удовлетворяют всем необходимым требованиям."
    if supply.closed is not None:
        return _error(409, "FailedToAddSupplyOrder", failed)
    tasks = []
    for task_id in ids:
        order = _task(world, state, task_id)
        if order is None:
            return _error(404, "NotFound", "Не найдено")
        _, supplier, wb_status = wb._status_at(order, world.now)
        if supplier not in {"new", "confirm"} or wb_status != "waiting":
            return _error(409, "FailedToAddSupplyOrder", failed)
        tasks.append(order)
    now = world.now.replace(microsecond=0)
    for supply_of_task in _fbs_state(world).supplies.values():  # a task moves between open supplies
        supply_of_task.orders = [i for i in supply_of_task.orders if i not in ids]
    for order in tasks:
        _rewrite(order, now, [(now, "confirm", "waiting")])
        supply.orders.append(order["id"])
    return empty_response(204)


def supply_order_ids(world: SandboxWorld, state: wb.WBState, request: SandboxRequest,
                     supplyId: str) -> httpx.Response:
    supply = _fbs_state(world).supplies.get(supplyId)
    if supply is None:
        return _error(404, "NotFound", "Не найдено")
    return json_response({"orderIds": list(supply.orders)})


def deliver(world: SandboxWorld, state: wb.WBState, request: SandboxRequest, supplyId: str) -> httpx.Response:
    supply = _fbs_state(world).supplies.get(supplyId)
    if supply is None:
        return _error(404, "NotFound", "Не найдено")
    if not supply.orders:
        return _error(409, "SupplyHasZeroOrders", "Не удалось обработать поставку. "
                      "Убедитесь, что за ней закреплён хотя бы одно сборочное задание.")
    if supply.closed is not None:
        return _error(409, "SupplyAlreadyClosed", "Поставка уже передана в доставку")
    now = world.now.replace(microsecond=0)
    supply.closed = now
    for task_id in supply.orders:
        order = _task(world, state, task_id)
        if order is not None:
            _rewrite(order, now, [(now, "complete", "waiting"), (now + 20 * HOUR, "complete", "sorted"),
                                  (now + 36 * HOUR, "complete", "sent_to_carrier"),
                                  (now + 70 * HOUR, "complete", "ready_for_pickup"),
                                  (now + 110 * HOUR, "complete", "sold")])
    return empty_response(204)


def stickers(world: SandboxWorld, state: wb.WBState, request: SandboxRequest) -> httpx.Response:
    kind, width, height = request.arg("type"), request.arg("width"), request.arg("height")
    if kind not in STICKER_TYPES or (width, height) not in STICKER_SIZES:
        return _error(400, "IncorrectParameter", "Некорректный параметр: type, width, height")
    ids = (request.json() or {}).get("orders")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        return _error(400, "IncorrectRequestBody", "Некорректное тело запроса")
    rows = []
    for task_id in ids:
        order = _task(world, state, task_id)
        if order is None or wb._status_at(order, world.now)[1] not in {"confirm", "complete"}:
            continue
        picture = sticker_png(task_id, 58 * 4 if width == "58" else 40 * 4, 40 * 4 if height == "40" else 30 * 4)
        rows.append({"orderId": task_id, "partA": str(task_id)[:-4], "partB": str(task_id)[-4:],
                     "barcode": f"*{task_id}", "file": base64.b64encode(picture).decode()})
    return json_response({"stickers": rows})


def cancel(world: SandboxWorld, state: wb.WBState, request: SandboxRequest, orderId: str) -> httpx.Response:
    order = _task(world, state, int(orderId)) if orderId.isdigit() else None
    if order is None:
        return _error(404, "NotFound", "Не найдено")
    _, supplier, wb_status = wb._status_at(order, world.now)
    if supplier not in {"new", "confirm"} or wb_status != "waiting":
        return _error(409, "StatusMismatch", "Несоответствие статусов, проверьте их правильность")
    now = world.now.replace(microsecond=0)
    _rewrite(order, now, [(now, "cancel", "canceled")])
    fbs = _fbs_state(world)
    fbs.cancelled.add(order["id"])
    for supply in fbs.supplies.values():  # "a cancelled task leaves its supply"
        if supply.closed is None and order["id"] in supply.orders:
            supply.orders.remove(order["id"])
    return empty_response(204)


ROUTES = [
    Route("POST", "/api/v3/supplies", create_supply),
    Route("PATCH", "/api/marketplace/v3/supplies/{supplyId}/orders", add_orders),
    Route("GET", "/api/marketplace/v3/supplies/{supplyId}/order-ids", supply_order_ids),
    Route("PATCH", "/api/v3/supplies/{supplyId}/deliver", deliver),
    Route("POST", "/api/v3/orders/stickers", stickers),
    Route("PATCH", "/api/v3/orders/{orderId}/cancel", cancel),
]
