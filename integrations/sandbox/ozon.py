"""The Ozon part of the sandbox: the Seller API's real paths, bodies, paging and errors.

Scale: nothing proportional to the order count is built up front except one small list (the
orders that have a return). Every order, review and question is a pure function of its index
and the world clock: order i is created at a fixed time and walks a fixed status path, so moving
the clock (advance) makes new orders appear and old ones progress with change times inside the
moved interval. Seller actions (prices, stocks, answers, promotions, content) live in dicts.
"""

from __future__ import annotations

import base64
import bisect
import json
import time
import uuid
from array import array
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx

from integrations.sandbox import credentials
from integrations.sandbox.app import Route, SandboxRequest, json_response
from integrations.sandbox.ozon_ids import PRODUCT_ID_BASE, SKU_BASE
from integrations.sandbox.world import SandboxWorld, iso_seconds

PARALLEL_LIMIT: int | None = None

ORDER_ID_BASE = 48_000_000
RETURN_ID_BASE = 700_000_000
OPERATION_ID_BASE = 9_000_000_000
STORAGE_OPERATION_BASE = 8_000_000_000
TASK_ID_BASE = 5_000_000

NAME_ATTRIBUTE = 4180
DESCRIPTION_ATTRIBUTE = 4191
BRAND_ATTRIBUTE = 85
COLOUR_ATTRIBUTE = 10096

ORDER_SPAN = 60 * 86400  # initial orders are spread over the 60 days before the start
NEW_ORDER_EVERY = 20 * 60  # at most; a large shop gets new orders as often as its old ones
REVIEW_SPAN = 120 * 86400
NEW_REVIEW_EVERY = 45 * 60
QUESTION_SPAN = 90 * 86400
NEW_QUESTION_EVERY = 90 * 60
# A share of postings stays in delivery or in arbitration for weeks (a lost parcel, a dispute,
# rFBS to a remote town): their final status comes 35 to 90 days after creation, past the window
# in which a client re-reads postings by change, so only following open postings sees it.
LONG_HOLD_SHARE = 0.08
LONG_HOLD_MIN = 35 * 86400
LONG_HOLD_MAX = 90 * 86400
LONG_HOLD_STATUSES = frozenset({"delivering", "arbitration", "client_arbitration", "sent_by_seller"})
USUAL_ORDER_LIFE = 45 * 86400  # upper bound of creation -> last status change (+ return) without a hold
LONGEST_ORDER_LIFE = USUAL_ORDER_LIFE + LONG_HOLD_MAX  # the same with a long hold
# Per-item write limits of the spec: a price 10 times an hour, a stock pair once in 30 seconds.
PRICE_WRITES_PER_HOUR = 10
STOCK_WRITE_EVERY = 30
QUESTIONS_PER_PAGE = 10  # the response schema allows at most 10 questions
MAX_STEPS = 5  # the longest status path

# (warehouse_id, name, is_rfbs, tpl_integration_type, delivery method id)
SELLER_WAREHOUSES = [
    (1020000045671, "Склад Подольск (FBS)", False, "ozon", 1020000045671001),
    (1020000045672, "Склад Казань (FBS)", False, "ozon", 1020000045672001),
    (1020000045673, "Склад Екатеринбург (rFBS, своя доставка)", True, "non_integrated", 1020000045673001),
]
FBS_WAREHOUSES = SELLER_WAREHOUSES[:2]
RFBS_WAREHOUSE = SELLER_WAREHOUSES[2]
FBO_WAREHOUSES = [
    (15431806189000, "ХОРУГВИНО_РФЦ"),
    (1020000089903000, "КАЗАНЬ_РФЦ_НОВЫЙ"),
    (1020001009453000, "НОВОСИБИРСК_РФЦ_НОВЫЙ"),
    (1020000012963000, "ЕКАТЕРИНБУРГ_РФЦ_НОВЫЙ"),
]

FBS, RFBS, FBO = 0, 1, 2

# Status paths an order walks, by scheme. Every status Ozon documents appears on some path.
PATHS: list[tuple[int, float, tuple[str, ...]]] = [
    (FBS, 0.58, ("awaiting_packaging", "awaiting_deliver", "delivering", "delivered")),
    (FBS, 0.08, ("awaiting_packaging", "cancelled")),
    (FBS, 0.04, ("awaiting_packaging", "awaiting_deliver", "cancelled")),
    (FBS, 0.04, ("awaiting_packaging", "awaiting_deliver", "delivering", "client_arbitration", "delivered")),
    (FBS, 0.03, ("awaiting_packaging", "awaiting_deliver", "not_accepted", "cancelled")),
    (FBS, 0.04, ("awaiting_verification", "awaiting_packaging", "awaiting_deliver", "delivering", "delivered")),
    (FBS, 0.06, ("awaiting_packaging", "awaiting_deliver", "acceptance_in_progress", "delivering", "delivered")),
    (FBS, 0.03, ("awaiting_approve", "awaiting_packaging", "awaiting_deliver", "delivering", "delivered")),
    (FBS, 0.04, ("awaiting_packaging", "awaiting_deliver", "driver_pickup", "delivered")),
    (FBS, 0.02, ("awaiting_packaging", "awaiting_deliver", "arbitration", "delivered")),
    (FBS, 0.02, ("awaiting_packaging", "cancelled_from_split_pending")),
    (FBS, 0.02, ("awaiting registration", "awaiting_packaging", "awaiting_deliver", "delivering", "delivered")),
    (RFBS, 0.85, ("awaiting_packaging", "awaiting_deliver", "sent_by_seller", "delivered")),
    (RFBS, 0.15, ("awaiting_packaging", "cancelled")),
    (FBO, 0.88, ("awaiting_packaging", "awaiting_deliver", "delivering", "delivered")),
    (FBO, 0.12, ("awaiting_packaging", "cancelled")),
]
SUBSTATUS = {
    "awaiting_verification": "posting_created",
    "awaiting_approve": "posting_created",
    "awaiting registration": "posting_awaiting_registration",
    "acceptance_in_progress": "posting_acceptance_in_progress",
    "awaiting_packaging": "posting_created",
    "awaiting_deliver": "posting_transferring_to_delivery",
    "not_accepted": "posting_not_in_sort_center",
    "driver_pickup": "posting_driver_pick_up",
    "sent_by_seller": "posting_in_courier_service",
    "delivering": "posting_on_way_to_pickup_point",
    "arbitration": "posting_in_arbitration",
    "client_arbitration": "posting_in_client_arbitration",
    "delivered": "posting_delivered",
    "cancelled": "posting_canceled",
    "cancelled_from_split_pending": "posting_split_pending",
}
CANCEL_REASONS = [
    (352, "Покупатель отменил заказ", "client", "Покупатель"),
    (400, "Товар закончился на складе продавца", "seller", "Продавец"),
    (501, "Не принят на сортировочном центре", "ozon", "Ozon"),
]


def _showcase() -> list[tuple[int, int]]:
    """(path, step) for each status of each scheme, so the newest initial orders show them all."""
    wanted: list[tuple[int, int]] = []
    seen: set[tuple[int, str]] = set()
    for index, (scheme, _, statuses) in enumerate(PATHS):
        for step, status in enumerate(statuses):
            if (scheme, status) not in seen:
                seen.add((scheme, status))
                wanted.append((index, step))
    return wanted


def _cumulative() -> dict[int, list[tuple[float, int]]]:
    """Per scheme: (cumulative weight, path index), to pick a path from one uniform number."""
    table: dict[int, list[tuple[float, int]]] = {}
    totals: dict[int, float] = {}
    for index, (scheme, weight, _) in enumerate(PATHS):
        totals[scheme] = totals.get(scheme, 0.0) + weight
        table.setdefault(scheme, []).append((totals[scheme], index))
    return table


SHOWCASE = _showcase()
_CUMULATIVE = _cumulative()

RETURN_FLOWS = {
    ("ClientReturn", FBS): ("MovingToSeller", "ReturningToSellerByCourier", "ReceivedBySeller"),
    ("ClientReturn", FBO): ("MovingToOzon", "ReturnedToOzon"),
    ("Cancellation", FBS): ("MovingToSeller", "ReceivedBySeller"),
}
RETURN_STATUS_NAMES = {
    "MovingToSeller": (32, "Едет к продавцу"),
    "ReturningToSellerByCourier": (33, "Курьер везёт возврат продавцу"),
    "ReceivedBySeller": (34, "Получен продавцом"),
    "MovingToOzon": (20, "В пути на склад Ozon"),
    "ReturnedToOzon": (21, "На складе Ozon"),
}
RETURN_REASONS = ["Не подошёл размер", "Брак или дефект", "Не соответствует описанию", "Передумал покупать"]

ACTIONS = [
    (1210001, "Распродажа «Чёрная пятница»", "DISCOUNT", -10, 20, "PERCENT", 25),
    (1210002, "Товары дня: скидка на остатки", "STOCK_DISCOUNT", -3, 4, "PERCENT", 15),
    (1210003, "Зимняя распродажа", "DISCOUNT", 14, 45, "PERCENT", 20),
    (1210004, "Эластичный бустинг", "ELASTIC_BOOSTING", -30, 60, "PERCENT", 10),
]

DEPRECATED_PATHS = {
    "/v3/posting/fbs/list", "/v3/posting/fbs/unfulfilled/list", "/v2/posting/fbo/list", "/v1/warehouse/list",
    "/v2/product/info", "/v2/product/info/list", "/v3/product/info/stocks", "/v4/product/info/prices",
    "/v3/products/info/attributes", "/v1/product/pictures/info",
}

# Methods the spec opens only to subscribers, and what the sandbox says to a seller without one.
_REVIEWS_ONLY = "Method is available only to sellers with the Review Management or Premium Pro subscription"
_QUESTIONS_ONLY = "Method is available only to sellers with the Premium Plus subscription"
PREMIUM_PATHS = {
    "/v1/review/list": _REVIEWS_ONLY,
    "/v1/review/comment/create": _REVIEWS_ONLY,
    "/v1/question/list": _QUESTIONS_ONLY,
    "/v1/question/answer/create": _QUESTIONS_ONLY,
}
OUT_OF_RANGE = 10**19  # past PostgreSQL's bigint (9.2e18), still a JSON integer every parser reads

_MASK = (1 << 64) - 1
_CENT = Decimal("0.01")


def _mix(value: int) -> int:
    """splitmix64: a cheap, well-spread hash for per-index decisions (no Random object needed)."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _iso(ts: int) -> str:
    return iso_seconds(ts, suffix="Z")


def _parse_time(value: Any) -> int | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"p": position}).encode()).decode().rstrip("=")


def _decode_cursor(text: Any) -> int | None:
    if not text:
        return 0
    try:
        padded = str(text) + "=" * (-len(str(text)) % 4)
        return int(json.loads(base64.urlsafe_b64decode(padded))["p"])
    except (ValueError, KeyError, TypeError):
        return None


def _error(status: int, code: int, message: str, details: Any = None) -> httpx.Response:
    """rpcStatus; the question methods declare their own error body, whose `details` is a string."""
    return json_response({"code": code, "message": message, "details": [] if details is None else details}, status)


def _question_error(status: int, code: int, message: str) -> httpx.Response:
    return _error(status, code, message, details="")


def _bad_request(message: str) -> httpx.Response:
    return _error(400, 3, message)


# ---------------------------------------------------------------------------------------------
# State


@dataclass
class OzonState:
    world: SandboxWorld
    seed: int
    start_ts: int
    initial_orders: int
    order_step: int
    new_order_every: int
    initial_reviews: int
    review_step: int
    initial_questions: int
    question_step: int
    prices: dict[int, dict[str, Decimal]] = field(default_factory=dict)
    content: dict[int, dict[str, Any]] = field(default_factory=dict)
    stocks: dict[tuple[int, int], int] = field(default_factory=dict)
    stock_written_at: dict[tuple[int, int], int] = field(default_factory=dict)
    price_written_at: dict[int, deque[int]] = field(default_factory=dict)  # the last PRICE_WRITES_PER_HOUR
    review_comments: dict[int, int] = field(default_factory=dict)
    question_answers: dict[int, int] = field(default_factory=dict)
    joined: dict[int, dict[int, Decimal]] = field(default_factory=dict)
    left: dict[int, set[int]] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    return_orders: list[int] = field(default_factory=list)
    returns_scanned: int = 0
    order_paths: array[int] = field(default_factory=lambda: array("b"))
    order_times: array[int] = field(default_factory=lambda: array("q"))
    scheduled: int = 0
    long_lived: array[int] = field(default_factory=lambda: array("q"))  # orders living past USUAL_ORDER_LIFE
    finance_cache: dict[tuple[int, int, int], list[tuple[int, int, dict[str, Any]]]] = field(default_factory=dict)
    request_times: dict[str, deque[float]] = field(default_factory=dict)

    # ---- products ---------------------------------------------------------------------------
    @property
    def product_count(self) -> int:
        return len(self.world.catalog)

    def u(self, index: int, salt: int) -> float:
        return _mix((self.seed << 44) ^ (index << 8) ^ salt) / 2**64

    def product_index(self, product_id: Any) -> int | None:
        try:
            index = int(product_id) - PRODUCT_ID_BASE
        except (TypeError, ValueError):
            return None
        return index if 0 <= index < self.product_count else None

    def index_by_sku(self, sku: Any) -> int | None:
        try:
            index = int(sku) - SKU_BASE
        except (TypeError, ValueError):
            return None
        return index if 0 <= index < self.product_count else None

    def index_by_offer(self, offer_id: Any) -> int | None:
        text = str(offer_id or "")
        if not text.startswith("PRL-") or not text[4:].isdigit():
            return None
        index = int(text[4:]) - 1
        return index if 0 <= index < self.product_count and self.world.catalog[index].article == text else None

    def price_of(self, index: int) -> dict[str, Decimal]:
        if index in self.prices:
            return self.prices[index]
        base = self.world.catalog[index].base_price
        old = _money(base * Decimal("1.25")) if index % 3 else Decimal(0)
        return {"price": base, "old_price": old, "min_price": _money(base * Decimal("0.8"))}

    def name_of(self, index: int) -> str:
        return self.content.get(index, {}).get("name") or self.world.catalog[index].name

    def description_of(self, index: int) -> str:
        return self.content.get(index, {}).get("description") or self.world.catalog[index].description

    def images_of(self, index: int) -> list[str]:
        return list(self.content.get(index, {}).get("images") or self.world.catalog[index].images)

    def attributes_of(self, index: int) -> list[dict[str, Any]]:
        """The card's characteristics: the world's, with those the seller sent replacing or adding."""
        item = self.world.catalog[index]
        values = {
            BRAND_ATTRIBUTE: (0, item.brand),
            NAME_ATTRIBUTE: (0, self.name_of(index)),
            DESCRIPTION_ATTRIBUTE: (0, self.description_of(index)),
            COLOUR_ATTRIBUTE: (61571 + len(item.colour), item.colour),
        }
        for attribute_id, text in (self.content.get(index, {}).get("attributes") or {}).items():
            values[attribute_id] = (0, text)
        return [
            {"id": attribute_id, "complex_id": 0, "values": [{"dictionary_value_id": value_id, "value": text}]}
            for attribute_id, (value_id, text) in values.items()
        ]

    def archived(self, index: int) -> bool:
        return index % 31 == 30

    def failed_moderation(self, index: int) -> bool:
        return index % 29 == 11

    # ---- stocks -----------------------------------------------------------------------------
    def stocked_warehouses(self, index: int) -> list[tuple[int, str, bool, str, int]]:
        found = [w for n, w in enumerate(FBS_WAREHOUSES) if (index + n) % 3 != 0]
        if index % 5 == 0:
            found.append(RFBS_WAREHOUSE)
        return found

    def reserved(self, index: int, warehouse_id: int) -> int:
        return 1 if (index + warehouse_id) % 7 == 0 else 0

    def present(self, index: int, warehouse_id: int) -> int:
        if (index, warehouse_id) in self.stocks:
            return self.stocks[(index, warehouse_id)] + self.reserved(index, warehouse_id)
        base = (index * 7 + warehouse_id % 97 * 13) % 40
        return max(base, self.reserved(index, warehouse_id))

    def fbo_stock(self, index: int) -> tuple[int, int, list[int]]:
        if index % 2:
            return 0, 0, []
        warehouse = FBO_WAREHOUSES[index // 2 % len(FBO_WAREHOUSES)][0]
        present = (index * 11) % 60 + 5
        return present, index % 4, [warehouse]

    # ---- orders: pure functions of the index and the clock -------------------------------------
    def created(self, i: int) -> int:
        if i < self.initial_orders:
            return self.start_ts - (self.initial_orders - 1 - i) * self.order_step
        return self.start_ts + (i - self.initial_orders + 1) * self.new_order_every

    def first_order_at_or_after(self, ts: int) -> int:
        base = self.created(0)
        if ts <= base:
            return 0
        if ts <= self.start_ts:
            return -((base - ts) // self.order_step)  # ceil((ts - base) / step)
        return self.initial_orders + -((self.start_ts - ts) // self.new_order_every) - 1

    def visible_orders(self, now_ts: int) -> int:
        if now_ts < self.start_ts:
            return max(0, self.first_order_at_or_after(now_ts + 1))
        return self.initial_orders + (now_ts - self.start_ts) // self.new_order_every

    def order_core(self, i: int) -> tuple[int, int, list[int]]:
        """(scheme, path index, times of each status) of order i, from the compact schedule."""
        if i >= self.scheduled:
            self.schedule(i + 1)
        path = self.order_paths[i]
        length = len(PATHS[path][2])
        return PATHS[path][0], path, list(self.order_times[i * MAX_STEPS : i * MAX_STEPS + length])

    def schedule(self, upto: int) -> None:
        """Compute the schedules of orders up to `upto` (8 bytes per status): hashing them is
        the expensive part, so each order is computed once, not on every page that scans it."""
        upto = max(upto, self.scheduled + 1024)
        for i in range(self.scheduled, upto):
            _, path, times = self._compute_core(i)
            self.order_paths.append(path)
            self.order_times.extend(times + [times[-1]] * (MAX_STEPS - len(times)))
            if times[-1] - times[0] > USUAL_ORDER_LIFE - 15 * 86400:  # room for a return after it
                self.long_lived.append(i)
        self.scheduled = upto

    def _compute_core(self, i: int) -> tuple[int, int, list[int]]:
        created = self.created(i)
        showcase_from = self.initial_orders - 1 - len(SHOWCASE)
        if showcase_from >= 0 and showcase_from <= i < self.initial_orders - 1:
            path, step = SHOWCASE[i - showcase_from]
            statuses = PATHS[path][2]
            gap = max(0, self.start_ts - created - 60)
            before = gap // step if step else 0
            times = [created + before * k for k in range(step + 1)]
            # Each shown status is held a few hours more than the previous one, so moving the
            # clock by hours already advances some of them.
            hold = 2 * 3600 + (i - showcase_from) * 90 * 60
            for _ in statuses[step + 1 :]:
                times.append(times[-1] + (self.start_ts - times[-1] + hold if len(times) == step + 1 else 86400))
            return PATHS[path][0], path, times
        # Two hashes per order feed every decision (hashing is the cost at 150k orders).
        bits, more = self.order_bits(i)
        roll = (bits & 0xFFFF) / 65536
        scheme = FBS if roll < 0.55 else RFBS if roll < 0.70 else FBO
        pick = ((bits >> 16) & 0xFFFF) / 65536
        path = next((p for limit, p in _CUMULATIVE[scheme] if pick < limit), _CUMULATIVE[scheme][-1][1])
        statuses = PATHS[path][2]
        # The first hash's upper half (unused above) decides a long hold and its length.
        held = ((bits >> 32) & 0xFFFF) / 65536 < LONG_HOLD_SHARE
        hold = LONG_HOLD_MIN + ((bits >> 48) & 0xFFFF) * (LONG_HOLD_MAX - LONG_HOLD_MIN) // 65536
        times = [created]
        for k in range(1, len(statuses)):
            at = times[-1] + 3 * 3600 + ((more >> (10 * k)) & 0x3FF) * 45 * 3600 // 1024
            if held and statuses[k - 1] in LONG_HOLD_STATUSES:
                at, held = max(at, created + hold), False  # the held status ends `hold` after creation
            times.append(at)
        return scheme, path, times

    def order_bits(self, i: int) -> tuple[int, int]:
        base = (self.seed << 40) ^ i
        return _mix(base), _mix(base ^ (1 << 39))

    def order_status(self, i: int, now_ts: int) -> tuple[int, int, str, int, int]:
        """(scheme, path, status, changed_at, step) of order i at now."""
        if i >= self.scheduled:
            self.schedule(i + 1)
        path = self.order_paths[i]
        scheme, _, statuses = PATHS[path]
        base = i * MAX_STEPS
        times = self.order_times
        step = 0
        while step + 1 < len(statuses) and times[base + step + 1] <= now_ts:
            step += 1
        return scheme, path, statuses[step], times[base + step], step

    def order_lines(self, i: int) -> list[tuple[int, int, Decimal]]:
        rng = self.world.rng("ozon", "order", i)
        lines = 1 + (rng.random() < 0.25) + (rng.random() < 0.05)
        chosen: dict[int, tuple[int, int, Decimal]] = {}
        for _ in range(lines):
            index = rng.randrange(self.product_count)
            quantity = 1 + (rng.random() < 0.2)
            chosen[index] = (index, quantity, self.world.catalog[index].base_price)
        return list(chosen.values())

    # ---- returns ----------------------------------------------------------------------------
    def order_return(self, i: int) -> tuple[str, int, list[int], tuple[str, ...]] | None:
        """(type, schema, status times, status names) of the return of order i, if it has one."""
        scheme, path, times = self.order_core(i)
        statuses = PATHS[path][2]
        final = statuses[-1]
        bits = _mix((self.seed << 40) ^ i ^ (1 << 38))
        roll = (bits & 0xFFFF) / 65536
        schema = FBO if scheme == FBO else FBS
        if final == "delivered" and roll < 0.12:
            kind, began = "ClientReturn", times[-1] + 86400 + ((bits >> 16) & 0xFFFF) * 4 * 86400 // 65536
        elif final == "cancelled" and len(statuses) > 2:  # cancelled after it left the seller
            kind, began = "Cancellation", times[-1] + 3600
        else:
            return None
        flow = RETURN_FLOWS[(kind, schema)]
        return kind, schema, [began + k * 2 * 86400 for k in range(len(flow))], flow

    def extend_returns(self, upto: int) -> None:
        for i in range(self.returns_scanned, upto):
            path = self.order_paths[i] if i < self.scheduled else self._compute_core(i)[1]
            if PATHS[path][2][-1] in {"delivered", "cancelled"} and self.order_return(i) is not None:
                self.return_orders.append(i)
        self.returns_scanned = max(self.returns_scanned, upto)

    # ---- reviews and questions --------------------------------------------------------------
    def review_time(self, k: int) -> int:
        if k < self.initial_reviews:
            return self.start_ts - (self.initial_reviews - 1 - k) * self.review_step
        return self.start_ts + (k - self.initial_reviews + 1) * NEW_REVIEW_EVERY

    def visible_reviews(self, now_ts: int) -> int:
        return self.initial_reviews + max(0, (now_ts - self.start_ts) // NEW_REVIEW_EVERY)

    def question_time(self, k: int) -> int:
        if k < self.initial_questions:
            return self.start_ts - (self.initial_questions - 1 - k) * self.question_step
        return self.start_ts + (k - self.initial_questions + 1) * NEW_QUESTION_EVERY

    def visible_questions(self, now_ts: int) -> int:
        return self.initial_questions + max(0, (now_ts - self.start_ts) // NEW_QUESTION_EVERY)

    def first_question_at_or_after(self, ts: int) -> int:
        low, high = 0, self.visible_questions(max(ts, self.start_ts)) + 1
        while low < high:  # question times are increasing: bisect without building a list
            middle = (low + high) // 2
            if self.question_time(middle) < ts:
                low = middle + 1
            else:
                high = middle
        return low

    def text_id(self, kind: int, k: int) -> str:
        return str(uuid.UUID(int=(0x0196 << 112) | (kind << 96) | ((self.seed & 0xFFFF) << 64) | k))

    def index_of_text_id(self, kind: int, text: Any) -> int | None:
        try:
            value = uuid.UUID(str(text)).int
        except ValueError:
            return None
        if value >> 112 != 0x0196 or (value >> 96) & 0xFFFF != kind or (value >> 64) & 0xFFFF != self.seed & 0xFFFF:
            return None
        return value & _MASK

    # ---- promotions -------------------------------------------------------------------------
    def eligible(self, action: int, index: int) -> bool:
        return index % len(ACTIONS) == action

    def participating(self, action: int, index: int) -> bool:
        if index in self.left.get(action, set()):
            return False
        return index in self.joined.get(action, {}) or (self.eligible(action, index) and index % 40 == action)

    def action_price(self, action: int, index: int) -> Decimal:
        if index in self.joined.get(action, {}):
            return self.joined[action][index]
        return _money(self.price_of(index)["price"] * Decimal("0.8"))

    def max_action_price(self, index: int) -> Decimal:
        return _money(self.price_of(index)["price"] * Decimal("0.85"))


def build_state(world: SandboxWorld) -> OzonState:
    config = world.config
    orders = max(1, config.orders)
    products = max(1, len(world.catalog))
    reviews = max(40, products // 2)
    questions = max(25, products // 5)
    state = OzonState(
        world=world,
        seed=config.seed,
        start_ts=_ts(config.start),
        initial_orders=orders,
        order_step=max(1, ORDER_SPAN // orders),
        new_order_every=max(1, min(NEW_ORDER_EVERY, ORDER_SPAN // orders)),
        initial_reviews=reviews,
        review_step=max(1, REVIEW_SPAN // reviews),
        initial_questions=questions,
        question_step=max(1, QUESTION_SPAN // questions),
    )
    visible = state.visible_orders(_ts(world.now))
    state.schedule(visible)
    state.extend_returns(visible)
    return state


def advance(world: SandboxWorld, state: OzonState, old: datetime, new: datetime) -> None:
    """Orders, reviews, questions and finance are functions of the clock: moving it creates
    and progresses them with change times in (old, new]. Only indexes need catching up."""
    visible = state.visible_orders(_ts(new))
    state.schedule(visible)
    state.extend_returns(visible)
    state.finance_cache.clear()


# ---------------------------------------------------------------------------------------------
# Protocol of the sandbox module: auth, faults, limits


def authenticate(world: SandboxWorld, request: SandboxRequest) -> httpx.Response | None:
    if request.path.startswith("/api/client/"):  # the Performance API (ozon_performance.py): a bearer token
        from integrations.sandbox.ozon_performance import authenticate as performance_authenticate

        return performance_authenticate(world, request)
    client_id = request.headers.get("Client-Id")
    api_key = request.headers.get("Api-Key")
    if not client_id or not api_key:
        return _error(401, 16, "Client-Id and Api-Key headers are required")
    if client_id != credentials.OZON_CLIENT_ID or api_key != credentials.OZON_API_KEY:
        return _error(403, 7, "Invalid Api-Key, please check the key and try again")
    if not world.config.ozon_premium and request.path in PREMIUM_PATHS:
        details = "" if request.path.startswith("/v1/question/") else None
        return _error(403, 7, PREMIUM_PATHS[request.path], details)
    if world.config.limits_enabled:
        return _enforce_limits(world, request)
    return None


def _enforce_limits(world: SandboxWorld, request: SandboxRequest) -> httpx.Response | None:
    state: OzonState = world.state("ozon", build_state)
    now = time.monotonic()
    buckets = [(f"{request.headers.get('Client-Id')}:all", 50, 1.0)]
    if request.path == "/v2/products/stocks":
        buckets.append((f"{request.headers.get('Client-Id')}:stocks", 80, 60.0))
    with world.lock:
        for key, limit, period in buckets:
            seen = state.request_times.setdefault(key, deque())
            while seen and seen[0] <= now - period:
                seen.popleft()
            if len(seen) >= limit:
                return rate_limited(world, request)
        for key, _, _ in buckets:
            state.request_times[key].append(now)
    return None


def rate_limited(world: SandboxWorld, request: SandboxRequest) -> httpx.Response:
    response = _error(429, 8, "You have reached request rate limit per second")
    # Ozon documents no rate-limit headers; the sandbox says how long to wait so tests can check it.
    response.headers["Retry-After"] = str(world.faults.retry_after_seconds)
    return response


def server_error(world: SandboxWorld, request: SandboxRequest) -> httpx.Response:
    return _error(500, 13, "Internal error")


def parallel_key(request: SandboxRequest) -> str | None:
    return None


def not_found(world: SandboxWorld, request: SandboxRequest) -> httpx.Response:
    if request.path in DEPRECATED_PATHS:
        return _error(410, 5, "obsolete method cannot be used")
    return _error(404, 5, "Not Found")


def _body(request: SandboxRequest) -> dict[str, Any] | httpx.Response:
    try:
        data = request.json()
    except ValueError:
        return _bad_request("Request validation error: invalid JSON")
    if data is None:
        return {}
    if not isinstance(data, dict):
        return _bad_request("Request validation error: body must be an object")
    return data


def _limit(body: dict[str, Any], default: int, low: int, high: int) -> int | httpx.Response:
    value = body.get("limit", default)
    try:
        limit = int(value)
    except (TypeError, ValueError):
        return _bad_request("Request validation error: invalid limit")
    if not low <= limit <= high:
        return _bad_request(f"Request validation error: limit must be in [{low}, {high}]")
    return limit


def _now_ts(world: SandboxWorld) -> int:
    return _ts(world.now)


# ---------------------------------------------------------------------------------------------
# Access and warehouses


def roles(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    expires = world.config.start + timedelta(days=150)
    return json_response(
        {
            "expires_at": _iso(_ts(expires)),
            "roles": [
                {"name": "Admin", "methods": ["/v3/product/list", "/v4/posting/fbs/list", "/v1/returns/list"]},
            ],
        }
    )


def warehouse_list(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    if "limit" not in body:
        return _bad_request("Request validation error: limit is required")
    limit = _limit(body, 200, 1, 200)
    if isinstance(limit, httpx.Response):
        return limit
    start = _decode_cursor(body.get("cursor"))
    if start is None:
        return _bad_request("invalid cursor")
    rows = []
    for warehouse_id, name, is_rfbs, _, _ in SELLER_WAREHOUSES[start : start + limit]:
        rows.append(
            {
                "warehouse_id": warehouse_id,
                "name": name,
                "status": "created",
                "is_rfbs": is_rfbs,
                "is_kgt": False,
                "is_express": False,
                "warehouse_type": "DELIVERY_BY_SELLER" if is_rfbs else "FULL_FILLMENT",
                "has_entrusted_acceptance": False,
                "postings_limit": -1,
                "min_postings_limit": 0,
                "working_days": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
                "address_info": {"address": f"г. {name.split()[1]}", "utc": "UTC+03:00"},
                "first_mile": {"type": "DROP_OFF", "dropoff_point_id": "", "first_mile_is_changing": False},
            }
        )
    end = start + len(rows)
    has_next = end < len(SELLER_WAREHOUSES)
    return json_response({"warehouses": rows, "cursor": _encode_cursor(end) if has_next else "", "has_next": has_next})


# ---------------------------------------------------------------------------------------------
# Products


def _product_filter(state: OzonState, body: dict[str, Any]) -> list[int] | None:
    """Indexes named by filter.offer_id / product_id / sku, or None for "all"."""
    flt = body.get("filter") or {}
    if not isinstance(flt, dict):
        return []
    for key, lookup in (("offer_id", state.index_by_offer), ("product_id", state.product_index),
                        ("sku", state.index_by_sku)):
        values = flt.get(key) or body.get(key)
        if values:
            found = {lookup(v) for v in values}
            return sorted(i for i in found if i is not None)
    return None


def _page_of_indexes(state: OzonState, chosen: list[int] | None, after: int, limit: int) -> list[int]:
    if chosen is None:
        start = after + 1
        return list(range(start, min(start + limit, state.product_count)))
    position = bisect.bisect_right(chosen, after)
    return chosen[position : position + limit]


def product_list(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    limit = _limit(body, 1000, 1, 1000)
    if isinstance(limit, httpx.Response):
        return limit
    after = state.product_index(body.get("last_id")) if body.get("last_id") else -1
    if after is None:
        return _bad_request("invalid last_id")
    chosen = _product_filter(state, body)
    indexes = _page_of_indexes(state, chosen, after, limit)
    items = [
        {
            "product_id": PRODUCT_ID_BASE + i,
            "offer_id": world.catalog[i].article,
            "archived": state.archived(i),
            "has_fbo_stocks": state.fbo_stock(i)[0] > 0,
            "has_fbs_stocks": bool(state.stocked_warehouses(i)),
            "is_discounted": False,
            "quants": [],
        }
        for i in indexes
    ]
    total = state.product_count if chosen is None else len(chosen)
    last_id = str(PRODUCT_ID_BASE + indexes[-1]) if indexes else ""
    return json_response({"result": {"items": items, "last_id": last_id, "total": total}})


def _attributes(state: OzonState, i: int) -> dict[str, Any]:
    item = state.world.catalog[i]
    images = state.images_of(i)
    return {
        "id": PRODUCT_ID_BASE + i,
        "offer_id": item.article,
        "sku": str(SKU_BASE + i),
        "name": state.name_of(i),
        "barcode": item.barcode,
        "barcodes": [item.barcode],
        "description_category_id": 17027900 + _CATEGORY_CODES.get(item.category, 0),
        "type_id": 92000 + _CATEGORY_CODES.get(item.category, 0),
        "height": 50,
        "depth": 200,
        "width": 150,
        "dimension_unit": "mm",
        "weight": item.weight_g,
        "weight_unit": "g",
        "primary_image": images[0] if images else "",
        # The spec types images as objects {file_name, default, index} (its prose says links).
        "images": [{"file_name": url, "default": n == 0, "index": n} for n, url in enumerate(images)],
        "color_image": "",
        "attributes": state.attributes_of(i),
        "complex_attributes": [],
        "attributes_with_defaults": [],
        "pdf_list": [],
        "model_info": {"model_id": 900_000 + i, "count": 1},
    }


_CATEGORY_CODES = {
    "Одежда": 1, "Посуда": 2, "Сумки": 3, "Свет": 4, "Текстиль": 5, "Спорт": 6, "Канцелярия": 7, "Дом": 8,
}


def product_attributes(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    limit = _limit(body, 1000, 1, 1000)
    if isinstance(limit, httpx.Response):
        return limit
    after = state.product_index(body.get("last_id")) if body.get("last_id") else -1
    if after is None:
        return _bad_request("invalid last_id")
    chosen = _product_filter(state, body)
    if chosen is None:  # visibility ALL: everything except archived products
        chosen = [i for i in range(state.product_count) if not state.archived(i)]
    indexes = _page_of_indexes(state, chosen, after, limit)
    last_id = str(PRODUCT_ID_BASE + indexes[-1]) if indexes and len(indexes) == limit else ""
    return json_response(
        {"result": [_attributes(state, i) for i in indexes], "last_id": last_id, "total": len(chosen)}
    )


def product_info_list(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    chosen = _product_filter(state, body) or []
    if len(chosen) > 1000:
        return _bad_request("Request validation error: no more than 1000 products")
    items = []
    created = _iso(state.start_ts - 200 * 86400)
    for i in chosen:
        item = world.catalog[i]
        price = state.price_of(i)
        failed = state.failed_moderation(i)
        errors = []
        if failed:
            errors.append(
                {
                    "attribute_id": COLOUR_ATTRIBUTE,
                    "code": "value_not_in_dictionary",
                    "field": "attribute",
                    "level": "ERROR_LEVEL_ERROR",
                    "state": "imported",
                    "texts": {
                        "attribute_name": "Цвет товара",
                        "description": "Значение отсутствует в справочнике, выберите цвет из списка",
                        "hint_code": "",
                        "message": "",
                        "params": [],
                        "short_description": "Неверный цвет",
                    },
                }
            )
        present = sum(state.present(i, w[0]) for w in state.stocked_warehouses(i))
        items.append(
            {
                "id": PRODUCT_ID_BASE + i,
                "offer_id": item.article,
                "sku": SKU_BASE + i,
                "name": state.name_of(i),
                "barcodes": [item.barcode],
                "description_category_id": 17027900 + _CATEGORY_CODES.get(item.category, 0),
                "type_id": 92000 + _CATEGORY_CODES.get(item.category, 0),
                "currency_code": "RUB",
                "price": f"{price['price']:.2f}",
                "old_price": f"{price['old_price']:.2f}",
                "min_price": f"{price['min_price']:.2f}",
                "vat": "0.2",
                "images": state.images_of(i),
                "primary_image": state.images_of(i)[:1],
                "is_archived": state.archived(i),
                "is_autoarchived": False,
                "is_discounted": False,
                "is_kgt": False,
                "is_super": False,
                "is_prepayment_allowed": True,
                "has_discounted_fbo_item": False,
                "discounted_fbo_stocks": 0,
                "statuses": {
                    "is_created": not failed,
                    "moderate_status": "declined" if failed else "approved",
                    "status": "failed_moderation" if failed else "price_sent",
                    "status_name": "Не прошёл модерацию" if failed else "Продаётся",
                    "status_description": "",
                    "status_failed": "failed_moderation" if failed else "",
                    "status_tooltip": "",
                    "status_updated_at": created,
                    "validation_status": "success",
                },
                "stocks": {
                    "has_stock": present > 0,
                    "stocks": [{"present": present, "reserved": 0, "sku": SKU_BASE + i, "source": "fbs"}],
                },
                "errors": errors,
                "commissions": _commissions(price["price"]),
                "sources": [{"created_at": created, "quant_code": "", "shipment_type": "SHIPMENT_TYPE_GENERAL",
                             "sku": SKU_BASE + i, "source": "sds"}],
                "visibility_details": {"has_price": True, "has_stock": present > 0},
                "created_at": created,
                "updated_at": created,
                "volume_weight": 0.3,
                **_info_extras(state, i, present),
            }
        )
    return json_response({"items": items})


_COLOR_INDEXES = ["COLOR_INDEX_SUPER", "COLOR_INDEX_GREEN", "COLOR_INDEX_YELLOW", "COLOR_INDEX_RED",
                  "COLOR_INDEX_WITHOUT_INDEX"]
MODEL_ID_BASE = 920_000_000
MODEL_SIZE = 3  # consecutive products of one model (the colours of one item)


def _commissions(price: Decimal) -> list[dict[str, Any]]:
    rows = []
    for schema, percent, delivery in (("FBO", 15, 63), ("FBS", 17, 76), ("RFBS", 12, 0)):
        rows.append({"sale_schema": schema, "percent": percent, "value": _money(price * percent / 100),
                     "delivery_amount": delivery, "return_amount": delivery})
    return rows


def _info_extras(state: OzonState, i: int, present: int) -> dict[str, Any]:
    """The item fields of /v3/product/info/list the adapter does not read, as the spec lists them."""
    item = state.world.catalog[i]
    price = state.price_of(i)["price"]
    hidden = state.archived(i) or state.failed_moderation(i)
    reasons = []
    if state.archived(i):
        reasons.append({"id": 2, "human_text": {"text": "Товар в архиве"}})
    elif state.failed_moderation(i):
        reasons.append({"id": 7, "human_text": {"text": "Товар не прошёл модерацию"}})
    model = i // MODEL_SIZE
    in_model = min(MODEL_SIZE, state.product_count - model * MODEL_SIZE)

    def index_data(factor: str) -> dict[str, Any]:
        return {"minimal_price": f"{_money(price * Decimal(factor)):.2f}", "minimal_price_currency": "RUB",
                "price_index_value": round(1 / float(factor), 2)}

    return {
        "availabilities": [{"availability": "hidden" if hidden else "in_stock" if present else "out_of_stock",
                            "reasons": reasons, "sku": SKU_BASE + i, "source": "sds"}],
        "color_image": [f"https://img.sandbox.prilavok.local/{item.article}/colour.jpg"] if i % 4 == 0 else [],
        "images360": ([f"https://img.sandbox.prilavok.local/{item.article}/360/{n}.jpg" for n in range(1, 4)]
                      if i % 7 == 0 else []),
        "model_info": {"model_id": MODEL_ID_BASE + model, "count": in_model},
        "price_indexes": {
            "color_index": _COLOR_INDEXES[i % len(_COLOR_INDEXES)],
            "external_index_data": index_data("0.95"),
            "ozon_index_data": index_data("0.9"),
            "self_marketplaces_index_data": index_data("1.05"),
        },
        "promotions": [{"is_enabled": i % 5 == 0, "type": "REVIEWS_PROMO"}] if i % 3 == 0 else [],
    }


def _cursor_page(state: OzonState, body: dict[str, Any]) -> tuple[list[int], str, int] | httpx.Response:
    """Cursor paging over products (v5 prices, v4 stocks): (indexes, next cursor, total)."""
    if not isinstance(body.get("filter"), dict):
        return _bad_request("Request validation error: filter is required")
    if "limit" not in body:
        return _bad_request("Request validation error: limit is required")
    limit = _limit(body, 1000, 1, 1000)
    if isinstance(limit, httpx.Response):
        return limit
    start = _decode_cursor(body.get("cursor"))
    if start is None:
        return _bad_request("invalid cursor")
    chosen = _product_filter(state, body)
    population = chosen if chosen is not None else range(state.product_count)
    indexes = list(population[start : start + limit])
    end = start + len(indexes)
    return indexes, _encode_cursor(end) if indexes else "", len(population)


def product_prices(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    page = _cursor_page(state, body)
    if isinstance(page, httpx.Response):
        return page
    indexes, cursor, total = page
    items = []
    for i in indexes:
        price = state.price_of(i)
        items.append(
            {
                "product_id": PRODUCT_ID_BASE + i,
                "offer_id": world.catalog[i].article,
                "acquiring": 0,
                "volume_weight": 0.3,
                "price": {
                    "price": price["price"],
                    "old_price": price["old_price"],
                    "min_price": price["min_price"],
                    "marketing_seller_price": price["price"],
                    "net_price": 0,
                    "retail_price": 0,
                    "currency_code": "RUB",
                    "vat": Decimal("0.2"),
                    "auto_action_enabled": False,
                },
                "commissions": {"sales_percent_fbo": 15, "sales_percent_fbs": 16, "sales_percent_rfbs": 14,
                                "sales_percent_fbp": 15, "fbo_deliv_to_customer_amount": 25,
                                "fbs_deliv_to_customer_amount": 25},
                "price_indexes": {"color_index": "WITHOUT_INDEX"},
                "marketing_actions": {"actions": [], "ozon_actions_exist": False},
            }
        )
    return json_response({"items": items, "cursor": cursor, "total": total})


def product_stocks(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    page = _cursor_page(state, body)
    if isinstance(page, httpx.Response):
        return page
    indexes, cursor, total = page
    items: list[dict[str, Any]] = []
    for i in indexes:
        sku = SKU_BASE + i
        stocks: list[dict[str, Any]] = []
        fbs = [w for w in state.stocked_warehouses(i) if not w[2]]
        rfbs = [w for w in state.stocked_warehouses(i) if w[2]]
        for kind, warehouses in (("fbs", fbs), ("rfbs", rfbs)):
            if warehouses:
                stocks.append(
                    {
                        "type": kind,
                        "present": sum(state.present(i, w[0]) for w in warehouses),
                        "reserved": sum(state.reserved(i, w[0]) for w in warehouses),
                        "sku": sku,
                        "shipment_type": "SHIPMENT_TYPE_GENERAL",
                        "warehouse_ids": [w[0] for w in warehouses],
                    }
                )
        present, reserved, fbo_ids = state.fbo_stock(i)
        if fbo_ids:
            stocks.append({"type": "fbo", "present": present, "reserved": reserved, "sku": sku,
                           "shipment_type": "SHIPMENT_TYPE_GENERAL", "warehouse_ids": fbo_ids})
        items.append({"product_id": PRODUCT_ID_BASE + i, "offer_id": world.catalog[i].article, "stocks": stocks})
    if world.faults.out_of_range_numbers:
        spoiled = next((row for item in items for row in item["stocks"] if row["type"] == "fbo"), None)
        if spoiled is not None:
            spoiled["present"] = OUT_OF_RANGE
    return json_response({"items": items, "cursor": cursor, "total": total})


def stocks_by_warehouse(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    if body.get("sku"):
        chosen = [state.index_by_sku(v) for v in body["sku"]]
    else:
        chosen = [state.index_by_offer(v) for v in body.get("offer_id") or []]
    rows = []
    for i in sorted({i for i in chosen if i is not None}):
        for warehouse_id, name, _, _, _ in state.stocked_warehouses(i):
            rows.append(
                {
                    "sku": SKU_BASE + i,
                    "offer_id": world.catalog[i].article,
                    "product_id": PRODUCT_ID_BASE + i,
                    "warehouse_id": warehouse_id,
                    "warehouse_name": name,
                    "present": state.present(i, warehouse_id),
                    "reserved": state.reserved(i, warehouse_id),
                }
            )
    return json_response({"result": rows})


# ---------------------------------------------------------------------------------------------
# Postings


def _scan(start: int, end: int, matches: Any, limit: int) -> tuple[list[int], int | None]:
    """Up to `limit` matching indexes from `start`, and the next match after them (the cursor)."""
    found: list[int] = []
    i = start
    while i < end and len(found) < limit:
        if matches(i):
            found.append(i)
        i += 1
    while i < end:
        if matches(i):
            return found, i
        i += 1
    return found, None


def _scan_among(indexes: list[int], start: int, matches: Any, limit: int) -> tuple[list[int], int | None]:
    """_scan over a sorted list of candidate indexes (a filter by numbers) instead of a range."""
    candidates = indexes[bisect.bisect_left(indexes, start):]
    found = [i for i in candidates if matches(i)]
    return found[:limit], (found[limit] if len(found) > limit else None)


def _order_numbers(i: int) -> tuple[int, str, str]:
    order_id = ORDER_ID_BASE + i * 3
    order_number = f"{ORDER_ID_BASE // 1000 + i:08d}-{i % 9000 + 1:04d}"
    return order_id, order_number, f"{order_number}-1"


def _index_of_number(number: Any, part: int) -> int | None:
    """The order index of an order number (part 1) or posting number (part 2), if it is one of ours."""
    prefix = str(number or "").split("-", 1)[0]
    if not prefix.isdigit():
        return None
    i = int(prefix) - ORDER_ID_BASE // 1000
    return i if i >= 0 and _order_numbers(i)[part] == number else None


def _numbers_filter(flt: dict[str, Any], name: str, part: int, most: int,
                    low: int, high: int) -> list[int] | httpx.Response | None:
    """Sorted indexes named by filter.<name> within [low, high); None when the filter is absent."""
    numbers = flt.get(name)
    if not numbers:
        return None
    if not isinstance(numbers, list) or len(numbers) > most:
        return _bad_request(f"Request validation error: filter.{name} takes at most {most} values")
    return sorted({i for n in numbers if (i := _index_of_number(n, part)) is not None and low <= i < high})


def _posting_products(state: OzonState, i: int) -> tuple[list[dict[str, Any]], list[Any]]:
    products = []
    financial = []
    for index, quantity, price in state.order_lines(i):
        item = state.world.catalog[index]
        row: dict[str, Any] = {
            "sku": SKU_BASE + index,
            "offer_id": item.article,
            "name": state.name_of(index),
            "quantity": quantity,
            "price": {"amount": f"{price:.6f}", "currency": "RUB"},
            "is_marketplace_buyout": False,
        }
        products.append(row)
        commission = _money(price * quantity * Decimal("0.15"))
        financial.append(
            {
                "product_id": SKU_BASE + index,
                "quantity": quantity,
                "price": price,
                "old_price": _money(price * Decimal("1.25")),
                "payout": price * quantity - commission,
                "total_discount_value": _money(price * Decimal("0.25")),
                "total_discount_percent": 20,
                "commission": {"amount": commission, "currency": "RUB", "percent": 15},
                "customer_price": {"amount": f"{price:.2f}", "currency": "RUB"},
                "actions": [],
            }
        )
    return products, financial


def _cancellation(i: int, status: str, step: int) -> dict[str, Any]:
    if status not in {"cancelled", "cancelled_from_split_pending"}:
        return {"cancel_reason_id": 0, "cancel_reason": "", "cancellation_type": "", "cancelled_after_ship": False,
                "affect_cancellation_rating": False, "cancellation_initiator": ""}
    reason_id, reason, kind, initiator = CANCEL_REASONS[i % len(CANCEL_REASONS)]
    return {"cancel_reason_id": reason_id, "cancel_reason": reason, "cancellation_type": kind,
            "cancelled_after_ship": step > 1, "affect_cancellation_rating": kind == "seller",
            "cancellation_initiator": initiator}


def _fbs_posting(state: OzonState, i: int, now_ts: int, include: dict[str, Any]) -> dict[str, Any]:
    scheme, _, status, _, step = state.order_status(i, now_ts)
    order_id, order_number, posting_number = _order_numbers(i)
    warehouse = RFBS_WAREHOUSE if scheme == RFBS else FBS_WAREHOUSES[i % len(FBS_WAREHOUSES)]
    warehouse_id, warehouse_name, _, integration, method_id = warehouse
    created = state.created(i)
    rng = state.world.rng("ozon", "order", i, "buyer")
    city = state.world.city(rng)
    products, financial = _posting_products(state, i)
    posting: dict[str, Any] = {
        "posting_number": posting_number,
        "order_id": order_id,
        "order_number": order_number,
        "status": status,
        "substatus": SUBSTATUS.get(status, ""),
        "in_process_at": _iso(created),
        "shipment_date": _iso(created + 86400),
        "shipment_date_without_delay": _iso(created + 86400),
        "tpl_integration_type": integration,
        "tracking_number": f"RFBS{order_id}" if scheme == RFBS and step >= 2 else "",
        "delivery_method": {
            "id": method_id,
            "name": "Доставка продавцом" if scheme == RFBS else "Ozon Логистика курьеру, Москва",
            "warehouse_id": warehouse_id,
            "warehouse": warehouse_name,
            "tpl_provider_id": 0 if scheme == RFBS else 24,
            "tpl_provider": "Собственная доставка" if scheme == RFBS else "Ozon Логистика",
        },
        "cancellation": _cancellation(i, status, step),
        "products": products,
        "available_actions": [],
        "is_express": False,
        "is_multibox": False,
        "multi_box_qty": 1,
        "parent_posting_number": "",
        "prr_option": "",
        "quantum_id": 0,
        "require_blr_traceable_attrs": False,
        "delivery_schema": "FBS",
        "addressee": {"name": ""},
    }
    if scheme == RFBS:
        posting["customer"] = {
            "customer_id": 77_000_000 + i,
            "name": state.world.person(rng),
            "phone": "+70000000000",
            "customer_email": "",
            "address": {"city": city, "country": "Россия", "region": city, "address_tail": "ул. Ленина, д. 1",
                        "zip_code": "101000", "comment": "", "district": "", "provider_pvz_code": "", "pvz_code": 0},
        }
    if include.get("analytics_data"):
        posting["analytics_data"] = {
            "city": city,
            "region": city,
            "delivery_type": "Courier",
            "is_premium": i % 9 == 0,
            "is_legal": False,
            "payment_type_group_name": "Карты оплаты",
            "warehouse_id": warehouse_id,
            "warehouse": warehouse_name,
            "tpl_provider_id": 24,
            "tpl_provider": "Ozon Логистика",
            "delivery_date_begin": _iso(created + 2 * 86400),
            "delivery_date_end": _iso(created + 4 * 86400),
        }
    if include.get("financial_data"):
        posting["financial_data"] = {"products": financial, "cluster_from": "Москва", "cluster_to": city}
    if include.get("barcodes"):
        posting["barcodes"] = {"upper_barcode": f"%{order_id}%", "lower_barcode": f"{order_id}0001"}
    return posting


def _fbo_posting(state: OzonState, i: int, now_ts: int, include: dict[str, Any]) -> dict[str, Any]:
    _, _, status, _, step = state.order_status(i, now_ts)
    order_id, order_number, posting_number = _order_numbers(i)
    warehouse_id, warehouse_name = FBO_WAREHOUSES[i % len(FBO_WAREHOUSES)]
    created = state.created(i)
    rng = state.world.rng("ozon", "order", i, "buyer")
    products, financial = _posting_products(state, i)
    for product in products:
        product["digital_codes"] = []
    cancellation = _cancellation(i, status, step)
    posting: dict[str, Any] = {
        "posting_number": posting_number,
        "order_id": order_id,
        "order_number": order_number,
        "status": status,
        "substatus": SUBSTATUS.get(status, ""),
        "created_at": _iso(created),
        "in_process_at": _iso(created),
        "cancel_reason_id": cancellation["cancel_reason_id"],
        "cancellation": {k: cancellation[k] for k in ("cancel_reason", "cancellation_type", "cancellation_initiator")},
        "products": products,
        "additional_data": [],
    }
    if include.get("analytics_data"):
        posting["analytics_data"] = {
            "city": state.world.city(rng),
            "delivery_type": "PVZ",
            "is_premium": False,
            "is_legal": False,
            "payment_type_group_name": "Карты оплаты",
            "warehouse_id": warehouse_id,
            "warehouse_name": warehouse_name,
        }
    if include.get("financial_data"):
        for row in financial:
            row.pop("customer_price", None)
            row.pop("quantity", None)
        posting["financial_data"] = {"products": financial, "cluster_from": warehouse_name, "cluster_to": "Москва"}
    return posting


def _posting_window(state: OzonState, flt: dict[str, Any], now_ts: int,
                    required: bool) -> tuple[int, int] | httpx.Response:
    since, to = _parse_time(flt.get("since")), _parse_time(flt.get("to"))
    if required and (since is None or to is None):
        return _bad_request("Request validation error: filter.since and filter.to are required")
    since = since if since is not None else 0
    to = to if to is not None else now_ts
    if to - since > 366 * 86400:
        return _bad_request("PERIOD_IS_TOO_LONG")
    low = state.first_order_at_or_after(since)
    high = min(state.visible_orders(now_ts), state.first_order_at_or_after(to + 1))
    return low, high


def fbs_list(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    flt = body.get("filter")
    if not isinstance(flt, dict):
        return _bad_request("Request validation error: filter is required")
    limit = _limit(body, 0, 1, 100)
    if isinstance(limit, httpx.Response):
        return limit
    now_ts = _now_ts(world)
    window = _posting_window(state, flt, now_ts, required=True)
    if isinstance(window, httpx.Response):
        return window
    low, high = window
    start = _decode_cursor(body.get("cursor"))
    if start is None:
        return _bad_request("invalid cursor")
    changed = flt.get("last_changed_status_date") or {}
    changed_from = _parse_time(changed.get("from"))
    changed_to = _parse_time(changed.get("to"))
    statuses = set(flt.get("statuses") or [])
    warehouses = {int(w) for w in flt.get("warehouse_ids") or []}
    named = _numbers_filter(flt, "order_numbers", 1, 100, low, high)
    if isinstance(named, httpx.Response):
        return named

    def matches(i: int) -> bool:
        scheme, _, status, at, _ = state.order_status(i, now_ts)
        if scheme == FBO:
            return False
        if (changed_from is not None and at < changed_from) or (changed_to is not None and at > changed_to):
            return False
        if statuses and status not in statuses:
            return False
        warehouse = RFBS_WAREHOUSE if scheme == RFBS else FBS_WAREHOUSES[i % len(FBS_WAREHOUSES)]
        return not warehouses or warehouse[0] in warehouses

    if named is None:
        found, following = _scan(max(low, start), high, matches, limit)
    else:
        found, following = _scan_among(named, start, matches, limit)
    include = body.get("with") or {}
    postings = [_fbs_posting(state, i, now_ts, include) for i in found]
    has_next = following is not None
    return json_response({"postings": postings, "has_next": has_next,
                          "cursor": _encode_cursor(following) if following is not None else ""})


def fbo_list(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    flt = body.get("filter") or {}
    limit = _limit(body, 100, 1, 100)
    if isinstance(limit, httpx.Response):
        return limit
    now_ts = _now_ts(world)
    window = _posting_window(state, flt, now_ts, required=False)
    if isinstance(window, httpx.Response):
        return window
    low, high = window
    start = _decode_cursor(body.get("cursor"))
    if start is None:
        return _bad_request("invalid cursor")
    statuses = set(flt.get("statuses") or [])
    named: list[int] | None = None
    for name, part in (("posting_numbers", 2), ("order_numbers", 1)):
        chosen = _numbers_filter(flt, name, part, 1000, low, high)
        if isinstance(chosen, httpx.Response):
            return chosen
        if chosen is not None:
            named = chosen if named is None else sorted(set(named) & set(chosen))

    def matches(i: int) -> bool:
        scheme, _, status, _, _ = state.order_status(i, now_ts)
        return scheme == FBO and (not statuses or status in statuses)

    if named is None:
        found, following = _scan(max(low, start), high, matches, limit)
    else:
        found, following = _scan_among(named, start, matches, limit)
    include = body.get("with") or {}
    postings = [_fbo_posting(state, i, now_ts, include) for i in found]
    return json_response({"postings": postings, "has_next": following is not None,
                          "cursor": _encode_cursor(following) if following is not None else ""})


def _posting_to_get(world: SandboxWorld, state: OzonState, request: SandboxRequest,
                    fbo: bool) -> tuple[int, dict[str, Any]] | httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    number = body.get("posting_number")
    if not number or not isinstance(number, str):
        return _bad_request("Request validation error: posting_number is required")
    i = _index_of_number(number, 2)
    if i is None or i >= state.visible_orders(_now_ts(world)) or (state.order_core(i)[0] == FBO) != fbo:
        return _error(404, 5, "POSTING_NOT_FOUND")
    return i, body.get("with") or {}


def _detail(posting: dict[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    """A list-shaped posting in the detail shape of the get methods (v3FbsPostingDetail,
    v2FboPosting): prices as strings beside currency_code, commissions as plain numbers."""
    detail = {key: value for key, value in posting.items() if key not in drop}
    detail["products"] = [
        {**{k: v for k, v in p.items() if k != "price"}, "price": f"{Decimal(p['price']['amount']):.2f}",
         "currency_code": p["price"]["currency"]}
        for p in posting["products"]
    ]
    financial = posting.get("financial_data")
    if financial:
        rows = []
        for row in financial["products"]:
            commission = row["commission"]
            detail_row = {k: v for k, v in row.items() if k not in {"commission", "customer_price"}}
            detail_row.update({"commission_amount": commission["amount"], "commission_percent": commission["percent"],
                               "commissions_currency_code": commission["currency"], "currency_code": "RUB"})
            if "customer_price" in row:
                detail_row["customer_price"] = Decimal(row["customer_price"]["amount"])
                detail_row["customer_currency_code"] = row["customer_price"]["currency"]
            rows.append(detail_row)
        detail["financial_data"] = {**financial, "products": rows}
    return detail


def fbs_get(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    found = _posting_to_get(world, state, request, fbo=False)
    if isinstance(found, httpx.Response):
        return found
    i, include = found
    posting = _fbs_posting(state, i, _now_ts(world), include)
    if "customer" in posting:
        posting["customer"] = {**posting["customer"]}
        posting["customer"].pop("customer_email", None)
    return json_response({"result": _detail(posting, ("prr_option", "quantum_id", "delivery_schema"))})


def fbo_get(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    found = _posting_to_get(world, state, request, fbo=True)
    if isinstance(found, httpx.Response):
        return found
    i, include = found
    posting = _fbo_posting(state, i, _now_ts(world), include)
    return json_response({"result": _detail(posting, ("cancellation",))})


# ---------------------------------------------------------------------------------------------
# Returns


def _return_row(state: OzonState, i: int, now_ts: int) -> dict[str, Any] | None:
    info = state.order_return(i)
    if info is None:
        return None
    kind, schema, times, flow = info
    if times[0] > now_ts:
        return None
    step = bisect.bisect_right(times, now_ts) - 1
    status = flow[step]
    status_id, display = RETURN_STATUS_NAMES[status]
    order_id, order_number, posting_number = _order_numbers(i)
    index, _, price = state.order_lines(i)[0]
    item = state.world.catalog[index]
    commission = _money(price * Decimal("0.15"))
    place = FBO_WAREHOUSES[i % len(FBO_WAREHOUSES)] if schema == FBO else SELLER_WAREHOUSES[i % 2][:2]
    return {
        "id": RETURN_ID_BASE + i,
        "company_id": int(credentials.OZON_CLIENT_ID),
        "return_reason_name": RETURN_REASONS[i % len(RETURN_REASONS)] if kind != "Cancellation" else "Отмена заказа",
        "type": kind,
        "schema": "FBO" if schema == FBO else "FBS",
        "order_id": order_id,
        "order_number": order_number,
        "posting_number": posting_number,
        "place": {"id": place[0], "name": place[1], "address": ""},
        "target_place": {"id": place[0], "name": place[1], "address": ""},
        "product": {
            "sku": SKU_BASE + index,
            "offer_id": item.article,
            "name": state.name_of(index),
            "quantity": 1,
            "price": {"currency_code": "RUB", "price": price},
            "price_without_commission": {"currency_code": "RUB", "price": price - commission},
            "commission_percent": 15,
            "commission": {"currency_code": "RUB", "price": commission},
        },
        "logistic": {
            "return_date": _iso(times[0]),
            "technical_return_moment": _iso(times[0]),
            "final_moment": _iso(times[-1]) if step == len(times) - 1 else _iso(0),
            "cancelled_with_compensation_moment": _iso(0),
            "barcode": f"ii{RETURN_ID_BASE + i}",
        },
        "visual": {
            "status": {"id": status_id, "display_name": display, "sys_name": status},
            "change_moment": _iso(times[step]),
        },
        "exemplars": [{"id": 90_000_000 + i}],
        "additional_info": {"is_opened": False, "is_super_econom": False},
        "source_id": 0,
        "clearing_id": 0,
        "return_clearing_id": 0,
    }


def returns_list(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    if "limit" not in body:
        return _bad_request("Request validation error: limit is required")
    limit = _limit(body, 500, 1, 500)
    if isinstance(limit, httpx.Response):
        return limit
    flt = body.get("filter") or {}
    ranges = [k for k in ("logistic_return_date", "storage_tariffication_start_date", "visual_status_change_moment")
              if flt.get(k)]
    if len(ranges) > 1:
        return _bad_request("use only one of the date filters")
    now_ts = _now_ts(world)
    state.extend_returns(state.visible_orders(now_ts))
    time_range: dict[str, Any] = (flt.get(ranges[0]) or {}) if ranges else {}
    low, high = _parse_time(time_range.get("time_from")), _parse_time(time_range.get("time_to"))
    last_order = int(body.get("last_id") or 0) - RETURN_ID_BASE if body.get("last_id") else -1
    position = bisect.bisect_right(state.return_orders, last_order)
    rows: list[dict[str, Any]] = []
    has_next = False
    while position < len(state.return_orders):
        row = _return_row(state, state.return_orders[position], now_ts)
        position += 1
        if row is None:
            continue
        moment = _parse_time(row["visual"]["change_moment"] if ranges != ["logistic_return_date"]
                             else row["logistic"]["return_date"]) or 0
        if (low is not None and moment < low) or (high is not None and moment > high):
            continue
        if len(rows) == limit:
            has_next = True
            break
        rows.append(row)
    return json_response({"returns": rows, "has_next": has_next})


# ---------------------------------------------------------------------------------------------
# Reviews and questions


def _review(state: OzonState, k: int) -> dict[str, Any]:
    rng = state.world.rng("ozon", "review", k)
    rating, text = state.world.review_text(rng)
    index = rng.randrange(state.product_count)
    comments = state.review_comments.get(k, 1 if state.u(k, 5) < 0.4 else 0)
    if state.world.faults.nul_in_texts and k % 5 == 0:
        text = text.replace(" ", " \x00", 1)
    return {
        "id": state.text_id(1, k),
        "sku": SKU_BASE + index,
        "rating": rating,
        "text": text,
        "status": "PROCESSED" if comments else "UNPROCESSED",
        "order_status": "DELIVERED",
        "published_at": _iso(state.review_time(k)),
        "comments_amount": comments,
        "photos_amount": 1 if rng.random() < 0.2 else 0,
        "videos_amount": 0,
        "is_rating_participant": True,
    }


def review_list(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    if "limit" not in body:
        return _bad_request("Request validation error: limit is required")
    limit = _limit(body, 100, 20, 100)
    if isinstance(limit, httpx.Response):
        return limit
    visible = state.visible_reviews(_now_ts(world))
    descending = str(body.get("sort_dir", "DESC")).upper() != "ASC"
    wanted = str(body.get("status") or "ALL").upper()
    if body.get("last_id"):
        last = state.index_of_text_id(1, body["last_id"])
        if last is None:
            return _bad_request("invalid last_id")
        k = last - 1 if descending else last + 1
    else:
        k = visible - 1 if descending else 0
    rows: list[dict[str, Any]] = []
    step = -1 if descending else 1
    has_next = False
    while 0 <= k < visible:
        row = _review(state, k)
        k += step
        if wanted != "ALL" and row["status"] != wanted:
            continue
        if len(rows) == limit:
            has_next = True
            break
        rows.append(row)
    return json_response({"reviews": rows, "has_next": has_next, "last_id": rows[-1]["id"] if rows else ""})


def review_comment_create(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    text = str(body.get("text") or "").strip()
    if not body.get("review_id") or not text:
        return _bad_request("Request validation error: review_id and text are required")
    k = state.index_of_text_id(1, body["review_id"])
    if k is None or k >= state.visible_reviews(_now_ts(world)):
        return _error(404, 5, "review not found")
    current = state.review_comments.get(k, 1 if state.u(k, 5) < 0.4 else 0)
    state.review_comments[k] = current + 1
    comment_id = str(uuid.UUID(int=(0x0197 << 112) | (k << 16) | (current + 1)))
    return json_response({"comment_id": comment_id})


def _question(state: OzonState, k: int) -> dict[str, Any]:
    rng = state.world.rng("ozon", "question", k)
    index = rng.randrange(state.product_count)
    answers = state.question_answers.get(k, 1 if state.u(k, 6) < 0.3 else 0)
    status = "PROCESSED" if answers else ("NEW" if state.u(k, 7) < 0.5 else "VIEWED")
    return {
        "id": state.text_id(2, k),
        "sku": SKU_BASE + index,
        "text": state.world.question_text(rng),
        "author_name": state.world.person(rng),
        "status": status,
        "published_at": _iso(state.question_time(k)),
        "answers_count": answers,
        "product_url": f"https://www.ozon.ru/product/{SKU_BASE + index}/",
        "question_link": f"https://www.ozon.ru/product/{SKU_BASE + index}/questions/",
    }


def question_list(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    limit = _limit(body, 100, 1, 100)
    if isinstance(limit, httpx.Response):
        return limit
    limit = min(limit, QUESTIONS_PER_PAGE)
    flt = body.get("filter") or {}
    now_ts = _now_ts(world)
    visible = state.visible_questions(now_ts)
    date_from, date_to = _parse_time(flt.get("date_from")), _parse_time(flt.get("date_to"))
    wanted = str(flt.get("status") or "ALL").upper()
    descending = str(body.get("sort_dir", "DESC")).upper() == "DESC"
    low = state.first_question_at_or_after(date_from) if date_from is not None else 0
    high = min(visible, state.first_question_at_or_after(date_to + 1)) if date_to is not None else visible
    if body.get("last_id"):
        last = state.index_of_text_id(2, body["last_id"])
        if last is None:
            return _question_error(400, 3, "invalid last_id")
        k = last - 1 if descending else last + 1
    else:
        k = high - 1 if descending else low
    rows: list[dict[str, Any]] = []
    has_next = False
    step = -1 if descending else 1
    while low <= k < high:
        row = _question(state, k)
        k += step
        if wanted not in {"ALL", row["status"]} and not (wanted == "UNPROCESSED" and row["status"] != "PROCESSED"):
            continue
        if len(rows) == limit:
            has_next = True
            break
        rows.append(row)
    return json_response({"questions": rows, "has_next": has_next, "last_id": rows[-1]["id"] if rows else ""})


def question_answer_create(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    text = str(body.get("text") or "")
    if not body.get("question_id") or body.get("sku") in (None, "") or not text:
        return _question_error(400, 3, "Request validation error: question_id, sku and text are required")
    if not 2 <= len(text) <= 3000:
        return _question_error(400, 3, "Answer text must be from 2 to 3000 characters long")
    k = state.index_of_text_id(2, body["question_id"])
    if k is None or k >= state.visible_questions(_now_ts(world)):
        return _question_error(404, 5, "question not found")
    question = _question(state, k)
    if str(question["sku"]) != str(body["sku"]):
        return _question_error(400, 3, "sku does not match the question")
    answers = state.question_answers.get(k, question["answers_count"]) + 1
    state.question_answers[k] = answers
    return json_response({"answer_id": str(uuid.UUID(int=(0x0198 << 112) | (k << 16) | answers))})


# ---------------------------------------------------------------------------------------------
# Promotions


def _action_index(value: Any) -> int | None:
    try:
        action_id = int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
    for index, action in enumerate(ACTIONS):
        if action[0] == action_id:
            return index
    return None


def _action_counts(state: OzonState, a: int) -> tuple[int, int]:
    eligible = len(range(a, state.product_count, len(ACTIONS)))
    participating = sum(1 for i in range(a, state.product_count, 40) if state.participating(a, i))
    participating += sum(1 for i in state.joined.get(a, {}) if i % 40 != a and state.participating(a, i))
    return eligible, participating


def actions(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    rows = []
    for a, (action_id, title, kind, start_days, end_days, discount_type, discount) in enumerate(ACTIONS):
        eligible, participating = _action_counts(state, a)
        rows.append(
            {
                "id": action_id,
                "title": title,
                "action_type": kind,
                "description": f"{title}. Скидка до {discount}% для покупателей Ozon.",
                "date_start": _iso(state.start_ts + start_days * 86400),
                "date_end": _iso(state.start_ts + end_days * 86400),
                "freeze_date": "",
                "potential_products_count": eligible - participating,
                "participating_products_count": participating,
                "is_participating": participating > 0,
                "is_voucher_action": False,
                "banned_products_count": 0,
                "with_targeting": False,
                "order_amount": 0,
                "discount_type": discount_type,
                "discount_value": discount,
            }
        )
    return json_response({"result": rows})


def _action_products(
    world: SandboxWorld, state: OzonState, request: SandboxRequest, participating: bool
) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    a = _action_index(body.get("action_id"))
    if a is None:
        return _error(404, 5, "action not found")
    limit = _limit({"limit": int(Decimal(str(body.get("limit") or 100)))}, 100, 1, 1000)
    if isinstance(limit, httpx.Response):
        return limit
    after = state.product_index(int(Decimal(str(body["last_id"])))) if body.get("last_id") else -1
    after = -1 if after is None else after
    first = after + 1 + ((a - after - 1) % len(ACTIONS))
    rows: list[dict[str, Any]] = []
    for i in range(first, state.product_count, len(ACTIONS)):
        if state.participating(a, i) != participating:
            continue
        price = state.price_of(i)["price"]
        rows.append(
            {
                "id": PRODUCT_ID_BASE + i,
                "price": price,
                "action_price": state.action_price(a, i) if participating else 0,
                "max_action_price": state.max_action_price(i),
                "alert_max_action_price_failed": False,
                "alert_max_action_price": state.max_action_price(i),
                "add_mode": "MANUAL" if participating else "NOT_SET",
                "min_stock": 0,
                "stock": 0,
                "current_boost": 0,
                "min_boost": 0,
                "max_boost": 0,
                "price_min_elastic": 0,
                "price_max_elastic": 0,
            }
        )
        if len(rows) == limit:
            break
    eligible, joined = _action_counts(state, a)
    total = joined if participating else eligible - joined
    last_id = rows[-1]["id"] if rows else 0
    return json_response({"result": {"products": rows, "total": total, "last_id": last_id}})


def action_candidates(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    return _action_products(world, state, request, participating=False)


def action_products(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    return _action_products(world, state, request, participating=True)


def action_activate(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    a = _action_index(body.get("action_id"))
    if a is None:
        return _error(404, 5, "action not found")
    products = body.get("products")
    if not isinstance(products, list) or not products or len(products) > 1000:
        return _bad_request("Request validation error: products must hold 1 to 1000 items")
    done, rejected = [], []
    for product in products:
        product_id = product.get("product_id")
        i = state.product_index(int(Decimal(str(product_id)))) if product_id is not None else None
        try:
            price = Decimal(str(product.get("action_price")))
        except InvalidOperation:
            price = Decimal(-1)
        reason = ""
        if i is None or not state.eligible(a, i):
            reason = "Товар не может участвовать в этой акции"
        elif world.catalog[i].article in world.faults.reject_offer_ids:
            reason = "Товар заблокирован для участия в акциях: нарушены правила ценообразования"
        elif price <= 0 or price > state.max_action_price(i):
            reason = f"Цена по акции должна быть не больше {state.max_action_price(i)} ₽"
        if reason:
            rejected.append({"product_id": product_id, "reason": reason})
            continue
        assert i is not None
        state.left.get(a, set()).discard(i)
        state.joined.setdefault(a, {})[i] = _money(price)
        done.append(product_id)
    return json_response({"result": {"product_ids": done, "rejected": rejected}})


def action_deactivate(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    a = _action_index(body.get("action_id"))
    if a is None:
        return _error(404, 5, "action not found")
    product_ids = body.get("product_ids")
    if not isinstance(product_ids, list) or not product_ids:
        return _bad_request("Request validation error: product_ids is required")
    done, rejected = [], []
    for product_id in product_ids:
        i = state.product_index(int(Decimal(str(product_id))))
        if i is None or not state.participating(a, i):
            rejected.append({"product_id": product_id, "reason": "Товар не участвует в акции"})
            continue
        state.joined.get(a, {}).pop(i, None)
        state.left.setdefault(a, set()).add(i)
        done.append(product_id)
    return json_response({"result": {"product_ids": done, "rejected": rejected}})


# ---------------------------------------------------------------------------------------------
# Finance


def _finance_ops(state: OzonState, low: int, high: int, now_ts: int) -> list[tuple[int, int, dict[str, Any]]]:
    """Operations dated in [low, high], sorted by (date, id); cached per window and clock."""
    key = (low, high, now_ts)
    cached = state.finance_cache.get(key)
    if cached is not None:
        return cached
    upper = min(high, now_ts)
    ops: list[tuple[int, int, dict[str, Any]]] = []
    first = state.first_order_at_or_after(low - USUAL_ORDER_LIFE)
    last = min(state.visible_orders(now_ts), state.first_order_at_or_after(upper + 1))
    state.schedule(last)
    # Orders created earlier reach the window only through a long hold: take those from their list.
    held_from = bisect.bisect_left(state.long_lived, state.first_order_at_or_after(low - LONGEST_ORDER_LIFE))
    held = state.long_lived[held_from : bisect.bisect_left(state.long_lived, first)]
    for i in [*held, *range(first, last)]:
        scheme, path, times = state.order_core(i)
        statuses = PATHS[path][2]
        if statuses[-1] == "delivered" and low <= times[-1] <= upper:
            ops.extend(_delivery_ops(state, i, scheme, times[-1]))
        info = state.order_return(i)
        if info and info[0] == "ClientReturn" and low <= info[2][0] <= upper:
            ops.append(_return_op(state, i, scheme, info[2][0]))
    day = 86400
    for day_start in range((max(low, state.start_ts - ORDER_SPAN) + day - 1) // day * day, upper + 1, day):
        ops.append(_storage_op(state, day_start))
    ops.sort(key=lambda op: (op[0], op[1]))
    if len(state.finance_cache) > 16:
        state.finance_cache.clear()
    state.finance_cache[key] = ops
    return ops


def _posting_block(i: int, scheme: int, created: int) -> dict[str, Any]:
    _, _, posting_number = _order_numbers(i)
    warehouse = FBO_WAREHOUSES[i % len(FBO_WAREHOUSES)][0] if scheme == FBO else SELLER_WAREHOUSES[i % 2][0]
    schema = {FBS: "FBS", RFBS: "RFBS", FBO: "FBO"}[scheme]
    return {"delivery_schema": schema, "order_date": _finance_date(created), "posting_number": posting_number,
            "warehouse_id": warehouse}


def _finance_date(ts: int) -> str:
    return iso_seconds(ts, sep=" ")


def _delivery_ops(state: OzonState, i: int, scheme: int, at: int) -> list[tuple[int, int, dict[str, Any]]]:
    lines = state.order_lines(i)
    sale = sum((price * quantity for _, quantity, price in lines), Decimal(0))
    commission = -_money(sale * Decimal("0.15"))
    logistic = -_money(Decimal(63) + sale * Decimal("0.02"))
    last_mile = -_money(sale * Decimal("0.055"))
    services = [
        {"name": "MarketplaceServiceItemDirectFlowLogistic", "price": logistic},
        {"name": "MarketplaceServiceItemDelivToCustomer", "price": last_mile},
    ]
    items = [{"name": state.name_of(index), "sku": SKU_BASE + index} for index, _, _ in lines]
    op_id = OPERATION_ID_BASE + i * 4
    delivered = {
        "operation_id": op_id,
        "operation_type": "OperationAgentDeliveredToCustomer",
        "operation_type_name": "Доставка покупателю",
        "operation_date": _finance_date(at),
        "amount": sale + commission + logistic + last_mile,
        "accruals_for_sale": sale,
        "sale_commission": commission,
        "delivery_charge": 0,
        "return_delivery_charge": 0,
        "type": "orders",
        "posting": _posting_block(i, scheme, state.created(i)),
        "items": items,
        "services": services,
    }
    acquiring = -_money(sale * Decimal("0.015"))
    acquiring_op = {
        "operation_id": op_id + 2,
        "operation_type": "MarketplaceRedistributionOfAcquiringOperation",
        "operation_type_name": "Оплата эквайринга",
        "operation_date": _finance_date(at),
        "amount": acquiring,
        "accruals_for_sale": 0,
        "sale_commission": 0,
        "delivery_charge": 0,
        "return_delivery_charge": 0,
        "type": "other",
        "posting": _posting_block(i, scheme, state.created(i)),
        "items": items,
        "services": [{"name": "MarketplaceRedistributionOfAcquiringOperation", "price": acquiring}],
    }
    return [(at, op_id, delivered), (at, op_id + 2, acquiring_op)]


def _return_op(state: OzonState, i: int, scheme: int, at: int) -> tuple[int, int, dict[str, Any]]:
    index, _, price = state.order_lines(i)[0]
    commission = _money(price * Decimal("0.15"))
    reverse = -_money(Decimal(50))
    op_id = OPERATION_ID_BASE + i * 4 + 1
    return at, op_id, {
        "operation_id": op_id,
        "operation_type": "ClientReturnAgentOperation",
        "operation_type_name": "Получение возврата, отмены, невыкупа от покупателя",
        "operation_date": _finance_date(at),
        "amount": -price + commission + reverse,
        "accruals_for_sale": -price,
        "sale_commission": commission,
        "delivery_charge": 0,
        "return_delivery_charge": 0,
        "type": "returns",
        "posting": _posting_block(i, scheme, state.created(i)),
        "items": [{"name": state.name_of(index), "sku": SKU_BASE + index}],
        "services": [{"name": "MarketplaceServiceItemReturnFlowLogistic", "price": reverse}],
    }


def _storage_op(state: OzonState, day_start: int) -> tuple[int, int, dict[str, Any]]:
    amount = -_money(Decimal(state.product_count) * Decimal("0.37"))
    op_id = STORAGE_OPERATION_BASE + day_start // 86400
    return day_start, op_id, {
        "operation_id": op_id,
        "operation_type": "OperationMarketplaceServiceStorage",
        "operation_type_name": "Услуга размещения товаров на складе",
        "operation_date": _finance_date(day_start),
        "amount": amount,
        "accruals_for_sale": 0,
        "sale_commission": 0,
        "delivery_charge": 0,
        "return_delivery_charge": 0,
        "type": "services",
        "posting": {"delivery_schema": "", "order_date": "", "posting_number": "", "warehouse_id": 0},
        "items": [],
        "services": [{"name": "MarketplaceServiceStorage", "price": amount}],
    }


def finance_list(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    if "page" not in body or "page_size" not in body:
        return _bad_request("Request validation error: page and page_size are required")
    page, size = int(body["page"]), int(body["page_size"])
    if page < 1 or not 1 <= size <= 1000:
        return _bad_request("Request validation error: page >= 1, page_size in [1, 1000]")
    flt = body.get("filter") or {}
    date = flt.get("date") or {}
    low, high = _parse_time(date.get("from")), _parse_time(date.get("to"))
    if low is None or high is None:
        return _bad_request("Request validation error: filter.date.from and filter.date.to are required")
    if high - low > 32 * 86400:
        return _bad_request("The maximum period for which you can get information in one request is 1 month")
    operations = _finance_ops(state, low, high, _now_ts(world))
    kind = flt.get("transaction_type") or "all"
    if kind != "all":
        operations = [op for op in operations if op[2]["type"] == kind]
    rows = [op[2] for op in operations[(page - 1) * size : page * size]]
    page_count = -(-len(operations) // size)
    return json_response({"result": {"operations": rows, "page_count": page_count, "row_count": len(operations)}})


# ---------------------------------------------------------------------------------------------
# Writes


def import_prices(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    prices = body.get("prices")
    if not isinstance(prices, list) or not prices:
        return _bad_request("Request validation error: prices is required")
    if len(prices) > 1000:
        return _bad_request("Request validation error: no more than 1000 prices in one request")
    now_ts = _now_ts(world)
    results = []
    for row in prices:
        offer_id = row.get("offer_id") or ""
        i = state.index_by_offer(offer_id) if offer_id else state.product_index(row.get("product_id"))
        errors: list[dict[str, str]] = []
        current = state.price_of(i) if i is not None else {}
        old_sent = row.get("old_price") not in (None, "")
        try:
            price = Decimal(str(row.get("price")))
            old = Decimal(str(row["old_price"])) if old_sent else current.get("old_price")
            minimum = Decimal(str(row["min_price"])) if row.get("min_price") not in (None, "") else None
        except InvalidOperation:
            price, old, minimum = Decimal(-1), None, None
        if not old_sent and old and old <= price:
            old = Decimal(0)  # a strikethrough price below the new price is dropped
        if i is None:
            errors.append({"code": "NOT_FOUND", "message": "Товар не найден"})
        elif world.catalog[i].article in world.faults.reject_offer_ids:
            errors.append({"code": "PRICE_CHANGE_BLOCKED",
                           "message": "Цена не обновлена: товар участвует в акции с фиксированной ценой"})
        elif price <= 0:
            errors.append({"code": "INVALID_PRICE", "message": "Цена должна быть больше нуля"})
        elif old and old <= price:
            errors.append({"code": "OLD_PRICE_LESS_THAN_PRICE",
                           "message": "Цена до скидки должна быть больше цены со скидкой"})
        elif _price_writes_in_last_hour(state, i, now_ts) >= PRICE_WRITES_PER_HOUR:
            errors.append({"code": "TOO_MANY_REQUESTS",
                           "message": "error limiting: acquire limit per item: items limit: limit exceeded"})
        if not errors and i is not None:
            state.price_written_at.setdefault(i, deque(maxlen=PRICE_WRITES_PER_HOUR)).append(now_ts)
            state.prices[i] = {
                "price": price,
                "old_price": old or Decimal(0),
                "min_price": minimum if minimum is not None else current["min_price"],
            }
        results.append({
            "offer_id": world.catalog[i].article if i is not None else offer_id,
            "product_id": PRODUCT_ID_BASE + i if i is not None else 0,
            "updated": not errors,
            "errors": errors,
        })
    return json_response({"result": results})


def _price_writes_in_last_hour(state: OzonState, i: int, now_ts: int) -> int:
    return sum(1 for at in state.price_written_at.get(i, ()) if at > now_ts - 3600)


def update_stocks(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    stocks = body.get("stocks")
    if not isinstance(stocks, list) or not stocks:
        return _bad_request("Request validation error: stocks is required")
    if len(stocks) > 100:
        return _bad_request("Request validation error: no more than 100 product-warehouse pairs")
    seller = {w[0]: w for w in SELLER_WAREHOUSES}
    now_ts = _now_ts(world)
    results = []
    for row in stocks:
        if row.get("warehouse_id") in (None, "", 0):
            return _bad_request(
                "Request validation error: invalid ProductsStocksRequest.Stocks[0]: embedded message failed validation"
            )
        offer_id = row.get("offer_id") or ""
        i = state.index_by_offer(offer_id) if offer_id else state.product_index(row.get("product_id"))
        warehouse_id = int(row["warehouse_id"])
        errors: list[dict[str, str]] = []
        quantity = int(row.get("stock", -1))
        if i is None:
            errors.append({"code": "offer_id_not_found", "message": "Товар с таким артикулом не найден"})
        elif warehouse_id not in seller:
            errors.append({"code": "WAREHOUSE_NOT_FOUND", "message": f"Склад {warehouse_id} не найден"})
        elif world.catalog[i].article in world.faults.reject_offer_ids:
            errors.append({"code": "PRODUCT_IS_NOT_CREATED",
                           "message": "Товар не прошёл модерацию, обновить остаток пока нельзя"})
        elif quantity < 0:
            errors.append({"code": "INVALID_STOCK", "message": "Остаток не может быть отрицательным"})
        elif quantity >= 1_000_000:
            errors.append({"code": "STOCK_TOO_BIG", "message": "Остаток должен быть меньше 1 000 000"})
        elif now_ts - state.stock_written_at.get((i, warehouse_id), -10**9) < STOCK_WRITE_EVERY:
            errors.append({"code": "TOO_MANY_REQUESTS",
                           "message": "Остаток одного товара на складе можно обновлять не чаще раза в 30 секунд"})
        if not errors and i is not None:
            state.stocks[(i, warehouse_id)] = quantity
            state.stock_written_at[(i, warehouse_id)] = now_ts
        results.append({
            "offer_id": world.catalog[i].article if i is not None else offer_id,
            "product_id": PRODUCT_ID_BASE + i if i is not None else 0,
            "warehouse_id": warehouse_id,
            "updated": not errors,
            "errors": errors,
        })
    return json_response({"result": results})


def attributes_update(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    items = body.get("items")
    if not isinstance(items, list) or not items:
        return _bad_request("Request validation error: items is required")
    outcome = []
    for item in items:
        offer_id = str(item.get("offer_id") or "")
        i = state.index_by_offer(offer_id)
        if i is None:
            outcome.append({"offer_id": offer_id, "product_id": 0, "status": "failed",
                            "errors": [{"code": "NOT_FOUND", "message": "product not found",
                                        "description": "Товар с таким артикулом не найден", "level": "error",
                                        "state": "", "field": "offer_id"}]})
            continue
        if offer_id in world.faults.reject_offer_ids:
            outcome.append({"offer_id": offer_id, "product_id": PRODUCT_ID_BASE + i, "status": "failed",
                            "errors": [{"code": "FORBIDDEN_WORDS", "message": "forbidden words",
                                        "description": "Название содержит запрещённые слова", "level": "error",
                                        "state": "", "field": "attributes", "attribute_id": NAME_ATTRIBUTE,
                                        "attribute_name": "Название"}]})
            continue
        changes = state.content.setdefault(i, {})
        for attribute in item.get("attributes") or []:
            text = " ".join(str(v.get("value", "")) for v in attribute.get("values") or [])
            if attribute.get("id") == NAME_ATTRIBUTE:
                changes["name"] = text
            elif attribute.get("id") == DESCRIPTION_ATTRIBUTE:
                changes["description"] = text
            elif isinstance(attribute.get("id"), int):
                changes.setdefault("attributes", {})[attribute["id"]] = text
        outcome.append({"offer_id": offer_id, "product_id": PRODUCT_ID_BASE + i, "status": "imported", "errors": []})
    task_id = TASK_ID_BASE + len(state.tasks) + 1
    state.tasks[task_id] = {"items": outcome, "polls": 0}
    return json_response({"task_id": task_id})


def pictures_import(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    """Photos replace the card's whole set; the first is the main one (as Ozon's pictures/import)."""
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    i = state.product_index(body.get("product_id"))
    if i is None:
        return _error(404, 5, "product not found")
    images = body.get("images")
    if not isinstance(images, list) or not all(isinstance(url, str) and url for url in images):
        return _bad_request("Request validation error: images must be a list of links")
    if len(images) > 30:
        return _bad_request("Request validation error: no more than 30 images")
    if world.catalog[i].article in world.faults.reject_offer_ids:
        return _bad_request("Изображение не загружено: недопустимый формат файла")
    state.content.setdefault(i, {})["images"] = list(images)
    pictures = [
        {"is_360": False, "is_color": False, "is_primary": n == 0, "product_id": PRODUCT_ID_BASE + i,
         "state": "imported", "url": url}
        for n, url in enumerate(images)
    ]
    return json_response({"result": {"pictures": pictures}})


def import_info(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    if isinstance(body, httpx.Response):
        return body
    try:
        task = state.tasks.get(int(body.get("task_id") or 0))
    except (TypeError, ValueError):
        task = None
    if task is None:
        return _error(404, 5, "task not found")
    task["polls"] += 1
    # The first look finds the task still queued, as Ozon's moderation queue would.
    items = task["items"] if task["polls"] > 1 else [{**i, "status": "pending", "errors": []} for i in task["items"]]
    return json_response({"result": {"items": items, "total": len(items)}})


ROUTES = [
    Route("POST", "/v1/roles", roles),
    Route("POST", "/v2/warehouse/list", warehouse_list),
    Route("POST", "/v3/product/list", product_list),
    Route("POST", "/v4/product/info/attributes", product_attributes),
    Route("POST", "/v3/product/info/list", product_info_list),
    Route("POST", "/v5/product/info/prices", product_prices),
    Route("POST", "/v4/product/info/stocks", product_stocks),
    Route("POST", "/v1/product/info/stocks-by-warehouse/fbs", stocks_by_warehouse),
    Route("POST", "/v4/posting/fbs/list", fbs_list),
    Route("POST", "/v3/posting/fbo/list", fbo_list),
    Route("POST", "/v3/posting/fbs/get", fbs_get),
    Route("POST", "/v2/posting/fbo/get", fbo_get),
    Route("POST", "/v1/returns/list", returns_list),
    Route("POST", "/v1/review/list", review_list),
    Route("POST", "/v1/review/comment/create", review_comment_create),
    Route("POST", "/v1/question/list", question_list),
    Route("POST", "/v1/question/answer/create", question_answer_create),
    Route("GET", "/v1/actions", actions),
    Route("POST", "/v1/actions/candidates", action_candidates),
    Route("POST", "/v1/actions/products", action_products),
    Route("POST", "/v1/actions/products/activate", action_activate),
    Route("POST", "/v1/actions/products/deactivate", action_deactivate),
    Route("POST", "/v3/finance/transaction/list", finance_list),
    Route("POST", "/v1/product/import/prices", import_prices),
    Route("POST", "/v2/products/stocks", update_stocks),
    Route("POST", "/v1/product/attributes/update", attributes_update),
    Route("POST", "/v1/product/import/info", import_info),
    Route("POST", "/v1/product/pictures/import", pictures_import),
]
