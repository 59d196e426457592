"""Yandex Market FBS/Express/DBS order actions in the sandbox (openapi/paths, tags fbs, dbs):

- POST /v2/campaigns/{campaignId}/orders/status-update (at most 30 orders, per-order updateStatus):
  the moves the spec lists for the shop: PROCESSING/STARTED -> PROCESSING/READY_TO_SHIP, and from
  either -> CANCELLED/SHOP_FAILED; for DBS (the shop delivers) READY_TO_SHIP -> DELIVERY and
  DELIVERY -> DELIVERED. SHIPPED is Market's to set when it takes the parcel; anything else is
  refused (updateStatus ERROR with errorDetails). The one-order PUT .../status is not served: the
  batch method does the same with per-order answers.
- PUT  /v2/campaigns/{campaignId}/orders/{orderId}/boxes: the box layout of an order in PROCESSING;
  every item's units must be laid out exactly; the answer gives each box its boxId.
- GET  /v2/campaigns/{campaignId}/orders/{orderId}/delivery/labels: a PDF, one label per box, for
  an order in PROCESSING (STARTED, READY_TO_SHIP or SHIPPED); otherwise 400.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from integrations.sandbox import yandex_market as ym
from integrations.sandbox.app import Route, SandboxRequest, json_response
from integrations.sandbox.documents import label_pdf
from integrations.sandbox.world import SandboxWorld

STATUS_BATCH = 30
# (program group, from status, from substatus) -> allowed (status, substatus) targets.
SHOP_MOVES: dict[tuple[str, str], set[tuple[str, str]]] = {
    ("PROCESSING", "STARTED"): {("PROCESSING", "READY_TO_SHIP"), ("CANCELLED", "SHOP_FAILED")},
    ("PROCESSING", "READY_TO_SHIP"): {("CANCELLED", "SHOP_FAILED")},
}
DBS_MOVES: dict[tuple[str, str], set[tuple[str, str]]] = {
    ("PROCESSING", "READY_TO_SHIP"): {("DELIVERY", "")},
    ("DELIVERY", "DELIVERY_SERVICE_RECEIVED"): {("DELIVERED", "")},
    ("DELIVERY", "LAST_MILE_STARTED"): {("DELIVERED", "")},
}
NEXT_SUBSTATUS = {"DELIVERY": "DELIVERY_SERVICE_RECEIVED", "DELIVERED": "DELIVERED_USER_RECEIVED"}
LABEL_SUBSTATUSES = {"STARTED", "READY_TO_SHIP", "SHIPPED"}


@dataclass
class YMFbsState:
    boxes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # order id -> boxes with boxId
    next_box_id: int = 610_000_000


def _fbs_state(world: SandboxWorld) -> YMFbsState:
    return world.state("yandex_market_fbs", lambda _world: YMFbsState())  # type: ignore[no-any-return]


def _campaign_order(world: SandboxWorld, state: ym.YMState, campaign_id: str, order_id: Any) -> dict[str, Any]:
    order = ym._order(world, state, int(order_id)) if str(order_id).isdigit() else None
    if order is None or str(order["campaign"]) != campaign_id or order["created"] > ym._ts(world.now):
        raise NotFound(f"Order {order_id} not found in campaign {campaign_id}")
    return order


class NotFound(Exception):
    pass


def _move_problem(order: dict[str, Any], status: str, substatus: str) -> str | None:
    """Why the shop may not move this order to (status, substatus); None when it may."""
    current = (order["status"], order["substatus"])
    allowed = set(SHOP_MOVES.get(current, set()))
    if order["program"] == "DBS":
        allowed |= DBS_MOVES.get(current, set())
    if (status, substatus) in allowed or (status, "") in allowed:  # DBS moves take any substatus
        return None
    target = f"{status}/{substatus}" if substatus else status
    return f"Order {order['id']}: status {current[0]}/{current[1]} cannot be changed to {target}"


def _apply(world: SandboxWorld, state: ym.YMState, order: dict[str, Any], status: str,
           substatus: str) -> dict[str, Any]:
    changed = {**order, "status": status, "substatus": substatus or NEXT_SUBSTATUS.get(status, "UNKNOWN"),
               "updated": ym._ts(world.now)}
    ym._save_order(state, changed, order["updated"])
    return changed


def _target(change: Any) -> tuple[str, str]:
    if not isinstance(change, dict) or change.get("status") not in ym.STATUSES:
        raise ym.BadRequest("order.status must be one of OrderStatusType")
    return str(change["status"]), str(change.get("substatus") or "")


@ym._handler
def update_statuses(world: SandboxWorld, state: ym.YMState, request: SandboxRequest,
                    campaignId: str) -> httpx.Response:
    rows = ym._body(request).get("orders")
    if not isinstance(rows, list) or not 1 <= len(rows) <= STATUS_BATCH:
        raise ym.BadRequest(f"orders must hold 1 to {STATUS_BATCH} orders")
    results = []
    for row in rows:
        status, substatus = _target(row)
        order_id = row.get("id")
        try:
            order = _campaign_order(world, state, campaignId, order_id)
        except NotFound as exc:
            results.append({"id": order_id, "updateStatus": "ERROR", "errorDetails": str(exc)})
            continue
        problem = _move_problem(order, status, substatus)
        if problem is not None:
            results.append({"id": order["id"], "status": order["status"], "substatus": order["substatus"],
                            "updateStatus": "ERROR", "errorDetails": problem})
            continue
        changed = _apply(world, state, order, status, substatus)
        results.append({"id": changed["id"], "status": changed["status"], "substatus": changed["substatus"],
                        "updateStatus": "OK"})
    return json_response({"status": "OK", "result": {"orders": results}})


@ym._handler
def set_boxes(world: SandboxWorld, state: ym.YMState, request: SandboxRequest, campaignId: str,
              orderId: str) -> httpx.Response:
    boxes = ym._body(request).get("boxes")
    if not isinstance(boxes, list) or not boxes:
        raise ym.BadRequest("boxes must hold at least one box")
    try:
        order = _campaign_order(world, state, campaignId, orderId)
    except NotFound as exc:
        return ym._error(404, "ORDER_NOT_FOUND", str(exc))
    if order["status"] != "PROCESSING" or order["substatus"] not in ("STARTED", "READY_TO_SHIP"):
        return ym._error(400, "STATUS_NOT_ALLOWED",
                         f"Order {order['id']} in status {order['status']}/{order['substatus']} cannot be laid out")
    ordered = {item["id"]: item["count"] for item in order["items"]}
    laid: dict[int, int] = {}
    for box in boxes:
        for item in (box or {}).get("items") or []:
            if item.get("id") not in ordered or not isinstance(item.get("fullCount"), int):
                raise ym.BadRequest(f"Box item {item.get('id')} is not an item of order {order['id']}")
            laid[item["id"]] = laid.get(item["id"], 0) + item["fullCount"]
    if laid != ordered:
        raise ym.BadRequest(f"The boxes must hold every unit of the order's items exactly: {ordered}")
    fbs = _fbs_state(world)
    result = []
    for box in boxes:
        fbs.next_box_id += 1
        result.append({"items": [{"id": i["id"], "fullCount": i["fullCount"]} for i in box["items"]],
                       "boxId": fbs.next_box_id})
    fbs.boxes[order["id"]] = result
    return json_response({"status": "OK", "result": {"boxes": result}})


@ym._handler
def labels(world: SandboxWorld, state: ym.YMState, request: SandboxRequest, campaignId: str,
           orderId: str) -> httpx.Response:
    page_format = request.arg("format")
    if page_format is not None and page_format not in ("A9_HORIZONTALLY", "A9", "A7", "A4"):
        raise ym.BadRequest("format must be one of PageFormatType", "INVALID_QUERY_PARAMETER")
    try:
        order = _campaign_order(world, state, campaignId, orderId)
    except NotFound as exc:
        return ym._error(404, "ORDER_NOT_FOUND", str(exc))
    if order["program"] == "FBY" or order["status"] != "PROCESSING" or order["substatus"] not in LABEL_SUBSTATUSES:
        return ym._error(400, "STATUS_NOT_ALLOWED",
                         f"Labels of order {order['id']} in status {order['status']}/{order['substatus']} "
                         "cannot be generated")
    boxes = _fbs_state(world).boxes.get(order["id"]) or [{"boxId": order["id"] * 10}]
    pages = [[f"YANDEX MARKET {order['id']}", f"Box {n} of {len(boxes)}", f"ID {box['boxId']}"]
             for n, box in enumerate(boxes, start=1)]
    return httpx.Response(200, content=label_pdf(pages), headers={"Content-Type": "application/pdf"})


ROUTES = [
    Route("POST", "/v2/campaigns/{campaignId}/orders/status-update", update_statuses),
    Route("PUT", "/v2/campaigns/{campaignId}/orders/{orderId}/boxes", set_boxes),
    Route("GET", "/v2/campaigns/{campaignId}/orders/{orderId}/delivery/labels", labels),
]
