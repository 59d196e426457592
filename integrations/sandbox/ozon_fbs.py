"""Ozon FBS/rFBS posting actions in the sandbox (swagger.json, tag FBS):

- POST /v4/posting/fbs/ship: packs an `awaiting_packaging` posting into the given packages (the
  products and quantities must be the posting's) and moves it to `awaiting_deliver`; any other
  status is refused with Ozon's error body.
- POST /v2/posting/fbs/package-label: a PDF (one page per package) for at most 20 postings, all in
  `awaiting_deliver`; if one is not, none is printed ("If an error occurs for at least one shipment,
  the labeling isn't generated for all shipments in the request").
- POST /v2/posting/fbs/cancel: cancels a posting not yet handed over, with a documented reason id
  (402 "other" needs `cancel_reason_message`).

Postings live in ozon.py as a schedule of status times per posting; an action rewrites that
schedule from now on, so every read (lists, finance, the status change filter) sees the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from integrations.sandbox import ozon
from integrations.sandbox.app import Route, SandboxRequest, json_response
from integrations.sandbox.documents import label_pdf
from integrations.sandbox.ozon_ids import SKU_BASE
from integrations.sandbox.world import SandboxWorld

DAY = 86_400
LABEL_BATCH = 20
CANCEL_REASON_IDS = {352, 400, 401, 402, 665, 666, 667}
# The path a posting moves to after an action: (scheme, statuses) of ozon.PATHS.
SHIPPED_PATH = {ozon.FBS: ("awaiting_packaging", "awaiting_deliver", "delivering", "delivered"),
                ozon.RFBS: ("awaiting_packaging", "awaiting_deliver", "sent_by_seller", "delivered")}
CANCELLED_PATH = {"awaiting_packaging": ("awaiting_packaging", "cancelled"),
                  "awaiting_deliver": ("awaiting_packaging", "awaiting_deliver", "cancelled")}


@dataclass
class OzonFbsState:
    packages: dict[int, int] = field(default_factory=dict)  # posting index -> packages it was shipped in
    cancel_reasons: dict[int, tuple[int, str]] = field(default_factory=dict)


def _fbs_state(world: SandboxWorld) -> OzonFbsState:
    return world.state("ozon_fbs", lambda _world: OzonFbsState())  # type: ignore[no-any-return]


def _posting_index(state: ozon.OzonState, now_ts: int, posting_number: Any) -> int | None:
    """The posting's index from its number ("<order number>-1"), if it exists and is FBS/rFBS."""
    text = str(posting_number or "")
    head = text.split("-", 1)[0]
    if not head.isdigit():
        return None
    index = int(head) - ozon.ORDER_ID_BASE // 1000
    if not 0 <= index < state.visible_orders(now_ts) or ozon._order_numbers(index)[2] != text:
        return None
    scheme, _, _, _, _ = state.order_status(index, now_ts)
    return None if scheme == ozon.FBO else index


def _path_index(scheme: int, statuses: tuple[str, ...]) -> int | None:
    return next((n for n, (s, _, path) in enumerate(ozon.PATHS) if s == scheme and path == statuses), None)


def _reschedule(state: ozon.OzonState, index: int, statuses: tuple[str, ...], times: list[int]) -> None:
    """Puts posting `index` on another status path with these status times."""
    scheme, _, _ = state.order_core(index)
    path = _path_index(scheme, statuses)
    assert path is not None, statuses
    state.order_paths[index] = path
    padded = times + [times[-1]] * (ozon.MAX_STEPS - len(times))
    for step, moment in enumerate(padded):
        state.order_times[index * ozon.MAX_STEPS + step] = moment


def _posting_not_found(number: Any) -> httpx.Response:
    return ozon._error(404, 5, f"POSTING_NOT_FOUND: posting {number} not found")


def ship(world: SandboxWorld, state: ozon.OzonState, request: SandboxRequest) -> httpx.Response:
    body = ozon._body(request)
    if isinstance(body, httpx.Response):
        return body
    now_ts = ozon._now_ts(world)
    number = body.get("posting_number")
    packages = body.get("packages")
    if not number or not isinstance(packages, list) or not packages:
        return ozon._bad_request("Request validation error: posting_number and packages are required")
    index = _posting_index(state, now_ts, number)
    if index is None:
        return _posting_not_found(number)
    scheme, _, status, changed_at, _ = state.order_status(index, now_ts)
    if status != "awaiting_packaging":
        code = "POSTING_ALREADY_SHIPPED" if status == "awaiting_deliver" else "INVALID_POSTING_STATUS"
        return ozon._bad_request(f"{code}: posting {number} is in status {status}")
    ordered: dict[int, int] = {}
    for sku_index, quantity, _ in state.order_lines(index):
        ordered[SKU_BASE + sku_index] = ordered.get(SKU_BASE + sku_index, 0) + quantity
    packed: dict[int, int] = {}
    for package in packages:
        for product in (package or {}).get("products") or []:
            sku, quantity = product.get("product_id"), product.get("quantity")
            if not isinstance(sku, int) or not isinstance(quantity, int) or quantity < 1:
                return ozon._bad_request("Request validation error: product_id and quantity are required")
            packed[sku] = packed.get(sku, 0) + quantity
    if packed != ordered:
        return ozon._bad_request(f"INCORRECT_PRODUCTS: the packages must hold the posting's products {ordered}")
    _reschedule(state, index, SHIPPED_PATH[scheme],
                [min(changed_at, now_ts), now_ts, now_ts + DAY, now_ts + 3 * DAY])
    _fbs_state(world).packages[index] = len(packages)
    return json_response({"result": [number], "additional_data": []})


def package_label(world: SandboxWorld, state: ozon.OzonState, request: SandboxRequest) -> httpx.Response:
    body = ozon._body(request)
    if isinstance(body, httpx.Response):
        return body
    numbers = body.get("posting_number")
    if not isinstance(numbers, list) or not 1 <= len(numbers) <= LABEL_BATCH:
        return ozon._bad_request(f"Request validation error: posting_number must hold 1 to {LABEL_BATCH} postings")
    now_ts = ozon._now_ts(world)
    pages: list[list[str]] = []
    not_ready = []
    for number in numbers:
        index = _posting_index(state, now_ts, number)
        if index is None:
            return _posting_not_found(number)
        _, _, status, _, _ = state.order_status(index, now_ts)
        if status != "awaiting_deliver":
            not_ready.append(str(number))
            continue
        count = _fbs_state(world).packages.get(index, 1)
        order_id = ozon._order_numbers(index)[0]
        pages += [[f"OZON {number}", f"Package {n} of {count}", f"%{order_id}%"] for n in range(1, count + 1)]
    if not_ready:
        return ozon._bad_request(f"The next postings aren't ready: {', '.join(not_ready)}")
    content = label_pdf(pages)
    return httpx.Response(200, content=content, headers={"Content-Type": "application/pdf"})


def cancel(world: SandboxWorld, state: ozon.OzonState, request: SandboxRequest) -> httpx.Response:
    body = ozon._body(request)
    if isinstance(body, httpx.Response):
        return body
    number, reason = body.get("posting_number"), body.get("cancel_reason_id")
    if not number or not isinstance(reason, int):
        return ozon._bad_request("Request validation error: posting_number and cancel_reason_id are required")
    if reason not in CANCEL_REASON_IDS:
        return ozon._bad_request(f"INVALID_CANCEL_REASON: unknown cancel_reason_id {reason}")
    message = str(body.get("cancel_reason_message") or "")
    if reason == 402 and not message.strip():
        return ozon._bad_request("CANCEL_REASON_MESSAGE_REQUIRED: describe the reason for cancel_reason_id 402")
    now_ts = ozon._now_ts(world)
    index = _posting_index(state, now_ts, number)
    if index is None:
        return _posting_not_found(number)
    scheme, path, status, _, step = state.order_status(index, now_ts)
    if status not in CANCELLED_PATH:
        return ozon._bad_request(f"POSTING_CANNOT_BE_CANCELLED: posting {number} is in status {status}")
    base = index * ozon.MAX_STEPS
    walked = ozon.PATHS[path][2][: step + 1]
    times = {name: state.order_times[base + n] for n, name in enumerate(walked)}
    statuses = CANCELLED_PATH[status]
    if _path_index(scheme, statuses) is None:  # rFBS has no "cancelled after packing" path
        statuses = CANCELLED_PATH["awaiting_packaging"]
    _reschedule(state, index, statuses, [min(times.get(name, now_ts), now_ts) for name in statuses[:-1]] + [now_ts])
    _fbs_state(world).cancel_reasons[index] = (reason, message)
    return json_response({"result": True})


ROUTES = [
    Route("POST", "/v4/posting/fbs/ship", ship),
    Route("POST", "/v2/posting/fbs/package-label", package_label),
    Route("POST", "/v2/posting/fbs/cancel", cancel),
]
