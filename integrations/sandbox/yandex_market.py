"""The Yandex Market part of the sandbox: the Partner API's real paths (2026-07 spec), Api-Key auth,
page-token paging, `{value, currencyId}` money, ISO 8601 times with the Moscow offset, error bodies
`{"status":"ERROR","errors":[...]}` and 420 answers with X-RateLimit-Resource-Until.

One cabinet (business 700100) with one store per placement model: FBS 800101 (with Express orders),
FBY 800102 (stock in Market's warehouses) and DBS 800103.

Scale: the base orders are a pure function of their index (world.rng("yandex_market", "order", i));
building the state computes only each order's change time, campaign and status (one sorted key list,
so every page is a bisect), and materializes an order on demand. Orders that change or appear later
live in `changed`. Reviews and questions are likewise functions of their index. Only what writes and
`advance` change is stored.

As the spec says it happens: archived offers are listed only when asked for (`archived: true`) and
offers move in and out of the archive (offer-mappings/archive, /unarchive); a price update that omits
minimumForBestseller deletes it; a few orders are still on their way 40+ days after creation and are
delivered on the first `advance`; each operation pages with its own `limit` default. Faults beyond the
shared ones: `ym_api_key_scopes` (403 for a method the Api-Key's accesses do not cover, per the spec's
x-auth-scopes) and `nul_in_texts`.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import math
import random
import threading
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from email.utils import format_datetime
from typing import Any

import httpx

from integrations.sandbox.app import Route, SandboxRequest, json_response
from integrations.sandbox.credentials import YM_API_KEY, YM_BUSINESS_ID, YM_CAMPAIGNS
from integrations.sandbox.world import CatalogItem, SandboxWorld, calendar_day, iso_seconds

MP = "yandex_market"
PARALLEL_LIMIT: int | None = 4  # "Hit rate limit of 4 parallel requests" per business / campaign
MOSCOW = timezone(timedelta(hours=3))
DAY = 86_400

FBS_CAMPAIGN, FBY_CAMPAIGN, DBS_CAMPAIGN = (
    next(c for c, kind in YM_CAMPAIGNS.items() if kind == wanted) for wanted in ("FBS", "FBY", "DBS")
)
CAMPAIGN_OF_PROGRAM = {"FBS": FBS_CAMPAIGN, "EXPRESS": FBS_CAMPAIGN, "FBY": FBY_CAMPAIGN, "DBS": DBS_CAMPAIGN}
PROGRAMS = ("FBS", "EXPRESS", "FBY", "DBS")
SELLER_WAREHOUSES = (
    {"id": 50101, "name": "Склад Подольск (FBS и Экспресс)", "campaignId": FBS_CAMPAIGN, "express": True,
     "city": "Подольск", "street": "Кирпичная улица", "number": "12", "lat": 55.4312, "lon": 37.5447},
    {"id": 50103, "name": "Склад Казань (доставка силами магазина)", "campaignId": DBS_CAMPAIGN, "express": False,
     "city": "Казань", "street": "улица Тэцевская", "number": "4", "lat": 55.8304, "lon": 49.0661},
)
SELLER_WAREHOUSE_OF = {FBS_CAMPAIGN: 50101, DBS_CAMPAIGN: 50103}
MARKET_WAREHOUSES = (
    {"id": 147, "name": "Яндекс Маркет Софьино", "city": "Софьино", "lat": 55.5027, "lon": 38.1036},
    {"id": 172, "name": "Яндекс Маркет Томилино", "city": "Томилино", "lat": 55.6552, "lon": 37.9391},
    {"id": 300, "name": "Яндекс Маркет Ростов-на-Дону", "city": "Ростов-на-Дону", "lat": 47.2357, "lon": 39.7015},
)
MARKET_WAREHOUSE_IDS = tuple(int(str(w["id"])) for w in MARKET_WAREHOUSES)
CATEGORY_IDS = {"Одежда": 7811901, "Посуда": 90600, "Сумки": 15714713, "Свет": 90711, "Текстиль": 90667,
                "Спорт": 91512, "Канцелярия": 91299, "Дом": 90668}
REGIONS = {"Москва": 213, "Санкт-Петербург": 2, "Казань": 43, "Новосибирск": 65, "Екатеринбург": 54,
           "Нижний Новгород": 47, "Самара": 51, "Краснодар": 35}
FEE_RATES = {"Одежда": Decimal("0.09"), "Посуда": Decimal("0.06"), "Сумки": Decimal("0.08"), "Свет": Decimal("0.05"),
             "Текстиль": Decimal("0.07"), "Спорт": Decimal("0.06"), "Канцелярия": Decimal("0.05"),
             "Дом": Decimal("0.06")}

ORDER_BASE_ID = 54_000_000
RETURN_BASE_ID = 9_100_000
FEEDBACK_BASE_ID = 310_000_000
QUESTION_BASE_ID = 4_200_000
MARKET_SKU_BASE = 101_000_000
ORDER_SPAN = 60 * DAY  # base orders are spread over the 60 days before the start
REVIEW_SPAN = 150 * DAY
QUESTION_SPAN = 60 * DAY

# The newest base orders take these (program, status, substatus) so every status and every
# placement model is present whatever the world's size.
FORCED_ORDERS = (
    ("DBS", "PENDING", "AWAIT_CONFIRMATION"),
    ("FBS", "PLACING", "ASYNC_PROCESSING"),
    ("FBY", "RESERVED", "UNKNOWN"),
    ("EXPRESS", "UNPAID", "WAITING_USER_INPUT"),
    ("FBS", "CANCELLED", "SHOP_FAILED"),
    ("FBY", "PARTIALLY_RETURNED", "UNKNOWN"),
    ("DBS", "RETURNED", "UNKNOWN"),
    ("FBY", "DELIVERY", "DELIVERY_SERVICE_RECEIVED"),
    ("FBY", "PICKUP", "READY_FOR_PICKUP"),
    ("DBS", "DELIVERED", "DELIVERED_USER_RECEIVED"),
    ("EXPRESS", "DELIVERED", "DELIVERED_USER_RECEIVED"),
    ("FBS", "PROCESSING", "SHIPPED"),
    ("EXPRESS", "PROCESSING", "READY_TO_SHIP"),
    ("DBS", "PROCESSING", "STARTED"),
    ("FBS", "PROCESSING", "STARTED"),
)
STATUSES = ("PLACING", "RESERVED", "UNPAID", "PENDING", "PROCESSING", "DELIVERY", "PICKUP", "DELIVERED",
            "CANCELLED", "PARTIALLY_RETURNED", "RETURNED", "UNKNOWN")
SUBSTATUSES = ("ASYNC_PROCESSING", "UNKNOWN", "WAITING_USER_INPUT", "AWAIT_CONFIRMATION", "STARTED",
               "READY_TO_SHIP", "SHIPPED", "DELIVERY_SERVICE_RECEIVED", "LAST_MILE_STARTED", "READY_FOR_PICKUP",
               "DELIVERED_USER_RECEIVED", "USER_CHANGED_MIND", "SHOP_FAILED", "PICKUP_EXPIRED",
               "USER_REFUSED_DELIVERY", "PROCESSING_EXPIRED")
TERMINAL = {"DELIVERED", "CANCELLED", "RETURNED", "PARTIALLY_RETURNED"}
# Base orders older than this with index % LINGER_EVERY == LINGER_AT are still on their way at the
# start (a pickup point keeps them, a courier reschedules) and are delivered on the first `advance`:
# orders change status weeks after creation, and the change read by update time must see them.
LINGER_AGE = 40 * DAY
LINGER_EVERY, LINGER_AT = 29, 7
UNREDEEMED_SUBSTATUSES = {"PICKUP_EXPIRED", "USER_REFUSED_DELIVERY"}
# One step of an order's life in `advance`: status -> (next status, next substatus).
NEXT_STEP = {
    ("PLACING", "ASYNC_PROCESSING"): ("RESERVED", "UNKNOWN"),
    ("RESERVED", "UNKNOWN"): ("PROCESSING", "STARTED"),
    ("UNPAID", "WAITING_USER_INPUT"): ("PROCESSING", "STARTED"),
    ("PENDING", "AWAIT_CONFIRMATION"): ("PROCESSING", "STARTED"),
    ("PROCESSING", "STARTED"): ("PROCESSING", "READY_TO_SHIP"),
    ("PROCESSING", "READY_TO_SHIP"): ("PROCESSING", "SHIPPED"),
    ("PROCESSING", "SHIPPED"): ("DELIVERY", "DELIVERY_SERVICE_RECEIVED"),
    ("DELIVERY", "DELIVERY_SERVICE_RECEIVED"): ("DELIVERED", "DELIVERED_USER_RECEIVED"),
    ("DELIVERY", "LAST_MILE_STARTED"): ("DELIVERED", "DELIVERED_USER_RECEIVED"),
    ("PICKUP", "READY_FOR_PICKUP"): ("DELIVERED", "DELIVERED_USER_RECEIVED"),
}

REJECT_PRICE = "цена товара {offer} заблокирована: товар участвует в акции с фиксированной ценой до её окончания"
REJECT_STOCK = "товар {offer} нельзя продавать со склада магазина: он заблокирован по требованию правообладателя"
REJECT_CONTENT = "Товар {offer}: название и описание нельзя изменить, пока карточка на проверке у модератора"
RETURN_REASONS = (
    ("BAD_QUALITY", "Шов разошёлся после первой стирки"),
    ("DOES_NOT_FIT", "Не подошёл размер"),
    ("WRONG_ITEM", "Прислали другой цвет"),
    ("DAMAGE_DELIVERY", "Коробка пришла помятой, товар повреждён"),
)
SELLER_REPLY = "Спасибо за отзыв! Рады, что покупка понравилась."


@dataclass
class Promo:
    id: str
    name: str
    mechanics: str
    start_days: int
    end_days: int
    step: int  # every step-th catalogue item is eligible
    offset: int
    promocode: tuple[str, int] | None = None


PROMOS = (
    Promo("#21001", "Скидки недели", "DIRECT_DISCOUNT", -3, 11, 3, 0),
    Promo("#21002", "Чёрная пятница", "DIRECT_DISCOUNT", 10, 20, 2, 1),
    Promo("#21003", "Промокод МАРКЕТ300", "MARKET_PROMOCODE", -5, 25, 5, 2, ("MARKET300", 300)),
    Promo("#21004", "Флеш-распродажа выходного дня", "BLUE_FLASH", -1, 2, 7, 3),
)
PAST_PROMO = Promo("#20990", "Осенняя распродажа", "DIRECT_DISCOUNT", -40, -20, 4, 0)


# ---------------------------------------------------------------------------------------------
# State


@dataclass
class YMState:
    start_ts: int
    base_orders: int
    order_keys: list[tuple[int, int]]  # (update ts, order id), sorted: every order, base or not
    order_updated: dict[int, int]  # order id -> its current key's ts (changed orders only)
    # Base order headers by index, drawn once (changed orders override them in `changed`).
    base_program: bytearray  # index in PROGRAMS
    base_status: bytearray  # index in STATUSES
    base_substatus: bytearray  # index in SUBSTATUSES
    base_created: array[int]
    base_updated: array[int]
    changed: dict[int, dict[str, Any]] = field(default_factory=dict)
    lingering: list[int] = field(default_factory=list)  # old base orders not final at the start
    next_order_id: int = 0
    returns: dict[int, dict[str, Any]] = field(default_factory=dict)  # returns opened after the start
    return_keys: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # campaign -> (update ts, id)
    base_reviews: int = 0
    review_keys: list[tuple[int, int]] = field(default_factory=list)  # (created ts, feedback id)
    extra_reviews: dict[int, dict[str, Any]] = field(default_factory=dict)
    review_comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    base_questions: int = 0
    question_keys: list[tuple[int, int]] = field(default_factory=list)
    extra_questions: dict[int, dict[str, Any]] = field(default_factory=dict)
    question_answers: dict[int, dict[str, Any]] = field(default_factory=dict)
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)  # offerId -> written price
    content: dict[str, dict[str, Any]] = field(default_factory=dict)  # offerId -> written name/description...
    archive: dict[str, bool] = field(default_factory=dict)  # offerId -> archived, as archive/unarchive set it
    stocks: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)  # (campaign, offer) -> (count, ts)
    promo_offers: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # promo -> offer -> params
    # offerId -> {type, price (held), last (valid before), min (threshold), written (applied on confirm)}
    quarantine: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_entity_id: int = 77_000_000
    windows: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)  # limits: (used, window end)
    lock: threading.Lock = field(default_factory=threading.Lock)


QUARANTINE_EVERY, QUARANTINE_AT = 37, 6  # seeded LOW_PRICE quarantine: every 37th offer from the 7th


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def build_state(world: SandboxWorld) -> YMState:
    """Draws every base order's header (program, status, times) from one seeded stream: a few
    draws per order, so 150,000 orders take well under a second. Items are drawn on demand."""
    start_ts = _ts(world.config.start)
    n = world.config.orders
    rng = world.rng(MP, "order-headers", n)
    programs, statuses, substatuses = bytearray(n), bytearray(n), bytearray(n)
    created_at, updated_at = array("q", bytes(8 * n)), array("q", bytes(8 * n))
    keys: list[tuple[int, int]] = []
    return_keys: dict[int, list[tuple[int, int]]] = {c: [] for c in YM_CAMPAIGNS}
    lingering = []
    for i in range(n):
        program, status, substatus, created, updated = _draw_header(rng, i, n, start_ts)
        if i % LINGER_EVERY == LINGER_AT and start_ts - created > LINGER_AGE and i < n - len(FORCED_ORDERS):
            status, substatus = ("PICKUP", "READY_FOR_PICKUP") if program != "DBS" else ("DELIVERY",
                                                                                          "LAST_MILE_STARTED")
            lingering.append(ORDER_BASE_ID + i)
        programs[i], statuses[i] = PROGRAMS.index(program), STATUSES.index(status)
        substatuses[i] = SUBSTATUSES.index(substatus)
        created_at[i], updated_at[i] = created, updated
        keys.append((updated, ORDER_BASE_ID + i))
        if _returned(status, substatus):
            return_keys[CAMPAIGN_OF_PROGRAM[program]].append((updated, RETURN_BASE_ID + i))
    keys.sort()
    for campaign_keys in return_keys.values():
        campaign_keys.sort()
    state = YMState(start_ts=start_ts, base_orders=n, order_keys=keys, order_updated={}, base_program=programs,
                    base_status=statuses, base_substatus=substatuses, base_created=created_at,
                    base_updated=updated_at, next_order_id=ORDER_BASE_ID + n, return_keys=return_keys,
                    lingering=lingering)
    state.base_reviews = max(30, min(n // 3, 50_000))
    state.review_keys = [(_spread(start_ts, REVIEW_SPAN, j, state.base_reviews), FEEDBACK_BASE_ID + j)
                         for j in range(state.base_reviews)]
    state.base_questions = max(20, min(n // 6, 20_000))
    state.question_keys = [(_spread(start_ts, QUESTION_SPAN, j, state.base_questions), QUESTION_BASE_ID + j)
                           for j in range(state.base_questions)]
    for promo in PROMOS[:1]:  # the current "Скидки недели" starts with a few offers in it
        eligible = _eligible(world, promo)
        for index in eligible[:8:2]:
            base = _whole(_base_price(world.catalog[index]))
            state.promo_offers.setdefault(promo.id, {})[world.catalog[index].article] = {
                "price": base, "promoPrice": _whole(Decimal(base) * Decimal("0.85"))}
    for index in range(QUARANTINE_AT, min(len(world.catalog), 5000), QUARANTINE_EVERY):
        if _archived(index) or index % 29 == 28:
            continue
        # Set in the cabinet far below the market: held as LOW_PRICE until the seller confirms it.
        held = _base_price(world.catalog[index])
        state.quarantine[world.catalog[index].article] = {
            "type": "LOW_PRICE", "price": held, "last": None, "min": Decimal(_whole(held * Decimal("1.3")))}
    return state


def _spread(start_ts: int, span: int, j: int, count: int) -> int:
    """Creation times spread evenly over `span` before the start, in index order."""
    slot = span / count
    return start_ts - span + int(j * slot) + (j * 7919) % max(1, int(slot))


def _returned(status: str, substatus: str) -> bool:
    """Orders that have a return (RETURN) or a non-pickup (UNREDEEMED) behind them."""
    return status in ("RETURNED", "PARTIALLY_RETURNED") or substatus in UNREDEEMED_SUBSTATUSES


def _draw_header(rng: random.Random, i: int, n: int, start_ts: int) -> tuple[str, str, str, int, int]:
    slot = ORDER_SPAN / n
    created = start_ts - ORDER_SPAN + int(i * slot) + int(rng.random() * slot)
    roll, status_roll, delay_roll = rng.random(), rng.random(), rng.random()
    program = "FBS" if roll < 0.38 else "EXPRESS" if roll < 0.45 else "FBY" if roll < 0.80 else "DBS"
    forced = i - (n - len(FORCED_ORDERS))
    if forced >= 0:
        program, status, substatus = FORCED_ORDERS[forced]
    else:
        status, substatus = _status_for_age(program, start_ts - created, status_roll)
    age = max(0, start_ts - created)
    updated = created + int(age * (0.3 + 0.7 * delay_roll))
    return program, status, substatus, created, min(updated, start_ts)


def _status_for_age(program: str, age: int, roll: float) -> tuple[str, str]:
    if age < DAY // 2:
        if roll < 0.10:
            return "CANCELLED", "USER_CHANGED_MIND"
        if roll < 0.18:
            return ("PENDING", "AWAIT_CONFIRMATION") if program == "DBS" else ("UNPAID", "WAITING_USER_INPUT")
        if roll < 0.40:
            return "PROCESSING", "READY_TO_SHIP"
        return "PROCESSING", "STARTED"
    if age < 3 * DAY:
        if roll < 0.10:
            return "CANCELLED", "USER_CHANGED_MIND"
        if roll < 0.15:
            return "CANCELLED", "SHOP_FAILED"
        if roll < 0.35:
            return "PROCESSING", "SHIPPED"
        if roll < 0.75 or program == "DBS":
            return "DELIVERY", "LAST_MILE_STARTED"
        return "PICKUP", "READY_FOR_PICKUP"
    if roll < 0.03:
        return "CANCELLED", "PICKUP_EXPIRED"
    if roll < 0.05:
        return "CANCELLED", "USER_REFUSED_DELIVERY"
    if roll < 0.08:
        return "CANCELLED", "PROCESSING_EXPIRED"
    if roll < 0.11:
        return "RETURNED", "UNKNOWN"
    if roll < 0.13:
        return "PARTIALLY_RETURNED", "UNKNOWN"
    return "DELIVERED", "DELIVERED_USER_RECEIVED"


def _base_price(item: CatalogItem) -> Decimal:
    return item.base_price


def _whole(amount: Decimal) -> int:
    return int(amount.quantize(Decimal("1"), ROUND_HALF_UP))


def _base_order(world: SandboxWorld, state: YMState, i: int) -> dict[str, Any]:
    return _build_order(
        world, world.rng(MP, "order", i), ORDER_BASE_ID + i, PROGRAMS[state.base_program[i]],
        STATUSES[state.base_status[i]], SUBSTATUSES[state.base_substatus[i]], state.base_created[i],
        state.base_updated[i],
    )


def _build_order(world: SandboxWorld, rng: random.Random, order_id: int, program: str, status: str,
                 substatus: str, created: int, updated: int) -> dict[str, Any]:
    lines = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
    items = []
    for k in range(lines):
        item = world.catalog[rng.randrange(len(world.catalog))]
        count = 1 + (rng.randrange(3) if rng.random() < 0.2 else 0)
        unit = _base_price(item)
        cashback = (unit * count * Decimal("0.05")).quantize(Decimal("0.01"), ROUND_HALF_UP) if rng.random() < 0.2 \
            else Decimal("0")
        subsidy = Decimal(_whole(unit * Decimal("0.03"))) * count if rng.random() < 0.25 else Decimal("0")
        items.append({"id": order_id * 10 + k, "offerId": item.article, "name": item.name, "count": count,
                      "unit": unit, "cashback": cashback, "subsidy": subsidy, "category": item.category,
                      "index": item.index})
    city = world.city(rng)
    pickup = program != "DBS" and rng.random() < 0.35
    if program == "FBY":
        warehouse = MARKET_WAREHOUSES[rng.randrange(len(MARKET_WAREHOUSES))]["id"]
    else:
        warehouse = SELLER_WAREHOUSE_OF[CAMPAIGN_OF_PROGRAM[program]]
    return {
        "id": order_id, "program": program, "campaign": CAMPAIGN_OF_PROGRAM[program], "status": status,
        "substatus": substatus, "created": created, "updated": updated, "items": items, "city": city,
        "pickup": pickup, "warehouse": warehouse, "track": f"YM{order_id}{rng.randrange(10, 99)}",
        "buyer": world.person(rng),
    }


def _order(world: SandboxWorld, state: YMState, order_id: int) -> dict[str, Any] | None:
    if order_id in state.changed:
        return state.changed[order_id]
    index = order_id - ORDER_BASE_ID
    if 0 <= index < state.base_orders:
        return _base_order(world, state, index)
    return None


def _order_program(state: YMState, order_id: int) -> str:
    changed = state.changed.get(order_id)
    if changed is not None:
        return str(changed["program"])
    return PROGRAMS[state.base_program[order_id - ORDER_BASE_ID]]


def _order_status(state: YMState, order_id: int) -> str:
    changed = state.changed.get(order_id)
    if changed is not None:
        return str(changed["status"])
    return STATUSES[state.base_status[order_id - ORDER_BASE_ID]]


def _save_order(state: YMState, order: dict[str, Any], old_ts: int | None) -> None:
    """Stores a changed or new order and moves its key in the sorted index."""
    if old_ts is not None:
        position = bisect.bisect_left(state.order_keys, (old_ts, order["id"]))
        if position < len(state.order_keys) and state.order_keys[position] == (old_ts, order["id"]):
            del state.order_keys[position]
    bisect.insort(state.order_keys, (order["updated"], order["id"]))
    state.order_updated[order["id"]] = order["updated"]
    state.changed[order["id"]] = order


def _make_return(world: SandboxWorld, order: dict[str, Any], return_id: int, created: int,
                 updated: int) -> dict[str, Any]:
    unredeemed = order["status"] == "CANCELLED"
    rng = world.rng(MP, "return", return_id)
    items = order["items"] if order["status"] != "PARTIALLY_RETURNED" else order["items"][:1]
    returned = []
    for item in items:
        count = item["count"] if order["status"] != "PARTIALLY_RETURNED" else 1
        returned.append({"item": item, "count": count, "reason": None if unredeemed else
                         RETURN_REASONS[rng.randrange(len(RETURN_REASONS))]})
    amount = sum((r["item"]["unit"] * r["count"] for r in returned), Decimal(0))
    return {
        "id": return_id, "orderId": order["id"], "campaign": order["campaign"],
        "created": max(order["created"], created), "updated": updated,
        "type": "UNREDEEMED" if unredeemed else "RETURN", "items": returned, "amount": amount,
        "refundStatus": "REFUNDED" if not unredeemed else "CANCELLED",
        "shipmentStatus": "RECEIVED" if rng.random() < 0.7 else "IN_TRANSIT",
    }


def _return(world: SandboxWorld, state: YMState, return_id: int) -> dict[str, Any]:
    """A return opened after the start, or the one behind base order i (id RETURN_BASE_ID + i)."""
    if return_id in state.returns:
        return state.returns[return_id]
    order = _base_order(world, state, return_id - RETURN_BASE_ID)
    return _make_return(world, order, return_id, order["updated"] - 2 * DAY, order["updated"])


def _add_return(world: SandboxWorld, state: YMState, order: dict[str, Any], at: int) -> None:
    return_id = RETURN_BASE_ID + 5_000_000 + len(state.returns)
    state.returns[return_id] = _make_return(world, order, return_id, at, at)
    bisect.insort(state.return_keys[order["campaign"]], (at, return_id))


# ---------------------------------------------------------------------------------------------
# advance: new orders, status progress, cancellations, returns, reviews, questions


def advance(world: SandboxWorld, state: YMState, old: datetime, new: datetime) -> None:
    lo, hi = _ts(old), _ts(new)
    if hi <= lo:
        return
    rng = world.rng(MP, "advance", lo, hi)

    def moment() -> int:
        return rng.randrange(lo + 1, hi + 1)

    minutes = (hi - lo) // 60
    count = min(1000, max(2, state.base_orders * minutes // (60 * 24 * 60)))
    for _ in range(count):
        order_id = state.next_order_id
        state.next_order_id += 1
        program = PROGRAMS[rng.randrange(len(PROGRAMS))]
        created = moment()
        status = ("PENDING", "AWAIT_CONFIRMATION") if program == "DBS" else ("PROCESSING", "STARTED")
        order = _build_order(world, world.rng(MP, "new-order", order_id), order_id, program, *status, created, created)
        _save_order(state, order, None)
    # Progress and cancel orders among the most recently changed (new orders excluded: created in this step).
    progressed = cancelled = 0
    for key in reversed(state.order_keys[-400:]):
        if progressed >= 3 * count and cancelled >= 1:
            break
        order_ts, order_id = key
        if order_ts > lo:
            continue
        current = _order(world, state, order_id)
        if current is None or current["status"] in TERMINAL:
            continue
        step = NEXT_STEP.get((current["status"], current["substatus"]))
        if cancelled == 0 and current["status"] == "PROCESSING":
            step, cancelled = ("CANCELLED", "USER_CHANGED_MIND"), cancelled + 1
        elif step is None or rng.random() < 0.3:
            continue
        else:
            progressed += 1
        _save_order(state, {**current, "status": step[0], "substatus": step[1], "updated": moment()}, order_ts)
    # The old orders still on their way reach the buyer.
    for order_id in state.lingering:
        current = _order(world, state, order_id)
        step = NEXT_STEP.get((current["status"], current["substatus"])) if current else None
        if current is not None and step is not None:
            _save_order(state, {**current, "status": step[0], "substatus": step[1], "updated": moment()},
                        current["updated"])
    # One delivered order comes back as a return.
    for order_ts, order_id in reversed(state.order_keys):
        if order_ts > lo:
            continue
        delivered = _order(world, state, order_id)
        if delivered is not None and delivered["status"] == "DELIVERED":
            at = moment()
            returned = {**delivered, "status": "RETURNED", "substatus": "UNKNOWN", "updated": at}
            _save_order(state, returned, order_ts)
            _add_return(world, state, returned, at)
            break
    for _ in range(1 + rng.randrange(3)):
        feedback_id = FEEDBACK_BASE_ID + state.base_reviews + len(state.extra_reviews)
        created = moment()
        state.extra_reviews[feedback_id] = _review_fields(world, feedback_id, created)
        bisect.insort(state.review_keys, (created, feedback_id))
    for _ in range(1 + rng.randrange(2)):
        question_id = QUESTION_BASE_ID + state.base_questions + len(state.extra_questions)
        created = moment()
        state.extra_questions[question_id] = _question_fields(world, question_id, created)
        bisect.insort(state.question_keys, (created, question_id))


# ---------------------------------------------------------------------------------------------
# Protocol of the sandbox module: auth, faults, limits


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return json_response({"status": "ERROR", "errors": [{"code": code, "message": message}]}, status, headers)


def _date_header(world: SandboxWorld) -> dict[str, str]:
    return {"Date": format_datetime(world.now.astimezone(UTC), usegmt=True)}


def _with_date(world: SandboxWorld, response: httpx.Response) -> httpx.Response:
    response.headers["Date"] = _date_header(world)["Date"]
    return response


def authenticate(world: SandboxWorld, request: SandboxRequest) -> httpx.Response | None:
    key = request.headers.get("Api-Key")
    if key != YM_API_KEY:
        message = "Api-Key header is missing" if key is None else "Api-Key is invalid or was revoked"
        if key is None and request.headers.get("Authorization"):
            message = "OAuth token is invalid or expired"
        return _with_date(world, _error(401, "UNAUTHORIZED", message))
    parts = request.path.strip("/").split("/")
    if len(parts) >= 3 and parts[1] == "businesses" and parts[2] != str(YM_BUSINESS_ID):
        return _with_date(world, _error(403, "FORBIDDEN", f"Access denied to business {parts[2]}"))
    if len(parts) >= 3 and parts[1] == "campaigns" and not (parts[2].isdigit() and int(parts[2]) in YM_CAMPAIGNS):
        return _with_date(world, _error(403, "FORBIDDEN", f"Access denied to campaign {parts[2]}"))
    denied = _outside_scopes(world, request)
    if denied is not None:
        return denied
    if world.config.limits_enabled:
        return _take_limit(world, request)
    return None


_EVERY_SCOPE = ("ALL_METHODS", "ALL_METHODS_READ_ONLY", "SETTINGS_MANAGEMENT", "FINANCE_AND_ACCOUNTING",
                "OFFERS_AND_CARDS_MANAGEMENT", "OFFERS_AND_CARDS_MANAGEMENT_READ_ONLY", "PRICING", "PRICING_READ_ONLY",
                "INVENTORY_AND_ORDER_PROCESSING", "INVENTORY_AND_ORDER_PROCESSING_READ_ONLY", "PROMOTION",
                "PROMOTION_READ_ONLY", "COMMUNICATION", "SUPPLIES_MANAGEMENT_READ_ONLY")
_READ = ("ALL_METHODS", "ALL_METHODS_READ_ONLY")
_ORDERS_READ = (*_READ, "INVENTORY_AND_ORDER_PROCESSING", "INVENTORY_AND_ORDER_PROCESSING_READ_ONLY")
_OFFERS_READ = (*_READ, "OFFERS_AND_CARDS_MANAGEMENT", "OFFERS_AND_CARDS_MANAGEMENT_READ_ONLY")
_OFFERS_WRITE = ("ALL_METHODS", "OFFERS_AND_CARDS_MANAGEMENT")
_ORDERS_WRITE = ("ALL_METHODS", "INVENTORY_AND_ORDER_PROCESSING")
_PROMO_READ = (*_READ, "PRICING", "PRICING_READ_ONLY", "PROMOTION", "PROMOTION_READ_ONLY")
_PROMO_WRITE = ("ALL_METHODS", "PRICING", "PROMOTION")
# Each route's operationId and `x-auth-scopes` (the Api-Key accesses that may call it), from the spec.
SCOPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "GET /v2/campaigns": ("getCampaigns", _EVERY_SCOPE),
    "POST /v2/auth/token": ("getAuthTokenInfo", _EVERY_SCOPE),
    "POST /v2/businesses/{businessId}/warehouses": ("getPagedWarehouses", _ORDERS_READ),
    "GET /v2/warehouses": ("getFulfillmentWarehouses", _EVERY_SCOPE),
    "POST /v2/businesses/{businessId}/offer-mappings": ("getOfferMappings", _OFFERS_READ),
    "POST /v2/tariffs/calculate": ("calculateTariffs", (*_READ, "FINANCE_AND_ACCOUNTING", "PRICING",
                                                        "PRICING_READ_ONLY")),
    "POST /v2/businesses/{businessId}/offer-mappings/update": ("updateOfferMappings", _OFFERS_WRITE),
    "POST /v2/businesses/{businessId}/offer-mappings/archive": ("addOffersToArchive", _OFFERS_WRITE),
    "POST /v2/businesses/{businessId}/offer-mappings/unarchive": ("deleteOffersFromArchive", _OFFERS_WRITE),
    "POST /v2/businesses/{businessId}/offer-prices": ("getDefaultPrices", (*_READ, "PRICING", "PRICING_READ_ONLY")),
    "POST /v2/businesses/{businessId}/offer-prices/updates": ("updateBusinessPrices", ("ALL_METHODS", "PRICING")),
    "POST /v2/campaigns/{campaignId}/offers/stocks": ("getStocks", _OFFERS_READ),
    "PUT /v2/campaigns/{campaignId}/offers/stocks": ("updateStocks", _OFFERS_WRITE),
    "POST /v1/businesses/{businessId}/orders": ("getBusinessOrders", (*_ORDERS_READ, "FINANCE_AND_ACCOUNTING")),
    "GET /v2/campaigns/{campaignId}/returns": ("getReturns", _ORDERS_READ),
    "POST /v2/businesses/{businessId}/goods-feedback": ("getGoodsFeedbacks", (*_READ, "COMMUNICATION")),
    "POST /v2/businesses/{businessId}/goods-feedback/comments/update": ("updateGoodsFeedbackComment",
                                                                        ("ALL_METHODS", "COMMUNICATION")),
    "POST /v1/businesses/{businessId}/goods-questions": ("getGoodsQuestions", (*_READ, "COMMUNICATION")),
    "POST /v1/businesses/{businessId}/goods-questions/update": ("updateGoodsQuestionTextEntity",
                                                                ("ALL_METHODS", "COMMUNICATION")),
    "POST /v2/businesses/{businessId}/promos": ("getPromos", _PROMO_READ),
    "POST /v2/businesses/{businessId}/promos/offers": ("getPromoOffers", _PROMO_READ),
    "POST /v2/businesses/{businessId}/promos/offers/update": ("updatePromoOffers", _PROMO_WRITE),
    "POST /v2/businesses/{businessId}/promos/offers/delete": ("deletePromoOffers", _PROMO_WRITE),
    "POST /v2/campaigns/{campaignId}/stats/orders": ("getOrdersStats", _ORDERS_READ),
    "POST /v2/businesses/{businessId}/price-quarantine": ("getBusinessQuarantineOffers",
                                                           (*_READ, "PRICING", "PRICING_READ_ONLY")),
    "POST /v2/businesses/{businessId}/price-quarantine/confirm": ("confirmBusinessPrices", ("ALL_METHODS", "PRICING")),
    # yandex_market_categories.py
    "POST /v2/category/{categoryId}/parameters": ("getCategoryContentParameters", _OFFERS_READ),
    # yandex_market_fbs.py
    "POST /v2/campaigns/{campaignId}/orders/status-update": ("updateOrderStatuses", _ORDERS_WRITE),
    "PUT /v2/campaigns/{campaignId}/orders/{orderId}/boxes": ("setOrderBoxLayout", _ORDERS_WRITE),
    "GET /v2/campaigns/{campaignId}/orders/{orderId}/delivery/labels": ("generateOrderLabels", _ORDERS_WRITE),
}


def _route_of(request: SandboxRequest) -> Route | None:
    """The route serving the request, the FBS/DBS actions of yandex_market_fbs.py included."""
    from integrations.sandbox.app import routes_of

    return next((r for r in routes_of(MP) if r.match(request.method, request.path) is not None), None)


def _api_key_scopes(world: SandboxWorld) -> list[str]:
    return list(world.faults.ym_api_key_scopes) or ["ALL_METHODS"]


def _outside_scopes(world: SandboxWorld, request: SandboxRequest) -> httpx.Response | None:
    """403 FORBIDDEN (ApiForbiddenErrorResponse) for a method the Api-Key's accesses do not cover."""
    route = _route_of(request)
    if route is None:
        return None
    operation, allowed = SCOPES[f"{route.method} {route.pattern}"]
    scopes = _api_key_scopes(world)
    if set(scopes) & set(allowed):
        return None
    message = (f"Access denied: the Api-Key's accesses ({', '.join(scopes)}) do not allow {operation}; "
               f"it needs one of: {', '.join(allowed)}")
    return _with_date(world, _error(403, "FORBIDDEN", message))


def parallel_key(request: SandboxRequest) -> str | None:
    parts = request.path.strip("/").split("/")
    if len(parts) >= 3 and parts[1] in ("businesses", "campaigns"):
        return f"{parts[1]}:{parts[2]}"
    return None


def _limited(world: SandboxWorld, seconds: float, limit: int, message: str) -> httpx.Response:
    until = world.now.astimezone(UTC) + timedelta(seconds=math.ceil(seconds))
    headers = {
        **_date_header(world),
        "X-RateLimit-Resource-Limit": str(limit),
        "X-RateLimit-Resource-Remaining": "0",
        "X-RateLimit-Resource-Until": format_datetime(until, usegmt=True),
    }
    return _error(420, "REQUEST_LIMIT_EXCEEDED", message, headers)


def rate_limited(world: SandboxWorld, request: SandboxRequest) -> httpx.Response:
    key = parallel_key(request)
    where = ""
    if key:
        kind, _, ident = key.partition(":")
        where = f" for {'businessId' if kind == 'businesses' else 'campaignId'} {ident}"
    return _limited(world, world.faults.retry_after_seconds, PARALLEL_LIMIT or 4,
                    f"Hit rate limit of {PARALLEL_LIMIT} parallel requests{where}")


def server_error(world: SandboxWorld, request: SandboxRequest) -> httpx.Response:
    return _with_date(world, _error(500, "INTERNAL_ERROR", "Internal server error, try again later"))


def not_found(world: SandboxWorld, request: SandboxRequest) -> httpx.Response:
    return _with_date(world, _error(404, "NOT_FOUND", f"Resource {request.method} {request.path} not found"))


# Documented limits (x-resource-limit-config, `none` tier): route pattern -> (amount, period s, what is counted).
LIMITS: dict[str, tuple[int, int, str]] = {
    "GET /v2/campaigns": (1000, 3600, "req"),
    "POST /v2/auth/token": (100, 3600, "req"),
    "POST /v2/businesses/{businessId}/warehouses": (100, 3600, "req"),
    "GET /v2/warehouses": (100, 3600, "req"),
    "POST /v2/businesses/{businessId}/offer-mappings": (100, 60, "req"),
    "POST /v2/businesses/{businessId}/offer-prices": (5000, 60, "limit"),
    "POST /v2/campaigns/{campaignId}/offers/stocks": (100_000, 60, "limit"),
    "POST /v1/businesses/{businessId}/orders": (10_000, 3600, "req"),
    "GET /v2/campaigns/{campaignId}/returns": (5000, 3600, "req"),
    "POST /v2/businesses/{businessId}/goods-feedback": (5000, 3600, "req"),
    "POST /v2/businesses/{businessId}/goods-feedback/comments/update": (1000, 3600, "req"),
    "POST /v1/businesses/{businessId}/goods-questions": (1000, 3600, "req"),
    "POST /v1/businesses/{businessId}/goods-questions/update": (500, 3600, "req"),
    "POST /v2/businesses/{businessId}/promos": (1000, 3600, "req"),
    "POST /v2/businesses/{businessId}/promos/offers": (5000, 3600, "req"),
    "POST /v2/businesses/{businessId}/promos/offers/update": (5000, 3600, "req"),
    "POST /v2/businesses/{businessId}/promos/offers/delete": (5000, 3600, "req"),
    "POST /v2/campaigns/{campaignId}/stats/orders": (10_000, 3600, "req"),
    "POST /v2/businesses/{businessId}/offer-prices/updates": (10_000, 60, "offers"),
    "PUT /v2/campaigns/{campaignId}/offers/stocks": (100_000, 60, "skus"),
    "POST /v2/campaigns/{campaignId}/orders/status-update": (10_000, 3600, "orders"),
    "PUT /v2/campaigns/{campaignId}/orders/{orderId}/boxes": (10_000, 3600, "req"),
    "GET /v2/campaigns/{campaignId}/orders/{orderId}/delivery/labels": (10_000, 3600, "req"),
    "POST /v2/businesses/{businessId}/offer-mappings/update": (5000, 60, "offerMappings"),
    "POST /v2/businesses/{businessId}/offer-mappings/archive": (5000, 60, "offerIds"),
    "POST /v2/businesses/{businessId}/offer-mappings/unarchive": (5000, 60, "offerIds"),
    "POST /v2/businesses/{businessId}/price-quarantine": (5000, 60, "limit"),
    "POST /v2/businesses/{businessId}/price-quarantine/confirm": (5000, 60, "offerIds"),
}


# Operations whose limit counts the items asked for: (default, maximum) of their `limit`.
LIMIT_COUNTED_PAGES = {
    "POST /v2/businesses/{businessId}/offer-prices": (250, 500),
    "POST /v2/campaigns/{campaignId}/offers/stocks": (100, 200),
    "POST /v2/businesses/{businessId}/price-quarantine": (100, 200),
}


def _take_limit(world: SandboxWorld, request: SandboxRequest) -> httpx.Response | None:
    """Fixed windows in real time per resource and business/campaign, counted as the spec says
    (requests, or the items sent / asked for)."""
    route = _route_of(request)
    if route is None:
        return None
    resource = f"{route.method} {route.pattern}"
    amount, period, counted = LIMITS[resource]
    units = 1
    if counted == "limit":
        default, maximum = LIMIT_COUNTED_PAGES[resource]
        try:
            units = min(maximum, int(request.arg("limit") or default))
        except ValueError:
            units = 1
    elif counted != "req":
        try:
            units = len((request.json() or {}).get(counted) or ()) or 1
        except ValueError:
            units = 1
    state: YMState = world.state(MP, build_state)
    scope = parallel_key(request) or "apikey"
    now = time.monotonic()
    with state.lock:
        used, window_end = state.windows.get((resource, scope), (0.0, now + period))
        if now >= window_end:
            used, window_end = 0.0, now + period
        if used + units > amount:
            return _limited(world, window_end - now, amount,
                            f"Request limit exceeded: {amount} per {period} s for {resource}")
        state.windows[(resource, scope)] = (used + units, window_end)
    return None


# ---------------------------------------------------------------------------------------------
# Request helpers


class BadRequest(Exception):
    def __init__(self, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _handler(fn: Callable[..., httpx.Response]) -> Callable[..., httpx.Response]:
    """Every answer carries Market's Date; a malformed request gets the 400 body."""

    def wrapped(world: SandboxWorld, state: YMState, request: SandboxRequest, **params: str) -> httpx.Response:
        try:
            response = fn(world, state, request, **params)
        except BadRequest as exc:
            response = _error(400, exc.code, exc.message)
        return _with_date(world, response)

    wrapped.__name__ = fn.__name__
    return wrapped


def _body(request: SandboxRequest) -> dict[str, Any]:
    try:
        data = request.json()
    except ValueError:
        raise BadRequest("Request body is not valid JSON") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    return data


def _limit(request: SandboxRequest, maximum: int, default: int, *, truncate: bool = False) -> int:
    """`limit` as the operation's parameter declares it (components/parameters/PageLimit*.yaml): its
    own `default`, and a value above `maximum` cut down to it where `x-transform: truncateLimit`."""
    raw = request.arg("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Parameter limit must be an integer, got {raw!r}") from None
    if truncate and value > maximum:
        return maximum
    if not 1 <= value <= maximum:
        raise BadRequest(f"Parameter limit must be between 1 and {maximum}")
    return value


def _token_arg(request: SandboxRequest) -> str | None:
    return request.arg("pageToken") or request.arg("page_token")


def _encode(*values: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(token: str | None, size: int) -> tuple[int, ...] | None:
    if not token:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if isinstance(values, list) and len(values) == size and all(isinstance(v, int) for v in values):
            return tuple(values)
    except ValueError:
        pass
    raise BadRequest(f"Invalid page token {token!r}", "INVALID_QUERY_PARAMETER")


def _iso(ts: int) -> str:
    return iso_seconds(ts, 3, suffix="+03:00")  # Moscow time, as the API answers


def _day(ts: int) -> str:
    return calendar_day((int(ts) + 3 * 3600) // 86400)


def _parse_time(value: Any, name: str) -> int:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Parameter {name} must be an ISO 8601 date-time, got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=MOSCOW)
    return _ts(moment)


def _parse_day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadRequest(f"Parameter {name} must be a date YYYY-MM-DD, got {value!r}") from None


def _day_start(day: date) -> int:
    return _ts(datetime(day.year, day.month, day.day, tzinfo=MOSCOW))


def _money(value: Decimal) -> dict[str, Any]:
    return {"value": value, "currencyId": "RUR"}


def _ok(result: Any) -> httpx.Response:
    return json_response({"status": "OK", "result": result})


def _keyset_page(
    keys: list[tuple[int, int]], lo: int, hi: int, after: tuple[int, ...] | None, limit: int,
    accept: Callable[[int], bool] = lambda _: True, descending: bool = False,
) -> tuple[list[int], str | None]:
    """Ids whose key ts is in [lo, hi], in key order, after the token's key; the next token when
    more accepted keys remain."""
    found: list[int] = []
    if descending:
        position = bisect.bisect_right(keys, (hi, 1 << 62)) if after is None else bisect.bisect_left(keys, after)
        indices: Iterable[int] = range(position - 1, -1, -1)
    else:
        position = bisect.bisect_left(keys, (lo, -1)) if after is None else bisect.bisect_right(keys, after)
        indices = range(position, len(keys))
    last: tuple[int, int] | None = None
    for index in indices:
        ts, key_id = keys[index]
        if ts < lo or ts > hi:
            break
        if not accept(key_id):
            continue
        if len(found) == limit:
            return found, _encode(*last) if last else None
        found.append(key_id)
        last = (ts, key_id)
    return found, None


def _offset_page(total: int, request: SandboxRequest, limit: int) -> tuple[range, str | None]:
    start = (_decode(_token_arg(request), 1) or (0,))[0]
    end = min(total, start + limit)
    return range(start, end), _encode(end) if end < total else None


def _paging(token: str | None) -> dict[str, Any]:
    return {"nextPageToken": token} if token else {}


# ---------------------------------------------------------------------------------------------
# Campaigns, auth, warehouses


@_handler
def campaigns(world: SandboxWorld, state: YMState, request: SandboxRequest) -> httpx.Response:
    rows = [
        {"domain": f"prilavok-{kind.lower()}.sandbox.market", "id": cid, "clientId": 31_000_000 + cid % 1000,
         "business": {"id": YM_BUSINESS_ID, "name": "ООО «Прилавок»"}, "placementType": kind,
         "apiAvailability": "AVAILABLE"}
        for cid, kind in sorted(YM_CAMPAIGNS.items())
    ]
    # PageLimit100WithoutDefault plus the deprecated page/pageSize (ignored when a page token is sent).
    if (request.arg("page") is not None or request.arg("pageSize") is not None) and not _token_arg(request):
        size = _int_arg(request, "pageSize", len(rows) or 1, 1, 100)
        number = _int_arg(request, "page", 1, 1, 10_000)
        start = min(len(rows), (number - 1) * size)
        page, token = range(start, min(len(rows), start + size)), None
    else:
        size = _limit(request, 100, max(1, len(rows)))
        number = 0
        page, token = _offset_page(len(rows), request, size)
    pager = {"total": len(rows), "from": page.start + 1, "to": page.stop, "currentPage": number or
             page.start // size + 1, "pagesCount": math.ceil(len(rows) / size), "pageSize": size}
    return json_response({"campaigns": [rows[i] for i in page], "pager": pager, "paging": _paging(token)})


def _int_arg(request: SandboxRequest, name: str, default: int, lowest: int, highest: int) -> int:
    raw = request.arg(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lowest <= int(raw) <= highest:
        raise BadRequest(f"Parameter {name} must be an integer from {lowest} to {highest}", "INVALID_QUERY_PARAMETER")
    return int(raw)


@_handler
def auth_token(world: SandboxWorld, state: YMState, request: SandboxRequest) -> httpx.Response:
    return _ok({"apiKey": {"name": "Прилавок (песочница)", "authScopes": _api_key_scopes(world)}})


@_handler
def business_warehouses(world: SandboxWorld, state: YMState, request: SandboxRequest,
                        businessId: str) -> httpx.Response:
    body = _body(request)
    components = set(body.get("components") or ())
    wanted = set(body.get("campaignIds") or ())
    rows = [w for w in SELLER_WAREHOUSES if not wanted or w["campaignId"] in wanted]
    page, token = _offset_page(len(rows), request, _limit(request, 30, 15))
    result = []
    for w in (rows[i] for i in page):
        row: dict[str, Any] = {"id": w["id"], "name": w["name"], "campaignId": w["campaignId"], "express": w["express"]}
        if "ADDRESS" in components:
            row["address"] = {"city": w["city"], "street": w["street"], "number": w["number"],
                              "gps": {"latitude": w["lat"], "longitude": w["lon"]}}
        if "STATUS" in components:
            row["status"] = {"status": "OTHER"}
        result.append(row)
    return _ok({"warehouses": result, "paging": _paging(token)})


@_handler
def market_warehouses(world: SandboxWorld, state: YMState, request: SandboxRequest) -> httpx.Response:
    rows = [{"id": w["id"], "name": w["name"],
             "address": {"city": w["city"], "gps": {"latitude": w["lat"], "longitude": w["lon"]}}}
            for w in MARKET_WAREHOUSES]
    return _ok({"warehouses": rows})


# ---------------------------------------------------------------------------------------------
# Catalogue, prices, stocks


ARCHIVE_EVERY = 23  # every 23rd offer is archived


def _archived(index: int) -> bool:
    return index % ARCHIVE_EVERY == ARCHIVE_EVERY - 1


def _is_archived(world: SandboxWorld, state: YMState, index: int) -> bool:
    """Archived now: as seeded, unless offer-mappings/archive or /unarchive changed it since."""
    return state.archive.get(world.catalog[index].article, _archived(index))


def _archive_positions(world: SandboxWorld, state: YMState, archived: bool) -> list[int] | None:
    """Catalogue positions in the archive (or out of it); None when that is the seeded pattern of
    live offers, which callers page arithmetically (_live_index) so a page costs only its own size."""
    if not archived and not state.archive:
        return None
    return [i for i in range(len(world.catalog)) if _is_archived(world, state, i) == archived]


def _live_index(position: int) -> int:
    """The position-th catalogue index that is not archived."""
    live = ARCHIVE_EVERY - 1
    return (position // live) * ARCHIVE_EVERY + position % live


def _live_total(size: int) -> int:
    return size - size // ARCHIVE_EVERY


def _has_card(index: int) -> bool:
    return index % 17 != 16


def _price_row(world: SandboxWorld, state: YMState, item: CatalogItem) -> dict[str, Any] | None:
    written = state.prices.get(item.article)
    if written is not None:
        return written
    if item.index % 29 == 28:
        return None  # a new offer without a price yet
    price: dict[str, Any] = {"value": _base_price(item), "currencyId": "RUR",
                             "updatedAt": _iso(state.start_ts - DAY * (1 + item.index % 20))}
    if item.index % 4 == 0:
        price["discountBase"] = Decimal(_whole(_base_price(item) * Decimal("1.25")))
    if item.index % 3 == 1:  # the seller set a minimum for the "Бестселлеры Маркета" promo in the cabinet
        price["minimumForBestseller"] = Decimal(_whole(_base_price(item) * Decimal("0.8")))
    return price


# Names of the category parameters (yandex_market_categories), for params read back after a write.
PARAMETER_NAMES = {14871214: "Цвет товара", 23674510: "Материал", 7893318: "Комплектация", 15341921: "Вес"}


def _params(item: CatalogItem, written: dict[str, Any]) -> list[dict[str, Any]]:
    """The offer's characteristics by name: the generated colour, then what the seller sent."""
    values = {"Цвет товара": item.colour}
    for parameter_id, value in (written.get("parameters") or {}).items():
        values[PARAMETER_NAMES.get(parameter_id, str(parameter_id))] = value
    return [{"name": name, "value": value} for name, value in values.items()]


def _offer_mapping(world: SandboxWorld, state: YMState, item: CatalogItem) -> dict[str, Any]:
    written = state.content.get(item.article, {})
    archived = _is_archived(world, state, item.index)
    offer: dict[str, Any] = {
        "offerId": item.article,
        "name": written.get("name", item.name),
        "marketCategoryId": CATEGORY_IDS[item.category],
        "category": item.category,
        "pictures": list(written.get("pictures") or item.images),
        "vendor": item.brand,
        "vendorCode": f"{item.brand[:3].upper()}-{item.index + 1:05d}",
        "barcodes": [item.barcode],
        "description": written.get("description", item.description),
        "weightDimensions": {"length": 30, "width": 20, "height": 10, "weight": Decimal(item.weight_g) / 1000},
        "params": _params(item, written),
        "cardStatus": "HAS_CARD_CAN_UPDATE" if _has_card(item.index) else "NO_CARD_NEED_CONTENT",
        "campaigns": [{"campaignId": cid, "status": "ARCHIVED" if archived else "PUBLISHED"}
                      for cid in sorted(YM_CAMPAIGNS)],
        "archived": archived,
    }
    price = _price_row(world, state, item)
    if price is not None:
        offer["basicPrice"] = {k: price[k] for k in ("value", "currencyId", "discountBase", "updatedAt") if k in price}
    row: dict[str, Any] = {"offer": offer}
    if _has_card(item.index):
        row["mapping"] = {"marketSku": MARKET_SKU_BASE + item.index, "marketSkuName": item.name,
                          "marketModelName": item.name, "marketCategoryId": CATEGORY_IDS[item.category],
                          "marketCategoryName": item.category}
    return row


def _catalog_indices(world: SandboxWorld, offer_ids: list[str] | None) -> list[int] | None:
    """Catalogue positions of the requested offers (unknown ones skipped); None = no filter."""
    if offer_ids is None:
        return None
    positions = []
    for offer in offer_ids:
        if offer.startswith("PRL-") and offer[4:].isdigit():
            index = int(offer[4:]) - 1
            if 0 <= index < len(world.catalog) and world.catalog[index].article == offer:
                positions.append(index)
    return positions


def _list_arg(body: dict[str, Any], name: str, maximum: int) -> list[Any] | None:
    values = body.get(name)
    if values is None:
        return None
    if not isinstance(values, list) or not values:
        raise BadRequest(f"{name} must be a non-empty array")
    if len(values) > maximum:
        raise BadRequest(f"{name} must contain at most {maximum} items", "LIMIT_EXCEEDED")
    return values


@_handler
def offer_mappings(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    body = _body(request)
    limit = _limit(request, 100, 50, truncate=True)
    positions = _catalog_indices(world, _list_arg(body, "offerIds", 100))  # listed ids: archived or not
    vendors = set(body.get("vendorNames") or ())
    if positions is None:
        # GetOfferMappingsRequest.archived: true -> the archive only; absent or false -> no archived offers.
        archived = body.get("archived") is True
        positions = _archive_positions(world, state, archived)
        if vendors:
            positions = [i for i in range(len(world.catalog))
                         if world.catalog[i].brand in vendors and _is_archived(world, state, i) == archived]
    total = _live_total(len(world.catalog)) if positions is None else len(positions)
    page, token = _offset_page(total, request, limit)
    rows = [_offer_mapping(world, state, world.catalog[_live_index(i) if positions is None else positions[i]])
            for i in page]
    return _ok({"offerMappings": rows, "paging": _paging(token)})


@_handler
def archive_offers(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    """Offers into the archive, except those stored in Market's warehouses (OFFER_HAS_STOCKS)."""
    offer_ids = _list_arg(_body(request), "offerIds", 200)
    if not offer_ids:
        raise BadRequest("offerIds is required")
    refused = []
    for offer in map(str, offer_ids):
        known = _catalog_indices(world, [offer])
        if not known:
            refused.append({"offerId": offer, "error": "UNKNOWN"})
        elif _stock(world, state, FBY_CAMPAIGN, world.catalog[known[0]])[0] > 0:
            refused.append({"offerId": offer, "error": "OFFER_HAS_STOCKS"})
        else:
            state.archive[offer] = True
    return _ok({"notArchivedOffers": refused} if refused else {})


@_handler
def unarchive_offers(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    offer_ids = _list_arg(_body(request), "offerIds", 200)
    if not offer_ids:
        raise BadRequest("offerIds is required")
    refused = []
    for offer in map(str, offer_ids):
        if _catalog_indices(world, [offer]):
            state.archive[offer] = False
        else:
            refused.append(offer)
    return _ok({"notUnarchivedOfferIds": refused} if refused else {})


@_handler
def offer_prices(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    body = _body(request)
    limit = _limit(request, 500, 250, truncate=True)
    positions = _catalog_indices(world, _list_arg(body, "offerIds", 200))
    total = len(world.catalog) if positions is None else len(positions)
    page, token = _offset_page(total, request, limit)
    rows = []
    for i in page:
        item = world.catalog[i if positions is None else positions[i]]
        row: dict[str, Any] = {"offerId": item.article}
        price = _price_row(world, state, item)
        if price is not None:
            row["price"] = price
        rows.append(row)
    return _ok({"offers": rows, "paging": _paging(token)})


def _h(world: SandboxWorld, *parts: object) -> int:
    digest = hashlib.blake2b(repr((world.config.seed, *parts)).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


def _stock_warehouse(campaign: int, index: int) -> int:
    if campaign == FBY_CAMPAIGN:
        return MARKET_WAREHOUSE_IDS[index % len(MARKET_WAREHOUSE_IDS)]
    return SELLER_WAREHOUSE_OF[campaign]


def _stock(world: SandboxWorld, state: YMState, campaign: int, item: CatalogItem) -> tuple[int, int, int]:
    """(on hand, reserved, updated ts)."""
    written = state.stocks.get((campaign, item.article))
    reserved = _h(world, "freeze", campaign, item.index) % 3
    if written is not None:
        return written[0] + reserved, reserved, written[1]
    count = _h(world, "stock", campaign, item.index) % 60
    count = 0 if count < 6 else count
    return count + (reserved if count else 0), reserved if count else 0, state.start_ts - 3600 * (item.index % 48)


@_handler
def stocks_read(world: SandboxWorld, state: YMState, request: SandboxRequest, campaignId: str) -> httpx.Response:
    campaign = int(campaignId)
    body = _body(request)
    limit = _limit(request, 200, 100)
    positions: list[int] | None = _catalog_indices(world, _list_arg(body, "offerIds", 500))
    warehouse_filter = body.get("stocksWarehouseId")
    if positions is None:
        # GetWarehouseStocksRequest.archived: true -> archived offers; absent or false -> the others.
        positions = _archive_positions(world, state, body.get("archived") is True)
        if positions is None and (warehouse_filter is not None or body.get("hasStocks") is not None):
            positions = [i for i in range(len(world.catalog)) if not _is_archived(world, state, i)]
    if positions is not None and (warehouse_filter is not None or body.get("hasStocks") is not None):
        positions = [i for i in positions
                     if (warehouse_filter is None or _stock_warehouse(campaign, i) == warehouse_filter)
                     and (body.get("hasStocks") is None
                          or (_stock(world, state, campaign, world.catalog[i])[0] > 0) == body["hasStocks"])]
    # No filter: the live (not archived) offers, addressed arithmetically so a page costs its own size.
    total = _live_total(len(world.catalog)) if positions is None else len(positions)
    page, token = _offset_page(total, request, limit)
    grouped: dict[int, list[dict[str, Any]]] = {}
    for i in page:
        item = world.catalog[_live_index(i) if positions is None else positions[i]]
        on_hand, reserved, updated = _stock(world, state, campaign, item)
        stocks = [{"type": "FIT", "count": on_hand}, {"type": "AVAILABLE", "count": on_hand - reserved}]
        if reserved:
            stocks.append({"type": "FREEZE", "count": reserved})
        grouped.setdefault(_stock_warehouse(campaign, item.index), []).append(
            {"offerId": item.article, "stocks": stocks, "updatedAt": _iso(updated)})
    warehouses = [{"warehouseId": wid, "offers": offers} for wid, offers in grouped.items()]
    return _ok({"warehouses": warehouses, "paging": _paging(token)})


@_handler
def stocks_write(world: SandboxWorld, state: YMState, request: SandboxRequest, campaignId: str) -> httpx.Response:
    campaign = int(campaignId)
    skus = _list_arg(_body(request), "skus", 2000)
    if not skus:
        raise BadRequest("skus is required")
    if campaign == FBY_CAMPAIGN:
        raise BadRequest("Остатки магазина с моделью FBY ведёт Маркет: обновлять их через API нельзя",
                         "CAMPAIGN_TYPE_NOT_SUPPORTED")
    errors, seen, updates = [], set(), []
    for n, row in enumerate(skus):
        sku = str(row.get("sku", ""))
        items = row.get("items") or []
        if sku in seen:
            errors.append({"code": "DUPLICATE_SHOP_SKU", "message": f"skus[{n}]: товар {sku} передан дважды"})
        elif not _catalog_indices(world, [sku]):
            errors.append({"code": "OFFER_NOT_FOUND", "message": f"skus[{n}]: товар {sku} не найден в каталоге"})
        elif sku in world.faults.reject_offer_ids:
            errors.append({"code": "CONSTRAINT_VIOLATION", "message": f"skus[{n}]: " + REJECT_STOCK.format(offer=sku)})
        elif len(items) != 1 or not isinstance(items[0].get("count"), int) or not 0 <= items[0]["count"] <= 2 * 10**9:
            errors.append({"code": "BAD_REQUEST", "message": f"skus[{n}]: для товара {sku} нужен один count от 0"})
        else:
            updates.append((sku, items[0]["count"]))
        seen.add(sku)
    if errors:
        return json_response({"status": "ERROR", "errors": errors}, 400)
    now = _ts(world.now)
    for sku, count in updates:
        state.stocks[(campaign, sku)] = (count, now)
    return json_response({"status": "OK"})


@_handler
def price_updates(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    offers = _list_arg(_body(request), "offers", 500)
    if not offers:
        raise BadRequest("offers is required")
    errors, seen, updates = [], set(), []
    for n, row in enumerate(offers):
        offer = str(row.get("offerId", ""))
        price = row.get("price") or {}
        value = price.get("value")
        if offer in seen:
            errors.append({"code": "DUPLICATE_OFFER", "message": f"offers[{n}]: товар {offer} передан дважды"})
        elif not _catalog_indices(world, [offer]):
            errors.append({"code": "OFFER_NOT_FOUND", "message": f"offers[{n}]: товар {offer} не найден в каталоге"})
        elif offer in world.faults.reject_offer_ids:
            errors.append({"code": "CONSTRAINT_VIOLATION",
                           "message": f"offers[{n}]: " + REJECT_PRICE.format(offer=offer)})
        elif not isinstance(value, (int, float)) or value <= 0 or price.get("currencyId") != "RUR":
            errors.append({"code": "INVALID_PRICE",
                           "message": f"offers[{n}]: у товара {offer} неверная цена или валюта"})
        else:
            base = price.get("discountBase")
            discount = (_exact(base) - _exact(value)) / _exact(base) if base else None
            if discount is not None and not Decimal("0.05") <= discount <= Decimal("0.99"):
                errors.append({"code": "INVALID_PRICE",
                               "message": f"offers[{n}]: цена до скидки для {offer} должна быть выше цены на 5–99%"})
            else:
                updates.append((offer, price))
        seen.add(offer)
    if errors:
        return json_response({"status": "ERROR", "errors": errors}, 400)
    now = _iso(_ts(world.now))
    for offer, price in updates:
        # The update replaces the whole price: UpdateBusinessPricesDTO.minimumForBestseller "не передать
        # этот параметр — удалится значение, которое вы указали ранее" (the same for discountBase).
        written: dict[str, Any] = {"value": _exact(price["value"]), "currencyId": "RUR", "updatedAt": now}
        for name in ("discountBase", "minimumForBestseller"):
            if price.get(name) is not None:
                written[name] = _exact(price[name])
        held = _quarantined(world, state, offer, written)
        if held is None:
            state.prices[offer] = written
            state.quarantine.pop(offer, None)  # a new valid price ends a quarantine
        else:
            state.quarantine[offer] = held
    return json_response({"status": "OK"})


def _quarantined(world: SandboxWorld, state: YMState, offer: str, written: dict[str, Any]) -> dict[str, Any] | None:
    """PRICE_CHANGE quarantine: the new price moves the current one by more than the cabinet's threshold."""
    threshold = world.faults.ym_price_quarantine_percent
    index = _catalog_indices(world, [offer])
    if not threshold or not index:
        return None
    current = _price_row(world, state, world.catalog[index[0]])
    if current is None:
        return None
    last = _exact(current["value"])
    if abs(written["value"] - last) * 100 <= last * threshold:
        return None
    return {"type": "PRICE_CHANGE", "price": written["value"], "last": last, "min": None, "written": written}


def _exact(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


@_handler
def mapping_updates(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    rows = _list_arg(_body(request), "offerMappings", 500)
    if not rows:
        raise BadRequest("offerMappings is required")
    results = []
    for n, row in enumerate(rows):
        offer = row.get("offer") or {}
        offer_id = str(offer.get("offerId", ""))
        if len(offer.get("name") or "") > 256 or len(offer.get("description") or "") > 6000:
            raise BadRequest(f"offerMappings[{n}].offer: name ≤ 256 and description ≤ 6000 characters")
        if not _catalog_indices(world, [offer_id]):
            results.append({"offerId": offer_id, "errors": [{"type": "EMPTY_MARKET_CATEGORY", "message":
                            "Товара нет в каталоге: чтобы создать его, укажите категорию"}]})
            continue
        if offer_id in world.faults.reject_offer_ids:
            results.append({"offerId": offer_id, "errors": [{"type": "INVALID_CATEGORY",
                                                             "message": REJECT_CONTENT.format(offer=offer_id)}]})
            continue
        written = state.content.setdefault(offer_id, {})
        for name in ("name", "description"):
            if offer.get(name) is not None:
                written[name] = str(offer[name])
        pictures = offer.get("pictures")
        if isinstance(pictures, list) and pictures:
            written["pictures"] = [str(url) for url in pictures]
        for value in offer.get("parameterValues") or []:
            if isinstance(value, dict) and isinstance(value.get("parameterId"), int):
                written.setdefault("parameters", {})[value["parameterId"]] = str(value.get("value") or "")
        results.append({"offerId": offer_id})
    return json_response({"status": "OK", "results": results})


# ---------------------------------------------------------------------------------------------
# Orders


def _stats_status(order: dict[str, Any]) -> str:
    status, substatus = order["status"], order["substatus"]
    if status == "CANCELLED":
        if substatus in UNREDEEMED_SUBSTATUSES:
            return "CANCELLED_IN_DELIVERY"
        return "CANCELLED_IN_PROCESSING" if substatus == "SHOP_FAILED" else "CANCELLED_BEFORE_PROCESSING"
    return str(status) if status != "PLACING" else "PENDING"


def _order_json(order: dict[str, Any]) -> dict[str, Any]:
    program = order["program"]
    items = []
    for item in order["items"]:
        prices: dict[str, Any] = {"payment": _money(item["unit"] * item["count"] - item["cashback"]), "vat": "NO_VAT"}
        if item["subsidy"]:
            prices["subsidy"] = _money(item["subsidy"])
        if item["cashback"]:
            prices["cashback"] = _money(item["cashback"])
        row: dict[str, Any] = {"id": item["id"], "offerId": item["offerId"], "offerName": item["name"],
                               "count": item["count"], "prices": prices}
        if order["status"] in ("DELIVERED", "RETURNED", "PARTIALLY_RETURNED"):
            row["itemStatuses"] = [{"status": "DELIVERED_TO_BUYER", "count": item["count"]}]
        items.append(row)
    created = order["created"]
    seller_delivers = program == "DBS"
    delivery: dict[str, Any] = {
        "type": "PICKUP" if order["pickup"] else "DELIVERY",
        "serviceName": "Собственная служба доставки" if seller_delivers else "Доставка Яндекс Маркета",
        "deliveryServiceId": 99 if seller_delivers else 1005546,
        "warehouseId": str(order["warehouse"]),
        "deliveryPartnerType": "SHOP" if seller_delivers else "YANDEX_MARKET",
        "dates": {"fromDate": _day(created + 2 * DAY), "toDate": _day(created + 4 * DAY)},
    }
    if program != "FBY":
        delivery["shipment"] = {"id": order["id"] * 3, "shipmentDate": _day(created + DAY)}
    place = {"address": {"country": "Россия", "city": order["city"]},
             "region": {"id": REGIONS.get(order["city"], 225), "name": order["city"], "type": "CITY"}}
    delivery["pickup" if order["pickup"] else "courier"] = place
    if order["status"] in ("DELIVERY", "PICKUP", "DELIVERED") or order["substatus"] == "SHIPPED":
        delivery["tracks"] = [{"trackCode": order["track"], "deliveryServiceId": delivery["deliveryServiceId"]}]
    return {
        "orderId": order["id"], "campaignId": order["campaign"], "programType": program,
        "externalOrderId": f"PRL-{order['id']}",
        "status": order["status"], "substatus": order["substatus"],
        "creationDate": _iso(created), "updateDate": _iso(order["updated"]),
        "paymentType": "PREPAID", "paymentMethod": "YANDEX", "fake": False, "items": items,
        "prices": {"payment": _money(sum((i["unit"] * i["count"] - i["cashback"] for i in order["items"]),
                                         Decimal(0)))},
        "delivery": delivery,
        "buyerType": "PERSON", "cancelRequested": False, "sourcePlatform": "MARKET",
    }


@_handler
def business_orders(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    body = _body(request)
    limit = _limit(request, 50, 50, truncate=True)
    order_ids = _list_arg(body, "orderIds", 50)
    campaign_ids = set(_list_arg(body, "campaignIds", 50) or ())
    programs = set(body.get("programTypes") or ())
    statuses = set(body.get("statuses") or ())
    dates = body.get("dates") or {}
    now = _ts(world.now)
    lo = _parse_time(dates["updateDateFrom"], "updateDateFrom") if dates.get("updateDateFrom") else None
    hi = _parse_time(dates["updateDateTo"], "updateDateTo") if dates.get("updateDateTo") else None
    if lo is None and hi is None:
        lo, hi = now - 30 * DAY, now
    lo = lo if lo is not None else (hi or now) - 30 * DAY
    hi = hi if hi is not None else lo + 30 * DAY
    if hi - lo > 30 * DAY:
        raise BadRequest("Период updateDateFrom–updateDateTo не может быть больше 30 дней", "INVALID_QUERY_PARAMETER")

    def accept(order_id: int) -> bool:
        if order_ids is not None and order_id not in order_ids:
            return False
        program = _order_program(state, order_id)
        if campaign_ids and CAMPAIGN_OF_PROGRAM[program] not in campaign_ids:
            return False
        if programs and program not in programs:
            return False
        return not statuses or _order_status(state, order_id) in statuses

    after = _decode(_token_arg(request), 2)
    ids, token = _keyset_page(state.order_keys, lo, hi, after, limit, accept)
    orders = [_order_json(o) for o in (_order(world, state, i) for i in ids) if o is not None]
    return json_response({"orders": orders, "paging": _paging(token)})


# ---------------------------------------------------------------------------------------------
# Returns


def _return_json(row: dict[str, Any]) -> dict[str, Any]:
    items = []
    for n, returned in enumerate(row["items"]):
        item = returned["item"]
        out: dict[str, Any] = {"marketSku": MARKET_SKU_BASE + item["index"], "shopSku": item["offerId"],
                               "count": returned["count"]}
        if returned["reason"] is not None:
            reason, comment = returned["reason"]
            out["decisions"] = [{"returnItemId": row["id"] * 10 + n, "count": returned["count"], "comment": comment,
                                 "reasonType": reason, "amount": _money(item["unit"] * returned["count"])}]
        items.append(out)
    return {
        "id": row["id"], "orderId": row["orderId"], "creationDate": _iso(row["created"]),
        "updateDate": _iso(row["updated"]), "refundStatus": row["refundStatus"],
        "shipmentRecipientType": "SHOP", "shipmentStatus": row["shipmentStatus"],
        "amount": _money(row["amount"]), "items": items, "returnType": row["type"], "fastReturn": False,
    }


@_handler
def returns(world: SandboxWorld, state: YMState, request: SandboxRequest, campaignId: str) -> httpx.Response:
    limit = _limit(request, 100, 50, truncate=True)
    start = request.arg("fromDate") or request.arg("from_date")
    end = request.arg("toDate") or request.arg("to_date")
    lo = _day_start(_parse_day(start, "fromDate")) if start else 0
    hi = _day_start(_parse_day(end, "toDate")) + DAY - 1 if end else 1 << 40
    kind = request.arg("type")
    try:
        wanted_orders = {int(x) for v in request.args("orderIds") for x in v.split(",") if x}
    except ValueError:
        raise BadRequest("orderIds must be integers", "INVALID_QUERY_PARAMETER") from None
    statuses = {x for v in request.args("statuses") for x in v.split(",") if x}

    def accept(return_id: int) -> bool:
        if not (kind or wanted_orders or statuses):
            return True
        row = _return(world, state, return_id)
        return ((kind is None or row["type"] == kind) and (not wanted_orders or row["orderId"] in wanted_orders)
                and (not statuses or row["refundStatus"] in statuses))

    after = _decode(_token_arg(request), 2)
    ids, token = _keyset_page(state.return_keys[int(campaignId)], lo, hi, after, limit, accept)
    return _ok({"returns": [_return_json(_return(world, state, i)) for i in ids], "paging": _paging(token)})


# ---------------------------------------------------------------------------------------------
# Reviews (goods feedback)


def _review_fields(world: SandboxWorld, feedback_id: int, created: int) -> dict[str, Any]:
    rng = world.rng(MP, "review", feedback_id)
    item = world.catalog[rng.randrange(len(world.catalog))]
    rating, text = world.review_text(rng)
    author = f"{world.person(rng)} {'АБВГДЕЖЗИКЛМНОПРС'[rng.randrange(17)]}."
    photos = [f"https://avatars.mds.yandex.net/get-marketpic/{feedback_id}/pic{k}/orig" for k in range(2)] \
        if rating >= 4 and rng.random() < 0.3 else []
    return {"id": feedback_id, "created": created, "offerId": item.article, "rating": rating, "text": text,
            "author": author, "photos": photos, "orderId": ORDER_BASE_ID + rng.randrange(max(1, world.config.orders))}


def _review(world: SandboxWorld, state: YMState, feedback_id: int, created: int) -> dict[str, Any]:
    if feedback_id in state.extra_reviews:
        return state.extra_reviews[feedback_id]
    return _review_fields(world, feedback_id, created)


def _review_comments(state: YMState, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The seller already answered the older base reviews."""
    written = state.review_comments.get(row["id"], [])
    old = row["id"] - FEEDBACK_BASE_ID < state.base_reviews * 0.6
    return ([{"id": row["id"] * 2, "text": SELLER_REPLY}] if old else []) + written


def _review_json(world: SandboxWorld, state: YMState, row: dict[str, Any]) -> dict[str, Any]:
    comments = _review_comments(state, row)
    text = row["text"]
    if world.faults.nul_in_texts and row["id"] % 3 == 0:  # a third of the reviews, mid-text
        text = text[: len(text) // 2] + "\x00" + text[len(text) // 2 :]
    description: dict[str, Any] = {"comment": text}
    if row["rating"] >= 4:
        description["advantages"] = "Качество, внешний вид"
    if row["rating"] <= 3:
        description["disadvantages"] = "Есть недочёты в пошиве"
    out: dict[str, Any] = {
        "feedbackId": row["id"], "createdAt": _iso(row["created"]), "needReaction": not comments,
        "identifiers": {"orderId": row["orderId"], "offerId": row["offerId"]}, "author": row["author"],
        "description": description,
        "statistics": {"rating": row["rating"], "commentsCount": len(comments), "recommended": row["rating"] >= 4},
    }
    if row["photos"]:
        out["media"] = {"photos": row["photos"]}
    return out


@_handler
def goods_feedback(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    body = _body(request)
    limit = _limit(request, 50, 25)
    ids = _list_arg(body, "feedbackIds", 50)
    offers = set(_list_arg(body, "offerIds", 20) or ())
    ratings = set(body.get("ratingValues") or ())
    need_reaction = body.get("reactionStatus") == "NEED_REACTION"
    hi = _parse_time(body["dateTimeTo"], "dateTimeTo") if body.get("dateTimeTo") else _ts(world.now)
    lo = _parse_time(body["dateTimeFrom"], "dateTimeFrom") + 1 if body.get("dateTimeFrom") else hi - 180 * DAY
    if hi - lo > 184 * DAY:
        raise BadRequest("Период dateTimeFrom–dateTimeTo не может быть больше 6 месяцев")
    if ids:  # feedbackIds alone: no dates
        lo, hi = 0, 1 << 40

    def accept(feedback_id: int) -> bool:
        if ids is not None and feedback_id not in ids:
            return False
        if not (offers or ratings or need_reaction):
            return True
        row = _review(world, state, feedback_id, _review_created(state, feedback_id))
        return ((not offers or row["offerId"] in offers) and (not ratings or row["rating"] in ratings)
                and (not need_reaction or not _review_comments(state, row)))

    after = _decode(_token_arg(request), 2)
    found, token = _keyset_page(state.review_keys, lo, hi, after, limit, accept, descending=True)
    rows = [_review_json(world, state, _review(world, state, i, _review_created(state, i))) for i in found]
    return _ok({"feedbacks": rows, "paging": _paging(token)})


def _review_created(state: YMState, feedback_id: int) -> int:
    if feedback_id in state.extra_reviews:
        return int(state.extra_reviews[feedback_id]["created"])
    j = feedback_id - FEEDBACK_BASE_ID
    return _spread(state.start_ts, REVIEW_SPAN, j, state.base_reviews)


@_handler
def feedback_comment(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    body = _body(request)
    feedback_id = body.get("feedbackId")
    comment = body.get("comment") or {}
    text = comment.get("text")
    if not isinstance(feedback_id, int) or not isinstance(text, str) or not 1 <= len(text) <= 4096:
        raise BadRequest("feedbackId and comment.text (1–4096 characters) are required")
    j = feedback_id - FEEDBACK_BASE_ID
    if not (0 <= j < state.base_reviews or feedback_id in state.extra_reviews):
        return _error(404, "NOT_FOUND", f"Отзыв {feedback_id} не найден")
    comments = state.review_comments.setdefault(feedback_id, [])
    if comment.get("id") is not None:
        existing = next((c for c in comments if c["id"] == comment["id"]), None)
        if existing is None:
            return _error(404, "NOT_FOUND", f"Комментарий {comment['id']} не найден")
        existing["text"] = text
        saved = existing
    else:
        state.next_entity_id += 1
        saved = {"id": state.next_entity_id, "text": text}
        comments.append(saved)
    return _ok({"id": saved["id"], "text": text, "canModify": True, "author": {"type": "BUSINESS", "name": "Прилавок"},
                "status": "PUBLISHED", "feedbackId": feedback_id})


# ---------------------------------------------------------------------------------------------
# Questions


def _question_fields(world: SandboxWorld, question_id: int, created: int) -> dict[str, Any]:
    rng = world.rng(MP, "question", question_id)
    item = world.catalog[rng.randrange(len(world.catalog))]
    return {"id": question_id, "created": created, "offerId": item.article, "categoryId": CATEGORY_IDS[item.category],
            "text": world.question_text(rng), "author": world.person(rng), "likes": rng.randrange(5)}


def _question(world: SandboxWorld, state: YMState, question_id: int) -> dict[str, Any]:
    if question_id in state.extra_questions:
        return state.extra_questions[question_id]
    j = question_id - QUESTION_BASE_ID
    return _question_fields(world, question_id, _spread(state.start_ts, QUESTION_SPAN, j, state.base_questions))


def _question_answered(state: YMState, question_id: int) -> bool:
    if question_id in state.question_answers:
        return not state.question_answers[question_id].get("deleted", False)
    return question_id - QUESTION_BASE_ID < state.base_questions * 0.5


@_handler
def goods_questions(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    body = _body(request)
    limit = _limit(request, 50, 25)
    ids = _list_arg(body, "questionIds", 50)
    categories = set(body.get("categoryIds") or ())
    need_answer = body.get("needAnswer") is True
    today = world.now.astimezone(MOSCOW).date()
    end = _parse_day(body["dateTo"], "dateTo") if body.get("dateTo") else today
    start = _parse_day(body["dateFrom"], "dateFrom") if body.get("dateFrom") else end - timedelta(days=30)
    if (end - start).days > 31:
        raise BadRequest("Период dateFrom–dateTo не может быть больше месяца")
    lo, hi = (_day_start(start), _day_start(end) + DAY - 1) if ids is None else (0, 1 << 40)

    def accept(question_id: int) -> bool:
        if ids is not None and question_id not in ids:
            return False
        if need_answer and _question_answered(state, question_id):
            return False
        return not categories or _question(world, state, question_id)["categoryId"] in categories

    after = _decode(_token_arg(request), 2)
    descending = body.get("sort", "CREATED_AT_DESC") != "CREATED_AT_ASC"
    found, token = _keyset_page(state.question_keys, lo, hi, after, limit, accept, descending=descending)
    rows = []
    for question_id in found:
        q = _question(world, state, question_id)
        rows.append({
            "questionIdentifiers": {"id": q["id"], "categoryId": q["categoryId"], "offerId": q["offerId"]},
            "businessId": YM_BUSINESS_ID, "text": q["text"], "createdAt": _iso(q["created"]),
            "votes": {"likes": q["likes"], "dislikes": 0}, "author": {"type": "USER", "name": q["author"]},
        })
    return _ok({"questions": rows, "paging": _paging(token), "totalCount": len(rows) + (1 if token else 0)})


@_handler
def question_update(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    body = _body(request)
    operation = body.get("operationType")
    text = body.get("text")
    if operation == "CREATE":
        parent = body.get("parentEntityId") or {}
        question_id = parent.get("id")
        if parent.get("type") != "QUESTION" or not isinstance(question_id, int):
            raise BadRequest("parentEntityId {id, type: QUESTION} is required to answer a question")
        if not isinstance(text, str) or not 1 <= len(text) <= 5000:
            raise BadRequest("text (1–5000 characters) is required")
        j = question_id - QUESTION_BASE_ID
        if not (0 <= j < state.base_questions or question_id in state.extra_questions):
            return _error(404, "NOT_FOUND", f"Вопрос {question_id} не найден")
        state.next_entity_id += 1
        state.question_answers[question_id] = {"id": state.next_entity_id, "text": text}
        return _ok({"entity": {"id": state.next_entity_id, "type": "ANSWER"}})
    entity = body.get("entityId") or {}
    target = next((q for q, a in state.question_answers.items() if a["id"] == entity.get("id")), None)
    if operation not in ("UPDATE", "DELETE") or entity.get("type") != "ANSWER":
        raise BadRequest("operationType CREATE needs parentEntityId; UPDATE/DELETE need entityId of an ANSWER")
    if target is None:
        return _error(404, "NOT_FOUND", f"Ответ {entity.get('id')} не найден")
    if operation == "DELETE":
        state.question_answers[target]["deleted"] = True
    else:
        state.question_answers[target]["text"] = text
    return _ok({"entity": {"id": entity["id"], "type": "ANSWER"}})


# ---------------------------------------------------------------------------------------------
# Promotions


def _eligible(world: SandboxWorld, promo: Promo) -> list[int]:
    return [i for i in range(promo.offset, min(len(world.catalog), 5000), promo.step) if not _archived(i)]


def _promo_window(state: YMState, promo: Promo) -> tuple[int, int]:
    return state.start_ts + promo.start_days * DAY, state.start_ts + promo.end_days * DAY


def _promo_json(world: SandboxWorld, state: YMState, promo: Promo) -> dict[str, Any]:
    start, end = _promo_window(state, promo)
    active = len(state.promo_offers.get(promo.id, {}))
    if promo is PAST_PROMO:
        active = 12
    out: dict[str, Any] = {
        "id": promo.id, "name": promo.name,
        "period": {"dateTimeFrom": _iso(start), "dateTimeTo": _iso(end)},
        "participating": active > 0,
        "assortmentInfo": {"activeOffers": active, "potentialOffers": len(_eligible(world, promo)),
                           "processing": False},
        "mechanicsInfo": {"type": promo.mechanics},
        "bestsellerInfo": {"bestseller": False},
        "channels": ["CPA", "MAIN_PAGE_CAROUSEL"],
    }
    if promo.promocode:
        out["mechanicsInfo"]["promocodeInfo"] = {"promocode": promo.promocode[0], "discount": promo.promocode[1]}
    if promo.mechanics == "DIRECT_DISCOUNT":
        out["bestsellerInfo"]["entryDeadline"] = _iso(start - DAY)
    return out


def _find_promo(promo_id: Any) -> Promo:
    promo = next((p for p in (*PROMOS, PAST_PROMO) if p.id == promo_id), None)
    if promo is None:
        raise BadRequest(f"Акция {promo_id} не найдена", "NOT_FOUND")
    return promo


@_handler
def promos(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    body = _body(request)
    participation = body.get("participation")
    mechanics = body.get("mechanics")
    now = _ts(world.now)
    if participation == "PARTICIPATED":
        chosen = [PAST_PROMO]
    else:
        chosen = [p for p in PROMOS if _promo_window(state, p)[1] > now]
        if participation == "PARTICIPATING_NOW":
            chosen = [p for p in chosen if state.promo_offers.get(p.id) and _promo_window(state, p)[0] <= now]
    rows = [_promo_json(world, state, p) for p in chosen if mechanics is None or p.mechanics == mechanics]
    return _ok({"promos": rows})


def _max_promo_price(item: CatalogItem) -> int:
    return _whole(_base_price(item) * Decimal("0.9"))


@_handler
def promo_offers(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    body = _body(request)
    promo = _find_promo(body.get("promoId"))
    limit = _limit(request, 500, 250)
    eligible = _eligible(world, promo)
    joined = state.promo_offers.get(promo.id, {})
    status_type = body.get("statusType")
    if status_type == "MANUALLY_ADDED":
        eligible = [i for i in eligible if world.catalog[i].article in joined]
    elif status_type == "NOT_MANUALLY_ADDED":
        eligible = [i for i in eligible if world.catalog[i].article not in joined]
    page, token = _offset_page(len(eligible), request, limit)
    rows = []
    for i in page:
        item = world.catalog[eligible[i]]
        params = joined.get(item.article)
        discount: dict[str, Any] = {}
        if promo.mechanics != "MARKET_PROMOCODE":
            discount = {"maxPromoPrice": _max_promo_price(item)}
            if params is not None:
                discount.update(price=params["price"], promoPrice=params["promoPrice"])
        rows.append({"offerId": item.article, "status": "MANUAL" if params is not None else "NOT_PARTICIPATING",
                     "params": {"discountParams": discount} if discount else {}})
    return _ok({"offers": rows, "paging": _paging(token)})


@_handler
def promo_offers_update(world: SandboxWorld, state: YMState, request: SandboxRequest,
                        businessId: str) -> httpx.Response:
    body = _body(request)
    promo = _find_promo(body.get("promoId"))
    offers = _list_arg(body, "offers", 500)
    if not offers:
        raise BadRequest("offers is required")
    eligible = {world.catalog[i].article for i in _eligible(world, promo)}
    joined = state.promo_offers.setdefault(promo.id, {})
    rejected, seen = [], set()
    for row in offers:
        offer = str(row.get("offerId", ""))
        params = ((row.get("params") or {}).get("discountParams")) or {}
        reason = None
        if offer in seen:
            reason = "OFFER_DUPLICATION"
        elif not _catalog_indices(world, [offer]):
            reason = "OFFER_DOES_NOT_EXIST"
        elif offer not in eligible:
            reason = "OFFER_NOT_ELIGIBLE_FOR_PROMO"
        elif promo.mechanics != "MARKET_PROMOCODE":
            item = world.catalog[int(offer[4:]) - 1]
            if params.get("promoPrice") is None:
                reason = "EMPTY_PROMO_PRICE"
            elif params.get("price") is None:
                reason = "EMPTY_OLD_PRICE"
            elif params["promoPrice"] > _max_promo_price(item) or params["promoPrice"] >= params["price"]:
                reason = "PROMO_PRICE_BIGGER_THAN_MAX"
        seen.add(offer)
        if reason is not None:
            rejected.append({"offerId": offer, "reason": reason})
        else:
            joined[offer] = {"price": params.get("price", 0), "promoPrice": params.get("promoPrice", 0)}
    return _ok({"rejectedOffers": rejected} if rejected else {})


@_handler
def promo_offers_delete(world: SandboxWorld, state: YMState, request: SandboxRequest,
                        businessId: str) -> httpx.Response:
    body = _body(request)
    promo = _find_promo(body.get("promoId"))
    joined = state.promo_offers.setdefault(promo.id, {})
    if body.get("deleteAllOffers") is True:
        joined.clear()
        return _ok({})
    offer_ids = _list_arg(body, "offerIds", 500)
    if not offer_ids:
        raise BadRequest("offerIds or deleteAllOffers is required")
    rejected = []
    for offer in offer_ids:
        if not _catalog_indices(world, [str(offer)]):
            rejected.append({"offerId": str(offer), "reason": "OFFER_DOES_NOT_EXIST"})
        else:
            joined.pop(str(offer), None)
    return _ok({"rejectedOffers": rejected} if rejected else {})


# ---------------------------------------------------------------------------------------------
# Finance: order stats


def _stats_json(order: dict[str, Any]) -> dict[str, Any]:
    status = _stats_status(order)
    program = order["program"]
    items, total = [], Decimal(0)
    for item in order["items"]:
        line = item["unit"] * item["count"]
        total += line
        prices = [{"type": "BUYER", "costPerItem": item["unit"] - item["cashback"] / item["count"],
                   "total": line - item["cashback"]}]
        if item["cashback"]:
            prices.append({"type": "CASHBACK", "costPerItem": item["cashback"] / item["count"],
                           "total": item["cashback"]})
        items.append({"offerName": item["name"], "marketSku": MARKET_SKU_BASE + item["index"],
                      "shopSku": item["offerId"], "count": item["count"], "initialCount": item["count"],
                      "prices": [{k: (v.quantize(Decimal("0.01")) if isinstance(v, Decimal) else v)
                                  for k, v in p.items()} for p in prices],
                      "warehouse": {"id": order["warehouse"], "name": _warehouse_name(order["warehouse"])}})
    commissions: list[dict[str, Any]] = []
    if status not in ("CANCELLED_BEFORE_PROCESSING", "PENDING", "UNPAID", "RESERVED"):
        fee_rate = FEE_RATES[order["items"][0]["category"]]
        units = sum(i["count"] for i in order["items"])
        commissions.append({"type": "FEE", "actual": (total * fee_rate).quantize(Decimal("0.01"), ROUND_HALF_UP)})
        commissions.append({"type": "PAYMENT_TRANSFER",
                            "actual": (total * Decimal("0.013")).quantize(Decimal("0.01"), ROUND_HALF_UP)})
        if program == "FBY":
            commissions.append({"type": "FULFILLMENT", "actual": Decimal("35.00") * units})
        elif program == "EXPRESS":
            commissions.append({"type": "EXPRESS_DELIVERY_TO_CUSTOMER", "actual": Decimal("149.00")})
        elif program == "FBS":
            commissions.append({"type": "SORTING", "actual": Decimal("15.00")})
        if program != "DBS":
            commissions.append({"type": "DELIVERY_TO_CUSTOMER", "actual": Decimal("45.50") * units})
        if status in ("RETURNED", "PARTIALLY_RETURNED"):
            commissions.append({"type": "RETURN_PROCESSING", "actual": Decimal("60.00")})
    payments = []
    if status in ("DELIVERED", "RETURNED", "PARTIALLY_RETURNED"):
        payments.append({"id": f"PAY-{order['id']}", "date": _day(order["updated"]), "type": "PAYMENT",
                         "source": "BUYER", "total": total,
                         "paymentOrder": {"id": f"PO-{order['updated'] // DAY}", "date": _day(order["updated"])}})
    out: dict[str, Any] = {
        "id": order["id"], "creationDate": _day(order["created"]), "statusUpdateDate": _iso(order["updated"]),
        "status": status, "partnerOrderId": f"PRL-{order['id']}", "paymentType": "PREPAID", "fake": False,
        "deliveryRegion": {"id": REGIONS.get(order["city"], 225), "name": order["city"]},
        "items": items, "payments": payments, "commissions": commissions, "currency": "RUR",
    }
    subsidy = sum((i["subsidy"] for i in order["items"]), Decimal(0))
    if subsidy:
        out["subsidies"] = [{"operationType": "ACCRUAL", "type": "SUBSIDY", "amount": subsidy}]
    return out


def _warehouse_name(warehouse_id: int) -> str:
    for w in (*SELLER_WAREHOUSES, *MARKET_WAREHOUSES):
        if w["id"] == warehouse_id:
            return str(w["name"])
    return ""


@_handler
def stats_orders(world: SandboxWorld, state: YMState, request: SandboxRequest, campaignId: str) -> httpx.Response:
    body = _body(request)
    campaign = int(campaignId)
    limit = _limit(request, 200, 100)
    wanted = set(_list_arg(body, "orders", 200) or ())
    statuses = set(body.get("statuses") or ())
    if body.get("updateFrom") and (body.get("dateFrom") or body.get("dateTo")):
        raise BadRequest("updateFrom/updateTo нельзя передавать вместе с dateFrom/dateTo")
    lo, hi = 0, 1 << 40
    if body.get("updateFrom") or body.get("updateTo"):
        if body.get("updateFrom"):
            lo = _day_start(_parse_day(body["updateFrom"], "updateFrom"))
        if body.get("updateTo"):
            hi = _day_start(_parse_day(body["updateTo"], "updateTo")) + DAY - 1
    by_creation = bool(body.get("dateFrom") or body.get("dateTo"))
    created_lo = _day_start(_parse_day(body["dateFrom"], "dateFrom")) if body.get("dateFrom") else 0
    created_hi = _day_start(_parse_day(body["dateTo"], "dateTo")) + DAY - 1 if body.get("dateTo") else 1 << 40

    def accept(order_id: int) -> bool:
        if CAMPAIGN_OF_PROGRAM[_order_program(state, order_id)] != campaign:
            return False
        if wanted and order_id not in wanted:
            return False
        if not (statuses or by_creation):
            return _order_status(state, order_id) != "PLACING"
        order = _order(world, state, order_id)
        return (order is not None and order["status"] != "PLACING"
                and (not statuses or _stats_status(order) in statuses)
                and created_lo <= order["created"] <= created_hi)

    after = _decode(_token_arg(request), 2)
    ids, token = _keyset_page(state.order_keys, lo, hi, after, limit, accept)
    rows = [_stats_json(o) for o in (_order(world, state, i) for i in ids) if o is not None]
    return _ok({"orders": rows, "paging": _paging(token)})



# ---------------------------------------------------------------------------------------------
# Tariffs (paths/v2_tariffs_calculate.yaml)

_SELLING_PROGRAMS = {FBS_CAMPAIGN: "FBS", FBY_CAMPAIGN: "FBY", DBS_CAMPAIGN: "DBS"}


def _category_fee_percent(category_id: int, price: Decimal) -> Decimal:
    """Placement fee, %: by category, a point lower for cheap items (Market's fee depends on price)."""
    percent = Decimal(4 + category_id % 7) + Decimal("0.5")
    return percent - 1 if price < 500 else percent


def _tariff(kind: str, amount: Decimal, **parameters: str) -> dict[str, Any]:
    return {"type": kind, "amount": amount.quantize(Decimal("0.01")), "currency": "RUR",
            "parameters": [{"name": k, "value": v} for k, v in parameters.items()]}


@_handler
def calculate_tariffs(world: SandboxWorld, state: YMState, request: SandboxRequest) -> httpx.Response:
    body = _body(request)
    parameters = body.get("parameters") or {}
    campaign_id, program = parameters.get("campaignId"), parameters.get("sellingProgram")
    if bool(campaign_id) == bool(program):
        raise BadRequest("Exactly one of parameters.campaignId and parameters.sellingProgram is required")
    if campaign_id:
        program = _SELLING_PROGRAMS.get(int(campaign_id))
        if program is None:
            return _error(403, "FORBIDDEN", f"Access to campaign {campaign_id} is denied")
    offers = body.get("offers")
    if not isinstance(offers, list) or not 1 <= len(offers) <= 200:
        raise BadRequest("offers must hold 1 to 200 items")
    results = []
    for offer in offers:
        for name in ("categoryId", "price", "length", "width", "height", "weight"):
            if not isinstance(offer.get(name), int | float) or offer[name] <= 0:
                raise BadRequest(f"offers[].{name} must be a positive number")
        price = Decimal(repr(offer["price"])) if isinstance(offer["price"], float) else Decimal(offer["price"])
        quantity = int(offer.get("quantity") or 1)
        fee = _category_fee_percent(int(offer["categoryId"]), price)
        weight = Decimal(repr(float(offer["weight"])))
        delivery = min(max(Decimal(60) + weight * 15, Decimal(60)), Decimal(400))
        tariffs = [
            _tariff("FEE", price * quantity * fee / 100, value=str(fee), valueType="relative"),
            _tariff("PAYMENT_TRANSFER", price * quantity * Decimal("1.5") / 100, value="1.5",
                    valueType="relative"),
            _tariff("DELIVERY_TO_CUSTOMER", delivery * quantity, value=str(delivery), valueType="absolute"),
        ]
        if program != "FBY":
            tariffs.append(_tariff("SORTING", Decimal(20) * quantity, value="20", valueType="absolute"))
        results.append({"offer": offer, "tariffs": tariffs})
    return _ok({"offers": results})


# ---------------------------------------------------------------------------------------------
# Price quarantine


def _quarantine_json(offer: str, row: dict[str, Any]) -> dict[str, Any]:
    params = [{"name": "CURRENT_PRICE", "value": str(row["price"])}]
    if row["last"] is not None:
        params.append({"name": "LAST_VALID_PRICE", "value": str(row["last"])})
    if row["min"] is not None:
        params.append({"name": "MIN_PRICE", "value": str(row["min"])})
    params.append({"name": "CURRENCY", "value": "RUR"})
    out: dict[str, Any] = {"offerId": offer, "currentPrice": _money(row["price"]),
                           "verdicts": [{"type": row["type"], "params": params}]}
    if row["last"] is not None:
        out["lastValidPrice"] = _money(row["last"])
    return out


@_handler
def price_quarantine(world: SandboxWorld, state: YMState, request: SandboxRequest, businessId: str) -> httpx.Response:
    body = _body(request)
    limit = _limit(request, 200, 100)
    wanted = _list_arg(body, "offerIds", 200)
    offers = sorted(o for o in state.quarantine if wanted is None or o in {str(w) for w in wanted})
    page, token = _offset_page(len(offers), request, limit)
    return _ok({"offers": [_quarantine_json(offers[i], state.quarantine[offers[i]]) for i in page],
                "paging": _paging(token)})


@_handler
def price_quarantine_confirm(world: SandboxWorld, state: YMState, request: SandboxRequest,
                             businessId: str) -> httpx.Response:
    offer_ids = _list_arg(_body(request), "offerIds", 200)
    if not offer_ids:
        raise BadRequest("offerIds is required")
    unknown = [str(o) for o in offer_ids if not _catalog_indices(world, [str(o)])]
    if unknown:
        return _error(400, "OFFER_NOT_FOUND", f"Товары не найдены в каталоге: {', '.join(unknown)}")
    for offer in offer_ids:
        row = state.quarantine.pop(str(offer), None)
        if row is not None:
            state.prices[str(offer)] = row.get("written") or {
                "value": row["price"], "currencyId": "RUR", "updatedAt": _iso(_ts(world.now))}
    return json_response({"status": "OK"})


ROUTES = [
    Route("GET", "/v2/campaigns", campaigns),
    Route("POST", "/v2/auth/token", auth_token),
    Route("POST", "/v2/businesses/{businessId}/warehouses", business_warehouses),
    Route("GET", "/v2/warehouses", market_warehouses),
    Route("POST", "/v2/businesses/{businessId}/offer-mappings", offer_mappings),
    Route("POST", "/v2/tariffs/calculate", calculate_tariffs),
    Route("POST", "/v2/businesses/{businessId}/offer-mappings/update", mapping_updates),
    Route("POST", "/v2/businesses/{businessId}/offer-mappings/archive", archive_offers),
    Route("POST", "/v2/businesses/{businessId}/offer-mappings/unarchive", unarchive_offers),
    Route("POST", "/v2/businesses/{businessId}/offer-prices", offer_prices),
    Route("POST", "/v2/businesses/{businessId}/offer-prices/updates", price_updates),
    Route("POST", "/v2/campaigns/{campaignId}/offers/stocks", stocks_read),
    Route("PUT", "/v2/campaigns/{campaignId}/offers/stocks", stocks_write),
    Route("POST", "/v1/businesses/{businessId}/orders", business_orders),
    Route("GET", "/v2/campaigns/{campaignId}/returns", returns),
    Route("POST", "/v2/businesses/{businessId}/goods-feedback", goods_feedback),
    Route("POST", "/v2/businesses/{businessId}/goods-feedback/comments/update", feedback_comment),
    Route("POST", "/v1/businesses/{businessId}/goods-questions", goods_questions),
    Route("POST", "/v1/businesses/{businessId}/goods-questions/update", question_update),
    Route("POST", "/v2/businesses/{businessId}/promos", promos),
    Route("POST", "/v2/businesses/{businessId}/promos/offers", promo_offers),
    Route("POST", "/v2/businesses/{businessId}/promos/offers/update", promo_offers_update),
    Route("POST", "/v2/businesses/{businessId}/promos/offers/delete", promo_offers_delete),
    Route("POST", "/v2/campaigns/{campaignId}/stats/orders", stats_orders),
    Route("POST", "/v2/businesses/{businessId}/price-quarantine", price_quarantine),
    Route("POST", "/v2/businesses/{businessId}/price-quarantine/confirm", price_quarantine_confirm),
]
