"""The Wildberries part of the sandbox: WB's real paths (2026-07 specs), auth, paging, money formats,
error bodies and 429 answers for every operation the adapter uses.

Scale: orders, reviews, questions, claims and finance rows are pure functions of their index
(world.rng("wildberries", kind, i)) and of the clock, so a world of 150,000 orders builds instantly
and "advance" needs no work for them: new orders, status progress, cancellations, claims and report
rows simply have their times in (old, new]. Only what writes change (prices, stocks, card texts,
answers, promotion participation, uploads) is stored.
"""

from __future__ import annotations

import bisect
import functools
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from integrations.sandbox.app import Handler, Route, SandboxRequest, empty_response, json_response
from integrations.sandbox.credentials import WB_BASIC_TOKEN, WB_TOKEN
from integrations.sandbox.world import SandboxWorld, ean13, iso_seconds

MOSCOW = timezone(timedelta(hours=3))
PARALLEL_LIMIT: int | None = None
MP = "wildberries"

NM_BASE = 200_000_000
CHRT_BASE = 400_000_000
TASK_BASE = 4_000_000_000
RRD_BASE = 1_000_000_000
CLOTHES = {"Одежда"}
SIZES = (("S", "44"), ("M", "46"), ("L", "48"))
SELLER_WAREHOUSES = (
    {"id": 1001001, "name": "Склад продавца Подольск", "officeId": 15, "cargoType": 1, "deliveryType": 1},
    {
        "id": 1001002,
        "name": "Склад продавца Казань (доставка продавцом)",
        "officeId": 117,
        "cargoType": 1,
        "deliveryType": 2,
    },
)
WB_WAREHOUSES = (
    (507, "Коледино", "Центральный"),
    (117986, "Казань", "Приволжский"),
    (1733, "Екатеринбург - Испытателей 14г", "Уральский"),
)
PROMOTIONS = (
    (1001, "Чёрная пятница", "regular", -5, 20),
    (1002, "Распродажа месяца", "regular", -20, 10),
    (1003, "Новогодняя распродажа", "regular", 30, 45),
    (1004, "Скидки недели (автоакция)", "auto", -2, 5),
)
REJECT_PRICE = "You can't change the item price. Item was added to the Sale due to high inventory"
QUARANTINE = "The new price is several times lower than the current price. Item has been moved to Price Quarantine"
REJECT_CARD = "Недопустимое значение поля «Наименование»: карточка заблокирована для редактирования модератором"
REJECT_STOCK = (
    "CargoWarehouseRestrictionMGT",
    'The selected warehouse is not suitable for goods with the type "LCL (Less than Container Load)". '
    "Upload the balances to the warehouse without the ODC or CD+ mark",
)
STATISTICS_PAGE_ROWS = 80_000
LATE_FBS_SHARE = 0.12  # FBS tasks that complete or are cancelled weeks after creation
RETURN_SHARE = 0.1  # bought-out orders that come back (a sales-report row R…) days later
ORDER_CHANGES_WITHIN = timedelta(days=27)  # every order's last event is within this of its creation
CLAIMS_DAYS = 14

# Documented limits per seller account and method group: bucket -> (requests, period seconds, burst)
# for a Personal token (Service and Basic-with-secret tokens share them) ...
LIMITS = {
    "ping": (3, 30, 3),
    "content": (100, 60, 5),
    "content_update": (10, 60, 5),
    "prices": (10, 6, 5),
    "warehouses": (300, 60, 20),
    "stocks": (300, 60, 20),
    "fbs": (300, 60, 20),
    "dbs": (300, 60, 20),
    "statistics": (1, 60, 10),
    "sales": (1, 60, 1),
    "wb_stocks": (3, 60, 1),
    "feedbacks": (3, 1, 6),
    "returns": (20, 60, 10),
    "calendar": (10, 6, 5),
    "finance": (1, 60, 1),
    "advert_list": (5, 1, 5),  # 08-promotion /adv/v1/promotion/count
    "advert_stats": (3, 60, 1),  # 08-promotion /adv/v3/fullstats
}
# ... and the lower ones of a Basic token, where an operation's table gives them ("Базовый" rows).
BASIC_LIMITS = {
    "prices": (4, 3600, 1),
    "statistics": (1, 3 * 3600, 1),
    "sales": (1, 2 * 3600, 1),
    "feedbacks": (5, 3600, 1),
    "returns": (1, 3600, 1),
    "calendar": (1, 3600, 1),
    "finance": (2, 24 * 3600, 1),
    "advert_list": (4, 3600, 1),
    "advert_stats": (1, 3600, 1),
}
# "Один запрос с кодами ответов 4XX учитывается как 10 запросов": seller warehouses and stocks
# (02-items), FBS (03) and DBS (05) methods.
CLIENT_ERROR_COST = {"warehouses": 10, "stocks": 10, "fbs": 10, "dbs": 10}
TOKEN_TYPES = {WB_TOKEN: "personal", WB_BASIC_TOKEN: "basic"}
# Operations whose x-token-types leave out the Basic token (11-analytics).
NOT_FOR_BASIC = ("/api/analytics/v1/stocks-report/wb-warehouses",)


# ---------------------------------------------------------------------------------------------
# State


@dataclass
class Card:
    index: int
    nm_id: int
    article: str
    title: str
    description: str
    brand: str
    subject: str
    colour: str
    sizes: list[dict[str, Any]]
    weight: Decimal
    images: tuple[str, ...]
    updated_at: datetime
    created_at: datetime
    # Characteristics the seller sent (cards/update), by id: replace the generated ones.
    characteristics: dict[int, Any] | None = None


@dataclass
class Upload:
    upload_id: int
    kind: str  # "price" | "promo"
    created: datetime
    activation: datetime
    goods: list[dict[str, Any]]
    signature: str
    processed: bool = False
    status: int = 1


@dataclass
class WBState:
    cards: list[Card]
    by_nm: dict[int, Card]
    by_chrt: dict[int, Card]
    card_keys: list[tuple[datetime, int]]  # sorted (updatedAt, nmID) for cursor paging
    prices: dict[int, tuple[int, int]]  # nmID -> (list price, discount %)
    stock_overrides: dict[tuple[int, int], int] = field(default_factory=dict)  # (warehouse, chrtId) -> amount
    uploads: dict[int, Upload] = field(default_factory=dict)
    next_upload_id: int = 7_100_000
    feedback_answers: dict[str, str] = field(default_factory=dict)
    question_answers: dict[str, str] = field(default_factory=dict)
    promo_joined: dict[int, set[int]] = field(default_factory=dict)
    # nmID -> (new list price, new discount, old list price, old discount) of a price cut held in quarantine
    quarantine: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    order_cache: dict[int, dict[str, Any]] = field(default_factory=dict)
    review_cache: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    comm_cache: dict[tuple[Any, ...], tuple[list[Any], int]] = field(default_factory=dict)
    comm_version: int = 0  # bumped by every answer, so cached lists are not stale
    claims_cache: tuple[datetime, list[dict[str, Any]]] | None = None
    finance_cache: dict[tuple[Any, ...], list[dict[str, Any]]] = field(default_factory=dict)
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Knobs for tests: how long an upload waits in WB's buffer; statistics rows per answer.
    upload_delay: timedelta = timedelta(0)
    statistics_page_rows: int = STATISTICS_PAGE_ROWS
    # Timeline of generated objects: object i appears at base + (i + jitter) * step.
    base: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    order_step: float = 3600.0
    review_step: float = 4 * 3600.0
    question_step: float = 10 * 3600.0


def build_state(world: SandboxWorld) -> WBState:
    start = world.config.start
    cards: list[Card] = []
    prices: dict[int, tuple[int, int]] = {}
    rng = world.rng(MP, "cards")  # one stream for the catalogue: seeding an rng per card is the slow part
    for item in world.catalog:
        nm_id = NM_BASE + item.index
        if item.category in CLOTHES:
            sizes = [
                {
                    "chrtID": CHRT_BASE + item.index * 10 + k,
                    "techSize": tech,
                    "wbSize": wb,
                    "skus": [item.barcode if k == 0 else ean13(5_000_000 + item.index * 10 + k)],
                }
                for k, (tech, wb) in enumerate(SIZES)
            ]
        else:
            sizes = [{"chrtID": CHRT_BASE + item.index * 10, "techSize": "0", "wbSize": "", "skus": [item.barcode]}]
        created = start - timedelta(days=200 + rng.randrange(300))
        updated = start - timedelta(days=1 + rng.randrange(180), seconds=rng.randrange(86_400))
        cards.append(
            Card(
                index=item.index,
                nm_id=nm_id,
                article=item.article,
                title=item.name,
                description=item.description,
                brand=item.brand,
                subject=item.category,
                colour=item.colour,
                sizes=sizes,
                weight=Decimal(item.weight_g) / 1000,
                images=item.images,
                updated_at=updated,
                created_at=created,
            )
        )
        discount = rng.choice((0, 10, 15, 20, 25, 30))
        list_price = int((item.base_price * 100 / (100 - discount)).to_integral_value(ROUND_HALF_UP))
        prices[nm_id] = (list_price, discount)
    orders = max(1, world.config.orders)
    span = min(60 * 86_400.0, orders * 3600.0)  # up to 60 days of history
    state = WBState(
        cards=cards,
        by_nm={c.nm_id: c for c in cards},
        by_chrt={s["chrtID"]: c for c in cards for s in c.sizes},
        card_keys=sorted((c.updated_at, c.nm_id) for c in cards),
        prices=prices,
        base=start - timedelta(seconds=span),
        order_step=span / orders,
        review_step=span / max(40, orders // 4),
        question_step=span / max(20, orders // 10),
    )
    for promo_id, *_ in PROMOTIONS:
        state.promo_joined[promo_id] = set()
    return state


def advance(world: SandboxWorld, state: WBState, old: datetime, new: datetime) -> None:
    """Orders, statuses, cancellations, reviews, questions, claims and report rows are functions of the
    clock, so moving it is enough; only buffered uploads are processed and caches dropped."""
    _process_uploads(world, state)
    state.claims_cache = None
    state.finance_cache.clear()


# ---------------------------------------------------------------------------------------------
# Auth, limits, faults


def _problem(status: int, title: str, detail: str, origin: str = "s2s-api-auth-catalog") -> dict[str, Any]:
    return {
        "title": title,
        "detail": detail,
        "code": f"{uuid.uuid4().hex[:8]}-{status}",
        "requestId": uuid.uuid4().hex,
        "origin": origin,
        "status": status,
        "statusText": httpx.codes.get_reason_phrase(status),
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _problem_type(request: SandboxRequest) -> str:
    # FBS methods (03-orders-fbs) declare their 401/429 as application/json, the rest as problem+json.
    fbs = request.path.startswith(("/api/v3/orders", "/api/v3/supplies", "/api/v3/passes"))
    return "application/json; charset=utf-8" if fbs else "application/problem+json; charset=utf-8"


def _token(request: SandboxRequest) -> str:
    header: str = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else header


def authenticate(world: SandboxWorld, request: SandboxRequest) -> httpx.Response | None:
    header = request.headers.get("Authorization", "")
    token_type = TOKEN_TYPES.get(_token(request))
    if token_type is None:
        malformed = "token problem; token is malformed: could not base64 decode signature: illegal base64 data"
        detail = "empty Authorization header" if not header else malformed
        return json_response(_problem(401, "unauthorized", detail), 401, {"Content-Type": _problem_type(request)})
    if token_type == "basic" and request.path in NOT_FOR_BASIC:
        body = _problem(403, "forbidden", "base token is not allowed", origin="analytic-open-api")
        body["code"] = "base token is not allowed for this path"
        return json_response(body, 403, {"Content-Type": "application/problem+json; charset=utf-8"})
    if world.config.limits_enabled:
        state = world.state(MP, build_state)
        return _take_token(world, state, request)
    return None


def _bucket(path: str) -> str:
    if path == "/ping":
        return "ping"
    if path.startswith("/content/v2/cards/update"):
        return "content_update"
    if path.startswith("/content/"):
        return "content"
    if path.startswith("/api/v2/"):
        return "prices"
    if path == "/api/v1/supplier/sales":
        return "sales"
    if path.startswith("/api/v1/supplier/"):
        return "statistics"
    if path.startswith("/api/analytics/"):
        return "wb_stocks"
    if path.startswith(("/api/v1/feedbacks", "/api/v1/questions")):
        return "feedbacks"
    if path.startswith("/api/v1/claims"):
        return "returns"
    if path.startswith("/api/v1/calendar/"):
        return "calendar"
    if path.startswith("/api/finance/"):
        return "finance"
    if path == "/adv/v3/fullstats":
        return "advert_stats"
    if path.startswith("/adv/"):
        return "advert_list"
    if path.startswith("/api/v3/warehouses"):
        return "warehouses"
    if path.startswith("/api/v3/stocks"):
        return "stocks"
    if path.startswith(("/api/v3/dbs/", "/api/marketplace/v3/dbs/")):
        return "dbs"
    return "fbs"


def _limits(request: SandboxRequest) -> tuple[str, tuple[int, float, int]]:
    """(bucket key, (requests, period, burst)) of this request's method group and token type."""
    bucket = _bucket(request.path)
    token_type = TOKEN_TYPES.get(_token(request), "personal")
    rule = BASIC_LIMITS.get(bucket, LIMITS[bucket]) if token_type == "basic" else LIMITS[bucket]
    return f"{token_type}:{bucket}", rule


def _take_token(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response | None:
    """WB's token bucket per seller account and method group, in real time."""
    key, (rate, period, burst) = _limits(request)
    per_second = rate / period
    tokens = _refill(state, key, per_second, burst)
    if tokens >= 1:
        _spend(state, key, 1)
        return None
    retry = math.ceil((1 - tokens) / per_second)
    return _limited(request, retry, rate, math.ceil(period))


def _refill(state: WBState, key: str, per_second: float, burst: int) -> float:
    now = time.monotonic()
    tokens, stamp = state.buckets.get(key, (float(burst), now))
    tokens = min(float(burst), tokens + (now - stamp) * per_second)
    state.buckets[key] = (tokens, now)
    return tokens


def _spend(state: WBState, key: str, tokens: float) -> None:
    """Take tokens from a bucket just refilled; it may go below zero."""
    left, stamp = state.buckets[key]
    state.buckets[key] = (left - tokens, stamp)


def _charging_client_errors(handler: Handler) -> Handler:
    """A 4xx answer of a method group that charges them costs 10 requests, not 1: the token taken
    before the handler ran, plus 9 now (the bucket may go below zero and refills at its rate)."""

    @functools.wraps(handler)
    def charged(world: SandboxWorld, state: WBState, request: SandboxRequest, **params: str) -> httpx.Response:
        response: httpx.Response = handler(world, state, request, **params)
        cost = CLIENT_ERROR_COST.get(_bucket(request.path), 1)
        if world.config.limits_enabled and cost > 1 and 400 <= response.status_code < 500:
            key, (rate, period, burst) = _limits(request)
            _refill(state, key, rate / period, burst)
            _spend(state, key, cost - 1)
        return response

    return charged


def _limited(request: SandboxRequest, retry: int, limit: int, reset: int) -> httpx.Response:
    body = _problem(429, "too many requests", f"limited by {uuid.uuid4()}")
    headers = {
        "Content-Type": _problem_type(request),
        "X-Ratelimit-Retry": str(retry),
        "X-Ratelimit-Limit": str(limit),
        "X-Ratelimit-Reset": str(reset),
        "X-Ratelimit-Remaining": "0",
    }
    return json_response(body, 429, headers)


def rate_limited(world: SandboxWorld, request: SandboxRequest) -> httpx.Response:
    _, (rate, period, _) = _limits(request)
    return _limited(request, int(world.faults.retry_after_seconds), rate, math.ceil(period))


def server_error(world: SandboxWorld, request: SandboxRequest) -> httpx.Response:
    body = _problem(503, "service unavailable", "upstream is temporarily unavailable", origin="api-gateway")
    return json_response(body, 503, {"Content-Type": "application/problem+json; charset=utf-8"})


def parallel_key(request: SandboxRequest) -> str | None:
    return None


def not_found(world: SandboxWorld, request: SandboxRequest) -> httpx.Response:
    return json_response(
        _problem(404, "not found", f"{request.method} {request.path}: no such method", "api-gateway"),
        404,
        {"Content-Type": "application/problem+json; charset=utf-8"},
    )


def _bad_request(message: str, status: int = 400, **extra: Any) -> httpx.Response:
    return json_response({"data": None, "error": True, "errorText": message, **extra}, status)


def _marketplace_error(code: str, message: str, status: int = 400) -> httpx.Response:
    return json_response({"code": code, "message": message, "data": None}, status)


# ---------------------------------------------------------------------------------------------
# Time helpers


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # local time, as astimezone() reads a naive datetime
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return iso_seconds(math.floor(moment.timestamp()), suffix="Z")


def _msk(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.astimezone(MOSCOW).strftime("%Y-%m-%dT%H:%M:%S")
    return iso_seconds(math.floor(moment.timestamp()), 3)


def _parse_msk(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=MOSCOW) if parsed.tzinfo is None else parsed


def _parse_utc(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _int_arg(request: SandboxRequest, name: str, default: int | None = None) -> int | None:
    value = request.arg(name)
    if value is None:
        return default
    return int(value)


# ---------------------------------------------------------------------------------------------
# Generated timelines: orders (every scheme and status), reviews, questions, claims, report rows


def _created(state: WBState, world: SandboxWorld, kind: str, index: int, step: float) -> datetime:
    # A cheap integer hash, not an rng: range scans call this for every index they pass.
    mixed = (index * 2_654_435_761 + world.config.seed * 40_503 + len(kind) * 97) % 1_000_003
    jitter = mixed / 1_000_003 * 0.9
    return (state.base + timedelta(seconds=(index + jitter) * step)).replace(microsecond=0)


def _index_range(state: WBState, step: float, start: datetime, end: datetime) -> range:
    """Indices whose creation time may fall in [start, end] (callers filter exactly)."""
    lo = max(0, math.floor((start - state.base).total_seconds() / step) - 1)
    hi = max(-1, math.floor((end - state.base).total_seconds() / step) + 1)
    return range(lo, hi + 1)


def _order(world: SandboxWorld, state: WBState, index: int) -> dict[str, Any]:
    cached = state.order_cache.get(index)
    if cached is not None:
        return cached
    rng = world.rng(MP, "order", index)
    created = _created(state, world, "order", index, state.order_step)
    roll = rng.random()
    scheme = "FBS" if roll < 0.5 else ("FBO" if roll < 0.85 else "DBS")
    card = state.cards[rng.randrange(len(state.cards))]
    size = card.sizes[rng.randrange(len(card.sizes))]
    hours = timedelta(hours=1)
    events: list[tuple[datetime, str, str]] = [(created, "new", "waiting")]
    fate = rng.random()
    if scheme == "FBS":
        if fate < 0.07:
            events.append((created + hours * rng.uniform(1, 6), "cancel", "canceled"))
        elif fate < 0.12:
            events.append((created + hours * rng.uniform(0.2, 0.9), "new", "declined_by_client"))
        else:
            confirm = created + hours * rng.uniform(2, 8)
            events += [
                (confirm, "confirm", "waiting"),
                (confirm + hours * 20, "complete", "sorted"),
                (confirm + hours * 36, "complete", "sent_to_carrier"),
                (confirm + hours * 70, "complete", "ready_for_pickup"),
            ]
            final = "canceled_by_client" if rng.random() < 0.1 else "sold"
            events.append((confirm + hours * rng.uniform(80, 140), "complete", final))
            # Some tasks wait weeks on assembly (goods to order, a slow supply): confirmed, then
            # completed and bought out or cancelled 15-25 days after creation. A separate rng
            # stream, so every other order stays as it was.
            late = world.rng(MP, "order-late", index)
            if late.random() < LATE_FBS_SHARE:
                done_at = created + timedelta(days=late.uniform(15, 25))
                if late.random() < 0.3:
                    events[1:] = [(confirm, "confirm", "waiting"), (done_at, "cancel", "canceled")]
                else:
                    events[1:] = [
                        (confirm, "confirm", "waiting"),
                        (done_at, "complete", "sorted"),
                        (done_at + hours * 30, "complete", "sold"),
                    ]
    elif scheme == "DBS":
        if fate < 0.05:
            events.append((created + hours * rng.uniform(1, 5), "cancel", "canceled"))
        elif fate < 0.08:
            events.append((created + hours * rng.uniform(1, 5), "cancel_missed_call", "canceled_by_missed_call"))
        else:
            confirm = created + hours * rng.uniform(1, 3)
            events += [(confirm, "confirm", "waiting"), (confirm + hours * 24, "deliver", "waiting")]
            supplier_final, wb_final = ("reject", "canceled_by_client") if rng.random() < 0.1 else ("receive", "sold")
            events.append((confirm + hours * rng.uniform(48, 96), supplier_final, wb_final))
    else:  # FBW: WB ships from its warehouse; cancelled or sold
        if fate < 0.1:
            events.append((created + hours * rng.uniform(1, 48), "cancel", "canceled"))
        else:
            events.append((created + hours * rng.uniform(48, 100), "complete", "sold"))
    events = [(moment.replace(microsecond=0), supplier, wb) for moment, supplier, wb in events]
    list_price, discount = state.prices[card.nm_id]
    paid = (Decimal(list_price) * (100 - discount) / 100).quantize(Decimal("0.01"))
    spp = rng.choice((0, 5, 10, 17, 25))
    order = {
        "index": index,
        "id": TASK_BASE + index,
        "scheme": scheme,
        "card": card,
        "size": size,
        "created": created,
        "events": events,
        "rid": f"{rng.getrandbits(128):032x}",
        "uid": f"{rng.randrange(10**8, 10**9)}_{rng.getrandbits(128):032x}",
        "city": world.city(rng),
        "list_price": list_price,
        "discount": discount,
        "paid": paid,
        "spp": spp,
        "finished": (paid * (100 - spp) / 100).quantize(Decimal("0.01")),
        "wb_warehouse": WB_WAREHOUSES[rng.randrange(len(WB_WAREHOUSES))],
    }
    if len(state.order_cache) > 400_000:
        state.order_cache.clear()
    state.order_cache[index] = order
    return order


def _status_at(order: dict[str, Any], now: datetime) -> tuple[datetime, str, str]:
    events: list[tuple[datetime, str, str]] = order["events"]
    current = events[0]
    for event in events:
        if event[0] <= now:
            current = event
    return current


def _sold_at(order: dict[str, Any]) -> datetime | None:
    last = order["events"][-1]
    return last[0] if last[2] == "sold" else None


CANCELLED_WB = {"canceled", "canceled_by_client", "declined_by_client", "canceled_by_missed_call", "defect"}


def _cancelled_at(order: dict[str, Any]) -> datetime | None:
    last = order["events"][-1]
    return last[0] if last[2] in CANCELLED_WB else None


def _orders_created(world: SandboxWorld, state: WBState, start: datetime, end: datetime) -> list[dict[str, Any]]:
    end = min(end, world.now)
    result = []
    for index in _index_range(state, state.order_step, start, end):
        if _created(state, world, "order", index, state.order_step) < start:
            continue
        order = _order(world, state, index)
        if order["created"] > end:
            break
        result.append(order)
    return result


# ---------------------------------------------------------------------------------------------
# 01-general


def ping(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    return json_response({"TS": world.now.astimezone(MOSCOW).isoformat(timespec="seconds"), "Status": "OK"})


# ---------------------------------------------------------------------------------------------
# 02-items: content


def _card_json(card: Card) -> dict[str, Any]:
    return {
        "nmID": card.nm_id,
        "imtID": 300_000_000 + card.index,
        "nmUUID": str(uuid.UUID(int=card.nm_id)),
        "subjectID": 100 + card.index % 16,
        "subjectName": card.subject,
        "vendorCode": card.article,
        "brand": card.brand,
        "title": card.title,
        "description": card.description,
        "needKiz": False,
        "kizMarked": False,
        "photos": [{"big": url, "c246x328": url, "c516x688": url, "square": url, "tm": url} for url in card.images],
        "video": "",
        "wholesale": {"enabled": False, "quantum": 0},
        "dimensions": {"length": 30, "width": 20, "height": 10, "weightBrutto": card.weight, "isValid": True},
        "characteristics": _characteristics(card),
        "sizes": [dict(size) for size in card.sizes],
        "tags": [],
        "createdAt": _iso(card.created_at),
        "updatedAt": _iso(card.updated_at),
    }


CHARACTERISTIC_NAMES = {14177449: "Цвет", 88952: "Бренд", 14177450: "Состав", 90630: "Вес товара без упаковки (г)"}


def _characteristics(card: Card) -> list[dict[str, Any]]:
    if card.characteristics is not None:
        return [{"id": charc_id, "name": CHARACTERISTIC_NAMES.get(charc_id, str(charc_id)), "value": value}
                for charc_id, value in card.characteristics.items()]
    return [
        {"id": 14177449, "name": "Цвет", "value": [card.colour]},
        {"id": 88952, "name": "Бренд", "value": [card.brand]},
    ]


def cards_list(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    body = request.json() or {}
    settings = body.get("settings") or {}
    cursor = settings.get("cursor") or {}
    limit = int(cursor.get("limit", 10))
    if not 1 <= limit <= 100:
        return _bad_request("Invalid limit: maximum 100", additionalErrors=None)
    search = str((settings.get("filter") or {}).get("textSearch") or "").strip()
    ascending = bool((settings.get("sort") or {}).get("ascending", False))
    if search:
        found = [
            c for c in state.cards if search in {c.article, str(c.nm_id)} or any(search in s["skus"] for s in c.sizes)
        ]
        page = found[:limit]
    else:
        keys = state.card_keys if ascending else list(reversed(state.card_keys))
        start = 0
        if cursor.get("nmID") and cursor.get("updatedAt"):
            key = (_parse_utc(cursor["updatedAt"]), int(cursor["nmID"]))
            if ascending:
                start = bisect.bisect_right(state.card_keys, key)
            else:
                start = len(keys) - bisect.bisect_left(state.card_keys, key)
        page = [state.by_nm[nm] for _, nm in keys[start : start + limit]]
    result_cursor: dict[str, Any] = {"total": len(page)}
    if page:
        result_cursor.update(updatedAt=_iso(page[-1].updated_at), nmID=page[-1].nm_id)
    if not search and cursor.get("nmID") and _paging_fault(world, "wb_cards_stuck_cursor_next"):
        result_cursor = {"updatedAt": cursor.get("updatedAt"), "nmID": int(cursor["nmID"]), "total": limit}
    elif not search and cursor.get("nmID") and _paging_fault(world, "wb_cards_empty_page_next"):
        page, result_cursor = [], {"total": len(state.cards)}
    return json_response({"cards": [_card_json(c) for c in page], "cursor": result_cursor})


def _paging_fault(world: SandboxWorld, knob: str) -> bool:
    """Consume one answer of a paging fault counter (world.Faults)."""
    with world.lock:
        left = int(getattr(world.faults, knob))
        if left <= 0:
            return False
        setattr(world.faults, knob, left - 1)
        return True


def cards_update(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    body = request.json()
    if not isinstance(body, list) or not body or len(body) > 3000:
        return _bad_request(
            "Некорректный формат запроса: ожидается массив от 1 до 3000 карточек", additionalErrors=None
        )
    errors: dict[str, str] = {}
    for entry in body:
        vendor_code = str(entry.get("vendorCode", ""))
        card = state.by_nm.get(int(entry.get("nmID", 0)))
        if card is None or card.article != vendor_code or not entry.get("sizes"):
            errors[vendor_code] = "Карточка товара не найдена или не указаны обязательные поля nmID, vendorCode, sizes"
        elif vendor_code in world.faults.reject_offer_ids:
            errors[vendor_code] = REJECT_CARD
        elif len(str(entry.get("title", card.title))) > 60:
            errors[vendor_code] = "Наименование товара не может быть длиннее 60 символов"
        else:
            card.title = str(entry.get("title", card.title))
            card.description = str(entry.get("description", card.description))
            if isinstance(entry.get("characteristics"), list):  # the whole set replaces the old one
                card.characteristics = {int(c["id"]): c.get("value") for c in entry["characteristics"]
                                        if isinstance(c, dict) and str(c.get("id", "")).isdigit()}
            old_key = (card.updated_at, card.nm_id)
            state.card_keys.pop(bisect.bisect_left(state.card_keys, old_key))
            card.updated_at = world.now
            bisect.insort(state.card_keys, (card.updated_at, card.nm_id))
    if errors:
        return json_response(
            {"data": None, "error": True, "errorText": "Часть карточек не обновлена", "additionalErrors": errors}
        )
    return json_response({"data": None, "error": False, "errorText": "", "additionalErrors": {}})


def media_save(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    """Photos by links: the new set replaces the old one, in the order given."""
    body = request.json()
    if not isinstance(body, dict):
        return _bad_request("Некорректный формат запроса")
    card = state.by_nm.get(int(body.get("nmId") or 0)) if str(body.get("nmId") or "").isdigit() else None
    links = body.get("data")
    if card is None:
        return _bad_request("Карточка товара не найдена")
    if not isinstance(links, list) or not all(isinstance(url, str) and url for url in links) or len(links) > 30:
        return _bad_request("Некорректные ссылки: нужен список до 30 ссылок")
    if card.article in world.faults.reject_offer_ids:
        return _bad_request("Изображение не соответствует требованиям: минимальное разрешение 700×900 px")
    card.images = tuple(links)
    return json_response({"data": {}, "error": False, "errorText": "", "additionalErrors": None})


# ---------------------------------------------------------------------------------------------
# 02-items: prices and uploads


def goods_filter(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    _process_uploads(world, state)
    limit = _int_arg(request, "limit")
    offset = _int_arg(request, "offset", 0) or 0
    if limit is None or not 1 <= limit <= 1000 or offset < 0:
        return _bad_request("Invalid query params: limit must be 1..1000")
    nm_filter = _int_arg(request, "filterNmID")
    cards = [state.by_nm[nm_filter]] if nm_filter in state.by_nm else ([] if nm_filter else state.cards)
    goods = []
    for card in cards[offset : offset + limit]:
        list_price, discount = state.prices[card.nm_id]
        after = (Decimal(list_price) * (100 - discount) / 100).quantize(Decimal("0.01"))
        goods.append(
            {
                "nmID": card.nm_id,
                "vendorCode": card.article,
                "sizes": [
                    {
                        "sizeID": s["chrtID"],
                        "price": list_price,
                        "discountedPrice": after,
                        "clubDiscountedPrice": (after * Decimal("0.95")).quantize(Decimal("0.01")),
                        "techSizeName": s["techSize"],
                    }
                    for s in card.sizes
                ],
                "currencyIsoCode4217": "RUB",
                "discount": discount,
                "clubDiscount": 5,
                "editableSizePrice": False,
                "isBadTurnover": False,
            }
        )
    return json_response({"data": {"listGoods": goods}, "error": False, "errorText": ""})


def upload_task(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    body = request.json() or {}
    data = body.get("data")
    if not isinstance(data, list) or not data or len(data) > 1000:
        return _bad_request("Invalid data: from 1 to 1000 goods are allowed")
    signature = repr(sorted((int(d.get("nmID", 0)), d.get("price"), d.get("discount")) for d in data))
    for upload in state.uploads.values():
        if upload.kind == "price" and upload.signature == signature and not upload.processed:
            return json_response(
                {"data": {"id": upload.upload_id, "alreadyExists": True}, "error": False, "errorText": ""}, 208
            )
    if all(state.prices.get(int(d.get("nmID", 0))) == (d.get("price"), d.get("discount")) for d in data):
        return _bad_request("The specified prices and discounts are already set")
    goods = []
    for entry in data:
        nm_id = int(entry.get("nmID", 0))
        card = state.by_nm.get(nm_id)
        current = state.prices.get(nm_id, (0, 0))
        price = int(entry.get("price") if entry.get("price") is not None else current[0])
        discount = int(entry.get("discount") if entry.get("discount") is not None else current[1])
        error = None
        if card is None:
            error = "Item not found"
        elif card.article in world.faults.reject_offer_ids:
            error = REJECT_PRICE
        elif price * (100 - discount) * 3 < current[0] * (100 - current[1]):
            error = QUARANTINE
        goods.append(
            {
                "nmID": nm_id,
                "vendorCode": card.article if card else "",
                "price": price,
                "discount": discount,
                "error": error,
            }
        )
    upload = _new_upload(world, state, "price", goods, signature)
    return json_response({"data": {"id": upload.upload_id, "alreadyExists": False}, "error": False, "errorText": ""})


def quarantine_goods(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    """GET /api/v2/quarantine/goods (02-items): price cuts held in quarantine."""
    _process_uploads(world, state)
    limit = _int_arg(request, "limit")
    offset = _int_arg(request, "offset", 0) or 0
    if limit is None or not 1 <= limit <= 1000 or offset < 0:
        return _bad_request("Invalid query params: limit must be 1..1000")
    rows = []
    for nm_id in sorted(state.quarantine)[offset : offset + limit]:
        new_price, new_discount, old_price, old_discount = state.quarantine[nm_id]
        diff = (Decimal(new_price) * (100 - new_discount) - Decimal(old_price) * (100 - old_discount)) / 100
        rows.append({"nmID": nm_id, "sizeID": None, "techSizeName": "", "currencyIsoCode4217": "RUB",
                     "newPrice": new_price, "oldPrice": old_price, "newDiscount": new_discount,
                     "oldDiscount": old_discount, "priceDiff": float(diff)})
    return json_response({"data": {"quarantineGoods": rows}, "error": False, "errorText": ""})


def _new_upload(world: SandboxWorld, state: WBState, kind: str, goods: list[dict[str, Any]], signature: str) -> Upload:
    state.next_upload_id += 1
    upload = Upload(state.next_upload_id, kind, world.now, world.now + state.upload_delay, goods, signature)
    state.uploads[upload.upload_id] = upload
    _process_uploads(world, state)
    return upload


def _process_uploads(world: SandboxWorld, state: WBState) -> None:
    for upload in state.uploads.values():
        if upload.processed or upload.activation > world.now:
            continue
        upload.processed = True
        for good in upload.goods:
            if upload.kind == "price" and good["error"] == QUARANTINE:
                old = state.prices.get(good["nmID"], (0, 0))
                state.quarantine[good["nmID"]] = (good["price"], good["discount"], *old)
            if good["error"]:
                continue
            if upload.kind == "price":
                state.prices[good["nmID"]] = (good["price"], good["discount"])
                state.quarantine.pop(good["nmID"], None)  # a new valid price ends the quarantine
            else:
                state.promo_joined[good["promotionID"]].add(good["nmID"])
        failed = sum(1 for g in upload.goods if g["error"])
        upload.status = 3 if not failed else (6 if failed == len(upload.goods) else 5)


def _upload_meta(upload: Upload) -> dict[str, Any]:
    return {
        "uploadID": upload.upload_id,
        "status": upload.status,
        "uploadDate": upload.created.isoformat(),
        "activationDate": upload.activation.isoformat(),
        "overAllGoodsNumber": len(upload.goods),
        "successGoodsNumber": 0 if not upload.processed else sum(1 for g in upload.goods if not g["error"]),
    }


def _upload_arg(state: WBState, request: SandboxRequest) -> Upload | httpx.Response | None:
    upload_id = _int_arg(request, "uploadID")
    if upload_id is None:
        return _bad_request("Invalid query params: uploadID is required")
    return state.uploads.get(upload_id)


def history_tasks(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    _process_uploads(world, state)
    upload = _upload_arg(state, request)
    if isinstance(upload, httpx.Response):
        return upload
    data = _upload_meta(upload) if upload and upload.processed else None
    return json_response({"data": data, "error": False, "errorText": ""})


def buffer_tasks(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    _process_uploads(world, state)
    upload = _upload_arg(state, request)
    if isinstance(upload, httpx.Response):
        return upload
    data = _upload_meta(upload) if upload and not upload.processed else None
    return json_response({"data": data, "error": False, "errorText": ""})


def history_goods(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    _process_uploads(world, state)
    upload = _upload_arg(state, request)
    if isinstance(upload, httpx.Response):
        return upload
    limit = _int_arg(request, "limit") or 0
    offset = _int_arg(request, "offset", 0) or 0
    if not 1 <= limit <= 1000:
        return _bad_request("Invalid query params: limit must be 1..1000")
    if upload is None or not upload.processed:
        return json_response({"data": {"uploadID": None, "historyGoods": None}, "error": False, "errorText": ""})
    goods = []
    for good in upload.goods[offset : offset + limit]:
        card = state.by_nm.get(good["nmID"])
        size = card.sizes[0] if card else {"chrtID": None, "techSize": ""}
        goods.append(
            {
                "nmID": good["nmID"],
                "vendorCode": good["vendorCode"],
                "sizeID": size["chrtID"],
                "techSizeName": size["techSize"],
                "price": good.get("price"),
                "currencyIsoCode4217": "RUB",
                "discount": good.get("discount", 0),
                "clubDiscount": 5,
                "status": 3 if good["error"] else 2,
                "errorText": good["error"] or "",
            }
        )
    return json_response(
        {"data": {"uploadID": upload.upload_id, "historyGoods": goods}, "error": False, "errorText": ""}
    )


# ---------------------------------------------------------------------------------------------
# 02-items: warehouses and stocks


def warehouses(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    return json_response([{**w, "isDeleting": False, "isProcessing": False} for w in SELLER_WAREHOUSES])


def _stock(state: WBState, warehouse_id: int, chrt_id: int) -> int:
    override = state.stock_overrides.get((warehouse_id, chrt_id))
    if override is not None:
        return override
    return (chrt_id * 2_654_435_761 + warehouse_id) % 61


def _warehouse(warehouse_id: str) -> int | None:
    ids = {w["id"] for w in SELLER_WAREHOUSES}
    return int(warehouse_id) if warehouse_id.isdigit() and int(warehouse_id) in ids else None


def stocks_read(world: SandboxWorld, state: WBState, request: SandboxRequest, warehouseId: str) -> httpx.Response:
    warehouse_id = _warehouse(warehouseId)
    if warehouse_id is None:
        return _marketplace_error("NotFound", "Warehouse not found", 404)
    chrt_ids = (request.json() or {}).get("chrtIds")
    if not isinstance(chrt_ids, list) or len(chrt_ids) > 1000:
        return _marketplace_error("IncorrectRequestBody", "Incorrect required body")
    rows = [{"chrtId": c, "amount": _stock(state, warehouse_id, c)} for c in chrt_ids if c in state.by_chrt]
    return json_response({"stocks": rows})


def stocks_write(world: SandboxWorld, state: WBState, request: SandboxRequest, warehouseId: str) -> httpx.Response:
    warehouse_id = _warehouse(warehouseId)
    if warehouse_id is None:
        return _marketplace_error("NotFound", "Warehouse not found", 404)
    stocks = (request.json() or {}).get("stocks")
    if not isinstance(stocks, list) or not 1 <= len(stocks) <= 1000:
        return _marketplace_error("IncorrectRequestBody", "Incorrect required body")
    not_found, refused, over = [], [], []
    for row in stocks:
        card = state.by_chrt.get(row.get("chrtId"))
        if card is None:
            not_found.append(row)
        elif card.article in world.faults.reject_offer_ids:
            refused.append(row)
        elif not 0 <= int(row.get("amount", 0)) <= 100_000:
            over.append(row)
    errors = []
    if not_found:
        errors.append({"code": "NotFound", "message": "Not found", "data": not_found})
    if refused:
        errors.append({"code": REJECT_STOCK[0], "message": REJECT_STOCK[1], "data": refused})
    if over:
        errors.append({"code": "UploadDataLimit", "message": "Upload limit exceeded.", "data": over})
    if errors:  # nothing of a refused request is applied
        return json_response(errors, 409)
    for row in stocks:
        state.stock_overrides[(warehouse_id, int(row["chrtId"]))] = int(row["amount"])
    return empty_response(204)


def wb_warehouse_stocks(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    body = request.json() or {}
    nm_ids = body.get("nmIds") or [c.nm_id for c in state.cards]
    limit = int(body.get("limit", 250_000))
    offset = int(body.get("offset", 0))
    if len(nm_ids) > 1000 or not 1 <= limit <= 250_000:
        return json_response(
            {
                "title": "Invalid request body",
                "detail": "code=400, message=invalid: nmIds (max 1000)",
                "requestId": uuid.uuid4().hex,
                "origin": "analytic-open-api",
            },
            400,
        )
    rows = []
    for nm_id in nm_ids:
        card = state.by_nm.get(nm_id)
        if card is None:
            continue
        for size in card.sizes:
            for position, (warehouse_id, name, region) in enumerate(WB_WAREHOUSES):
                quantity = (size["chrtID"] * 31 + warehouse_id + position) % 45
                if quantity:
                    rows.append(
                        {
                            "nmId": nm_id,
                            "chrtId": size["chrtID"],
                            "warehouseId": warehouse_id,
                            "warehouseName": name,
                            "regionName": region,
                            "quantity": quantity,
                            "inWayToClient": quantity % 4,
                            "inWayFromClient": quantity % 3,
                        }
                    )
    return json_response({"data": {"items": rows[offset : offset + limit]}})


# ---------------------------------------------------------------------------------------------
# 03-orders-fbs, 05-orders-dbs


def _task_json(order: dict[str, Any]) -> dict[str, Any]:
    """`price` is what the buyer pays, every discount but WB's wallet (03-orders-fbs), so after WB's
    own discount (spp) too; the seller's price after the seller's discount is `salePrice`, listed
    only by the methods of new tasks."""
    card, size = order["card"], order["size"]
    kopecks = int(order["finished"] * 100)
    task: dict[str, Any] = {
        "id": order["id"],
        "rid": order["rid"],
        "orderUid": order["uid"],
        "article": card.article,
        "colorCode": "",
        "createdAt": _iso(order["created"]),
        "skus": list(size["skus"]),
        "nmId": card.nm_id,
        "chrtId": size["chrtID"],
        "price": kopecks,
        "convertedPrice": kopecks,
        "currencyCode": 643,
        "convertedCurrencyCode": 643,
        "cargoType": 1,
        "comment": "",
        "isZeroOrder": False,
        "address": {
            "fullAddress": f"{order['city']}, ул. Ленина, д. {order['index'] % 90 + 1}",
            "longitude": 37.6176,
            "latitude": 55.7558,
        },
    }
    if order["scheme"] == "FBS":
        task.update(
            deliveryType="fbs",
            offices=[order["city"]],
            warehouseId=SELLER_WAREHOUSES[0]["id"],
            officeId=SELLER_WAREHOUSES[0]["officeId"],
            crossBorderType=0,
            scanPrice=None,
            options={"isB2B": False},
        )
        if _status_at(order, order["created"] + timedelta(days=1))[1] == "complete":
            task["supplyId"] = f"WB-GI-{order['index'] // 50 + 1000000}"
    else:
        task.update(
            deliveryType="dbs",
            warehouseId=SELLER_WAREHOUSES[1]["id"],
            options={"isB2b": False},
            groupId=str(uuid.UUID(int=order["index"] + 1)),
            finalPrice=kopecks,
            convertedFinalPrice=kopecks,
            scanPrice=None,
            wbStickerId=order["index"] + 10_000_000,
        )
    return task


def _task_window(
    world: SandboxWorld, request: SandboxRequest, required: bool
) -> tuple[datetime, datetime] | httpx.Response:
    limit = _int_arg(request, "limit")
    date_from, date_to = _int_arg(request, "dateFrom"), _int_arg(request, "dateTo")
    if limit is None or not 1 <= limit <= 1000 or request.arg("next") is None:
        return _marketplace_error("IncorrectParameter", "Incorrect parameter: limit (1-1000) and next are required")
    if required and (date_from is None or date_to is None):
        return _marketplace_error("IncorrectParameter", "Incorrect parameter: dateFrom and dateTo are required")
    end = datetime.fromtimestamp(date_to, UTC) if date_to is not None else world.now
    start = datetime.fromtimestamp(date_from, UTC) if date_from is not None else end - timedelta(days=30)
    if end < start or end - start > timedelta(days=30, seconds=1):
        return _marketplace_error("IncorrectParameter", "Incorrect parameter: the period must not exceed 30 days")
    return max(start, world.now - timedelta(days=90)), end


def _task_page(
    world: SandboxWorld, state: WBState, request: SandboxRequest, scheme: str, *, required: bool, completed_only: bool
) -> httpx.Response:
    window = _task_window(world, request, required)
    if isinstance(window, httpx.Response):
        return window
    limit = int(request.arg("limit") or 0)
    after = int(request.arg("next") or 0)
    start, end = window
    start_index = max(after - TASK_BASE + 1, 0) if after else 0
    found, last = [], after
    end = min(end, world.now)
    candidates = _index_range(state, state.order_step, start, end)
    for index in range(max(candidates.start, start_index), candidates.stop):
        order = _order(world, state, index)
        if order["created"] > end:
            break
        if order["created"] < start or order["scheme"] != scheme:
            continue
        if completed_only and _status_at(order, world.now)[2] == "waiting":
            continue
        found.append(_task_json(order))
        last = order["id"]
        if len(found) == limit:
            break
    return json_response({"next": last, "orders": found})


def fbs_orders(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    return _task_page(world, state, request, "FBS", required=False, completed_only=False)


def dbs_orders(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    # "completed assembly tasks, after sale or cancellation" (05-orders-dbs)
    return _task_page(world, state, request, "DBS", required=True, completed_only=True)


def _new_tasks(world: SandboxWorld, state: WBState, scheme: str) -> list[dict[str, Any]]:
    """Every task of the scheme still new now (a task leaves "new" within hours of creation)."""
    recent = _orders_created(world, state, world.now - timedelta(days=2), world.now)
    tasks = []
    for order in recent:
        if order["scheme"] == scheme and _status_at(order, world.now)[1:] == ("new", "waiting"):
            task = _task_json(order)
            task.update(salePrice=int(order["paid"] * 100), requiredMeta=[], optionalMeta=[])
            task.pop("supplyId", None)  # a new task is in no supply yet
            tasks.append(task)
    return tasks


def dbs_new(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    return json_response({"orders": _new_tasks(world, state, "DBS")})


def fbs_new(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    """GET /api/v3/orders/new: all new FBS tasks of the seller at the moment of the request."""
    return json_response({"orders": _new_tasks(world, state, "FBS")})


def _order_by_task(world: SandboxWorld, state: WBState, task_id: Any) -> dict[str, Any] | None:
    if not isinstance(task_id, int) or task_id < TASK_BASE:
        return None
    order = _order(world, state, task_id - TASK_BASE)
    return order if order["created"] <= world.now else None


def fbs_statuses(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    ids = (request.json() or {}).get("orders")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 1000:
        return _marketplace_error("IncorrectRequestBody", "Incorrect required body")
    rows = []
    for task_id in ids:
        order = _order_by_task(world, state, task_id)
        if order is None or order["scheme"] != "FBS":
            continue
        _, supplier, wb = _status_at(order, world.now)
        rows.append(
            {
                "id": task_id,
                "supplierStatus": supplier,
                "wbStatus": wb,
                "isCancellable": supplier in {"new", "confirm"} and wb == "waiting",
            }
        )
    return json_response({"orders": rows})


def dbs_statuses(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    ids = (request.json() or {}).get("ordersIds")
    if not isinstance(ids, list) or len(ids) > 1000:
        return _marketplace_error("IncorrectRequestBody", "Incorrect required body")
    rows = []
    for task_id in ids:
        order = _order_by_task(world, state, task_id)
        if order is None or order["scheme"] != "DBS":
            rows.append({"orderId": task_id, "errors": [{"code": 404, "detail": "NotFound"}]})
            continue
        _, supplier, wb = _status_at(order, world.now)
        rows.append({"orderId": task_id, "supplierStatus": supplier, "wbStatus": wb})
    return json_response({"orders": rows})


# ---------------------------------------------------------------------------------------------
# 12-reports: statistics orders (every scheme; FBW rows come from WB warehouses)


def _statistics_row(order: dict[str, Any], now: datetime) -> dict[str, Any]:
    card, size = order["card"], order["size"]
    cancelled = _cancelled_at(order)
    is_cancel = cancelled is not None and cancelled <= now
    changed = cancelled if is_cancel and cancelled else order["created"]
    fbw = order["scheme"] == "FBO"
    warehouse = order["wb_warehouse"][1] if fbw else str(SELLER_WAREHOUSES[order["scheme"] == "DBS"]["name"])[:50]
    return {
        "date": _msk(order["created"]),
        "lastChangeDate": _msk(changed),
        "warehouseName": warehouse,
        "warehouseType": "Склад WB" if fbw else "Склад продавца",
        "countryName": "Россия",
        "oblastOkrugName": "Центральный федеральный округ",
        "regionName": order["city"],
        "supplierArticle": card.article,
        "nmId": card.nm_id,
        "barcode": size["skus"][0],
        "category": card.subject,
        "subject": card.subject,
        "brand": card.brand,
        "techSize": size["techSize"],
        "incomeID": 20_000 + order["index"] % 500,
        "isSupply": False,
        "isRealization": True,
        "totalPrice": Decimal(order["list_price"]),
        "discountPercent": order["discount"],
        "spp": Decimal(order["spp"]),
        "finishedPrice": order["finished"],
        "priceWithDisc": order["paid"],
        "isCancel": is_cancel,
        "cancelDate": _msk(cancelled) if is_cancel and cancelled else "0001-01-01T00:00:00",
        "sticker": str(30_000_000 + order["index"]),
        "gNumber": order["uid"].split("_")[0],
        "srid": order["rid"],
        "_changed": changed,
        "_index": order["index"],
    }


def _statistics_from(request: SandboxRequest) -> datetime | httpx.Response:
    text = request.arg("dateFrom")
    if not text:
        return json_response({"errors": ["dateFrom: required"]}, 400)
    try:
        return _parse_msk(text)
    except ValueError:
        return json_response({"errors": [f"dateFrom: invalid value {text!r}"]}, 400)


def _statistics_answer(state: WBState, rows: list[dict[str, Any]], date_from: datetime) -> httpx.Response:
    """flag=0: the rows whose lastChangeDate is at or after dateFrom ("больше или равно", 12-reports
    parameter `flag`), oldest change first, at most ~80,000 of them."""
    rows = [r for r in rows if r["_changed"] >= date_from]
    rows.sort(key=lambda r: (r["_changed"], r["_index"]))
    cap = state.statistics_page_rows
    if len(rows) > cap:  # keep rows sharing the last change time together, so paging loses none
        last = rows[cap - 1]["_changed"]
        while cap < len(rows) and rows[cap]["_changed"] == last:
            cap += 1
        rows = rows[:cap]
    return _statistics_json(rows)


def _statistics_json(rows: list[dict[str, Any]]) -> httpx.Response:
    for row in rows:
        row.pop("_changed"), row.pop("_index")
    return json_response(rows)


def supplier_orders(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    date_from = _statistics_from(request)
    if isinstance(date_from, httpx.Response):
        return date_from
    if request.arg("flag") == "1":
        day = date_from.astimezone(MOSCOW).replace(hour=0, minute=0, second=0)
        rows = [_statistics_row(o, world.now) for o in _orders_created(world, state, day, day + timedelta(days=1))]
        return _statistics_json(rows)
    # A row changes when created or cancelled (weeks later for a late FBS task): look back far enough.
    candidates = _orders_created(world, state, date_from - ORDER_CHANGES_WITHIN, world.now)
    return _statistics_answer(state, [_statistics_row(o, world.now) for o in candidates], date_from)


def _sale_rows(world: SandboxWorld, order: dict[str, Any]) -> list[dict[str, Any]]:
    """The sales-report rows of an order as of now: its buy-out (S…) once sold, and for some a
    return (R…) days later. Every scheme: 1 row = 1 order = 1 assembly task (12-reports)."""
    sold = _sold_at(order)
    if sold is None or sold > world.now:
        return []
    base = _statistics_row(order, world.now)
    for key in ("isCancel", "cancelDate"):
        base.pop(key)
    number = 9_000_000_000 + order["index"]
    paid, finished = order["paid"], order["finished"]
    for_pay = (paid * Decimal("0.755")).quantize(Decimal("0.01"))
    # WB lists a buy-out some minutes after the goods are handed over.
    sale = {**base, "date": _msk(sold), "lastChangeDate": _msk(sold + timedelta(minutes=20)),
            "_changed": sold + timedelta(minutes=20), "paymentSaleAmount": 0, "forPay": for_pay,
            "finishedPrice": finished, "priceWithDisc": paid, "saleID": f"S{number}"}
    rows = [sale]
    rng = world.rng(MP, "sale-return", order["index"])
    if rng.random() < RETURN_SHARE:
        back = (sold + timedelta(days=rng.uniform(2, 10))).replace(microsecond=0)
        if back <= world.now:
            # A return repeats the sale with the amounts negated (money goes back to the buyer).
            rows.append({**sale, "date": _msk(back), "lastChangeDate": _msk(back), "_changed": back,
                         "forPay": -for_pay, "finishedPrice": -finished, "priceWithDisc": -paid,
                         "totalPrice": -Decimal(order["list_price"]), "saleID": f"R{number}"})
    return rows


def supplier_sales(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    """GET /api/v1/supplier/sales (12-reports): buy-outs and returns, flag=0 by lastChangeDate or
    flag=1 by the day of the sale."""
    date_from = _statistics_from(request)
    if isinstance(date_from, httpx.Response):
        return date_from
    if request.arg("flag") == "1":
        day = date_from.astimezone(MOSCOW).replace(hour=0, minute=0, second=0)
        candidates = _orders_created(world, state, day - ORDER_CHANGES_WITHIN - timedelta(days=10), world.now)
        rows = [r for o in candidates for r in _sale_rows(world, o)
                if day <= _parse_msk(r["date"]) < day + timedelta(days=1)]
        return _statistics_json(rows)
    # A buy-out comes within ORDER_CHANGES_WITHIN of the order, a return up to 10 days later.
    candidates = _orders_created(world, state, date_from - ORDER_CHANGES_WITHIN - timedelta(days=10), world.now)
    return _statistics_answer(state, [r for o in candidates for r in _sale_rows(world, o)], date_from)


# ---------------------------------------------------------------------------------------------
# 09-communications: claims, feedbacks, questions


def _claims(world: SandboxWorld, state: WBState) -> list[dict[str, Any]]:
    """Claims of the last 14 days, newest first; ~1 in 8 delivered orders gets one, days after delivery."""
    if state.claims_cache and state.claims_cache[0] == world.now:
        return state.claims_cache[1]
    since = world.now - timedelta(days=CLAIMS_DAYS)
    claims = []
    for order in _orders_created(world, state, since - timedelta(days=12), world.now):
        sold = _sold_at(order)
        rng = world.rng(MP, "claim", order["index"])
        if sold is None or rng.random() >= 0.125:
            continue
        opened = sold + timedelta(hours=rng.uniform(12, 96))
        if not since <= opened <= world.now:
            continue
        decided = opened + timedelta(hours=rng.uniform(6, 48))
        status = 0 if decided > world.now else rng.choice((1, 2, 2))
        claims.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "claim_type": rng.choice((1, 3)),
                "status": status,
                "status_ex": {0: 0, 1: 1, 2: 8}[status],
                "nm_id": order["card"].nm_id,
                "user_comment": rng.choice(("Не подошёл размер", "Брак: шов разошёлся", "Цвет не соответствует фото")),
                "wb_comment": None if status == 0 else ("Заявка одобрена" if status == 2 else "Заявка отклонена"),
                "dt": _msk(opened),
                "imt_name": order["card"].title,
                "order_dt": _iso(order["created"]),
                "dt_update": _msk(opened if status == 0 else decided),
                "photos": [],
                "video_paths": [],
                "actions": ["approve1", "reject1"] if status == 0 else [],
                "price": order["paid"],
                "currency_code": "643",
                "srid": order["rid"],
                "origin_id_info": None,
                "delivery_dt": _msk(sold),
            }
        )
    claims.sort(key=lambda c: c["dt"], reverse=True)
    state.claims_cache = (world.now, claims)
    return claims


def claims(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    archive = request.arg("is_archive")
    limit = _int_arg(request, "limit", 50) or 0
    offset = _int_arg(request, "offset", 0) or 0
    if archive not in ("true", "false") or not 1 <= limit <= 200 or offset < 0:
        return json_response(
            {
                "title": "Invalid query params",
                "detail": "Failed to deserialize query string: missing field `is_archive`",
                "requestId": uuid.uuid4().hex,
            },
            400,
            {"Content-Type": "application/problem+json"},
        )
    rows = [c for c in _claims(world, state) if (c["status"] != 0) == (archive == "true")]
    if request.arg("id"):
        rows = [c for c in rows if c["id"] == request.arg("id")]
    if request.arg("nm_id"):
        rows = [c for c in rows if str(c["nm_id"]) == request.arg("nm_id")]
    return json_response({"claims": rows[offset : offset + limit], "total": len(rows)})


def _comm_id(kind: str, index: int, rng_bits: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    prefix = "".join(alphabet[(rng_bits >> (6 * k)) % 62] for k in range(12))
    return f"{prefix}{kind[0]}{index:07d}"


def _comm_index(kind: str, comm_id: str) -> int | None:
    tail = comm_id[-8:]
    if len(comm_id) != 20 or tail[0] != kind[0] or not tail[1:].isdigit():
        return None
    return int(tail[1:])


def _review(world: SandboxWorld, state: WBState, kind: str, index: int) -> dict[str, Any]:
    cached = state.review_cache.get((kind, index))
    if cached is not None:
        return cached
    step = state.review_step if kind == "review" else state.question_step
    rng = world.rng(MP, kind, index)
    card = state.cards[rng.randrange(len(state.cards))]
    created = _created(state, world, kind, index, step)
    row = {
        "index": index,
        "id": _comm_id(kind, index, rng.getrandbits(72)),
        "card": card,
        "created": created,
        "author": world.person(rng),
        "answered_at_start": rng.random() < 0.5,
    }
    if kind == "review":
        rating, text = world.review_text(rng)
        row.update(rating=rating, text=text, photos=rng.randrange(3), size=card.sizes[0]["techSize"])
    else:
        row.update(text=world.question_text(rng))
    if len(state.review_cache) > 400_000:
        state.review_cache.clear()
    state.review_cache[(kind, index)] = row
    return row


def _answer_of(world: SandboxWorld, state: WBState, kind: str, row: dict[str, Any]) -> str:
    answers = state.feedback_answers if kind == "review" else state.question_answers
    if row["id"] in answers:
        return answers[row["id"]]
    if row["answered_at_start"] and row["created"] < world.config.start - timedelta(days=1):
        return (
            "Спасибо за обратную связь! Будем рады видеть вас снова."
            if kind == "review"
            else "Здравствуйте! Да, подробности указаны в описании товара."
        )
    return ""


def _review_json(world: SandboxWorld, state: WBState, row: dict[str, Any], answer: str) -> dict[str, Any]:
    card = row["card"]
    pros, cons = ("Качество, цена", "") if row["rating"] >= 4 else ("", "Качество могло быть лучше")
    return {
        "id": row["id"],
        "text": row["text"],
        "pros": pros,
        "cons": cons,
        "productValuation": row["rating"],
        "createdDate": _iso(row["created"]),
        "answer": {"text": answer, "state": "wbRu", "editable": True} if answer else None,
        "state": "wbRu" if answer else "none",
        "productDetails": {
            "nmId": card.nm_id,
            "imtId": 300_000_000 + card.index,
            "productName": card.title,
            "supplierArticle": card.article,
            "supplierName": "ООО «Прилавок»",
            "brandName": card.brand,
            "size": row["size"],
        },
        "photoLinks": [
            {
                "fullSize": f"https://feedback.sandbox.local/{row['id']}/{n}.jpg",
                "miniSize": f"https://feedback.sandbox.local/{row['id']}/{n}_s.jpg",
            }
            for n in range(row["photos"])
        ]
        or None,
        "video": None,
        "wasViewed": bool(answer),
        "userName": row["author"],
        "orderStatus": "buyout",
        "matchingSize": "ok" if len(card.sizes) > 1 else "",
        "isAbleSupplierFeedbackValuation": True,
        "supplierFeedbackValuation": 0,
        "isAbleSupplierProductValuation": True,
        "supplierProductValuation": 0,
        "isAbleReturnProductOrders": False,
        "returnProductOrdersDate": None,
        "bables": None,
        "lastOrderShkId": 1_000_000 + row["index"],
        "lastOrderCreatedAt": _iso(row["created"] - timedelta(days=7)),
        "color": card.colour,
        "subjectId": 100 + card.index % 16,
        "subjectName": card.subject,
        "parentFeedbackId": None,
        "childFeedbackId": None,
    }


def _question_json(world: SandboxWorld, state: WBState, row: dict[str, Any], answer: str) -> dict[str, Any]:
    card = row["card"]
    return {
        "id": row["id"],
        "text": row["text"],
        "createdDate": _iso(row["created"]),
        "state": "wbRu" if answer else "suppliersPortalSynch",
        "answer": {"text": answer, "editable": True, "createDate": _iso(world.now)} if answer else None,
        "productDetails": {
            "nmId": card.nm_id,
            "imtId": 300_000_000 + card.index,
            "productName": card.title,
            "supplierArticle": card.article,
            "supplierName": "ООО «Прилавок»",
            "brandName": card.brand,
        },
        "wasViewed": bool(answer),
        "isWarned": False,
    }


def _comm_list(world: SandboxWorld, state: WBState, request: SandboxRequest, kind: str) -> httpx.Response:
    answered = request.arg("isAnswered")
    take, skip = _int_arg(request, "take"), _int_arg(request, "skip")
    max_take = 5000 if kind == "review" else 10_000
    if (
        answered not in ("true", "false")
        or take is None
        or skip is None
        or not 1 <= take <= max_take
        or not 0 <= skip <= 199_990
    ):
        return _bad_request("Неверный запрос: проверьте isAnswered, take и skip", additionalErrors=None)
    step = state.review_step if kind == "review" else state.question_step
    date_from = datetime.fromtimestamp(_int_arg(request, "dateFrom") or 0, UTC)
    date_to = datetime.fromtimestamp(_int_arg(request, "dateTo") or world.now.timestamp(), UTC)
    date_from = max(date_from, state.base)
    date_to = min(date_to, world.now)
    nm_filter = _int_arg(request, "nmId")
    query = (kind, answered, date_from, date_to, nm_filter, world.now, state.comm_version)
    cached = state.comm_cache.get(query)
    if cached is None:  # one scan per query, then take/skip pages are slices
        rows, unanswered = [], 0
        for index in _index_range(state, step, date_from, date_to):
            row = _review(world, state, kind, index)
            if row["created"] > date_to:
                break
            if row["created"] < date_from or (nm_filter and row["card"].nm_id != nm_filter):
                continue
            answer = _answer_of(world, state, kind, row)
            unanswered += not answer
            if bool(answer) == (answered == "true"):
                rows.append((row, answer))
        state.comm_cache = {query: (rows, unanswered)}
    else:
        rows, unanswered = cached
    page = (rows[::-1] if request.arg("order") == "dateDesc" else rows)[skip : skip + take]
    render = _review_json if kind == "review" else _question_json
    key = "feedbacks" if kind == "review" else "questions"
    total = len(rows) + (unanswered if answered == "true" else 0)
    data = {
        "countUnanswered": unanswered,
        "countArchive": total - unanswered,
        key: [render(world, state, row, answer) for row, answer in page],
    }
    return json_response({"data": data, "error": False, "errorText": "", "additionalErrors": None})


def feedbacks(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    return _comm_list(world, state, request, "review")


def questions(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    return _comm_list(world, state, request, "question")


def feedback_answer(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    body = request.json() or {}
    text = str(body.get("text") or "")
    if not body.get("id") or not 2 <= len(text) <= 5000:
        return json_response(
            {
                "title": "validation error",
                "detail": "text: length must be between 2 and 5000",
                "requestId": uuid.uuid4().hex,
                "origin": "feedbacks-api",
            },
            400,
        )
    # WB does not check the id (09-communications): an unknown id is a silent no-op.
    index = _comm_index("review", str(body["id"]))
    if index is not None and _review(world, state, "review", index)["id"] == body["id"]:
        state.feedback_answers[str(body["id"])] = text
        state.comm_version += 1
    return empty_response(204)


def question_patch(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    body = request.json() or {}
    question_id = str(body.get("id") or "")
    index = _comm_index("question", question_id)
    row = _review(world, state, "question", index) if index is not None else None
    if row is None or row["id"] != question_id or row["created"] > world.now:
        return json_response(
            {
                "data": None,
                "error": True,
                "errorText": "Вопрос не найден",
                "additionalErrors": None,
                "requestId": uuid.uuid4().hex,
            },
            404,
        )
    if "wasViewed" in body and "answer" not in body:
        return json_response({"data": None, "error": False, "errorText": "", "additionalErrors": None})
    text = str((body.get("answer") or {}).get("text") or "")
    if body.get("state") not in ("wbRu", "none") or not text:
        return json_response(
            {
                "data": None,
                "error": True,
                "errorText": "Некорректные параметры запроса",
                "additionalErrors": None,
                "requestId": uuid.uuid4().hex,
            },
            400,
        )
    state.question_answers[question_id] = text
    state.comm_version += 1
    return json_response({"data": None, "error": False, "errorText": "", "additionalErrors": None})


# ---------------------------------------------------------------------------------------------
# 08-promotion: calendar


def _promotions(world: SandboxWorld) -> list[dict[str, Any]]:
    start = world.config.start
    return [
        {
            "id": pid,
            "name": name,
            "type": kind,
            "startDateTime": _iso(start + timedelta(days=a)),
            "endDateTime": _iso(start + timedelta(days=b)),
        }
        for pid, name, kind, a, b in PROMOTIONS
    ]


def _eligible(state: WBState, promo_id: int) -> list[Card]:
    return [c for c in state.cards if (c.index + promo_id) % 3 == 0]


def _in_action(state: WBState, promo_id: int, card: Card) -> bool:
    return (card.index + promo_id) % 9 == 0 or card.nm_id in state.promo_joined.get(promo_id, set())


def calendar_promotions(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    try:
        start = _parse_utc(request.arg("startDateTime") or "")
        end = _parse_utc(request.arg("endDateTime") or "")
    except ValueError:
        return _bad_request("Invalid query params: startDateTime and endDateTime are required")
    if request.arg("allPromo") not in ("true", "false"):
        return _bad_request("Invalid query params: allPromo is required")
    limit = _int_arg(request, "limit", 1000) or 1000
    offset = _int_arg(request, "offset", 0) or 0
    rows = [
        p for p in _promotions(world) if _parse_utc(p["startDateTime"]) <= end and _parse_utc(p["endDateTime"]) >= start
    ]
    if request.arg("allPromo") == "false":
        rows = [p for p in rows if p["type"] == "regular"]
    return json_response({"data": {"promotions": rows[offset : offset + limit]}})


def calendar_details(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    _process_uploads(world, state)
    ids = {int(v) for v in request.args("promotionIDs") if v.isdigit()}
    if not 1 <= len(ids) <= 100:
        return _bad_request("Invalid query params: promotionIDs (1..100)")
    details = []
    for promo in _promotions(world):
        if promo["id"] not in ids:
            continue
        eligible = _eligible(state, promo["id"])
        joined = sum(1 for c in eligible if _in_action(state, promo["id"], c))
        details.append(
            {
                **promo,
                "description": f"Акция «{promo['name']}»: скидки на популярные товары, продвижение в поиске.",
                "advantages": ["Плашка", "Поднятие в поиске"],
                "inPromoActionLeftovers": joined,
                "inPromoActionTotal": joined,
                "notInPromoActionLeftovers": len(eligible) - joined,
                "notInPromoActionTotal": len(eligible) - joined,
                "participationPercentage": round(100 * joined / len(eligible)) if eligible else 0,
                "exceptionProductsCount": 0,
                "ranging": [],
            }
        )
    return json_response({"data": {"promotions": details}})


def _promo(world: SandboxWorld, promo_id: int | None) -> dict[str, Any] | None:
    return next((p for p in _promotions(world) if p["id"] == promo_id), None)


def calendar_nomenclatures(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    _process_uploads(world, state)
    promo = _promo(world, _int_arg(request, "promotionID"))
    in_action = request.arg("inAction")
    if promo is None or in_action not in ("true", "false"):
        return json_response({"errorText": "Invalid query params"}, 400)
    if promo["type"] == "auto":
        return json_response({"errorText": "Данный метод неприменим для автоакций"}, 422)
    limit = _int_arg(request, "limit", 1000) or 1000
    offset = _int_arg(request, "offset", 0) or 0
    rows = [c for c in _eligible(state, promo["id"]) if _in_action(state, promo["id"], c) == (in_action == "true")]
    result = []
    for card in rows[offset : offset + limit]:
        list_price, discount = state.prices[card.nm_id]
        plan_discount = min(discount + 15, 90)
        result.append(
            {
                "id": card.nm_id,
                "inAction": in_action == "true",
                "price": Decimal(list_price),
                "currencyCode": "RUB",
                "planPrice": (Decimal(list_price) * (100 - plan_discount) / 100).quantize(Decimal("0.01")),
                "discount": discount,
                "planDiscount": plan_discount,
            }
        )
    return json_response({"data": {"nomenclatures": result}})


def calendar_upload(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    data = (request.json() or {}).get("data") or {}
    promo = _promo(world, data.get("promotionID"))
    nm_ids = data.get("nomenclatures")
    if promo is None or not isinstance(nm_ids, list) or not 1 <= len(nm_ids) <= 1000:
        return json_response({"errorText": "Invalid request body"}, 400)
    if promo["type"] == "auto":
        return json_response({"errorText": "Данный метод неприменим для автоакций"}, 422)
    eligible = {c.nm_id for c in _eligible(state, promo["id"])}
    goods = []
    for nm_id in nm_ids:
        card = state.by_nm.get(nm_id)
        error = None
        if card is None or nm_id not in eligible:
            error = "Item is not eligible for this promotion"
        elif card.article in world.faults.reject_offer_ids:
            error = REJECT_PRICE
        list_price, discount = state.prices.get(nm_id, (0, 0))
        goods.append(
            {
                "nmID": nm_id,
                "vendorCode": card.article if card else "",
                "price": list_price,
                "discount": discount,
                "error": error,
                "promotionID": promo["id"],
            }
        )
    upload = _new_upload(world, state, "promo", goods, f"promo:{promo['id']}:{sorted(nm_ids)}")
    return json_response({"data": {"alreadyExists": False, "uploadID": upload.upload_id}})


# ---------------------------------------------------------------------------------------------
# 13-finances: sales report detail


def _report_rows(world: SandboxWorld, state: WBState, order: dict[str, Any]) -> list[dict[str, Any]]:
    sold = _sold_at(order)
    if sold is None:
        return []
    day = sold.astimezone(MOSCOW).date()
    if world.now < datetime.combine(day + timedelta(days=1), datetime.min.time(), MOSCOW) + timedelta(hours=6):
        return []  # the daily report for that day is formed the next morning
    card, size = order["card"], order["size"]
    paid = order["paid"]
    commission = (paid * Decimal("0.245")).quantize(Decimal("0.01"))
    acquiring = (paid * Decimal("0.015")).quantize(Decimal("0.01"))
    logistics = Decimal(50 + order["index"] % 70) + Decimal("0.5")
    common = _report_common(day, order, card, size, sold)
    sale = {
        **common,
        "rrdId": RRD_BASE + order["index"] * 4 + 1,
        "docTypeName": "Продажа",
        "sellerOperName": "Продажа",
        "quantity": 1,
        "retailPrice": str(order["list_price"]),
        "retailAmount": str(paid),
        "retailPriceWithDisc": str(paid),
        "ppvzSalesCommission": str(commission),
        "acquiringFee": str(acquiring),
        "forPay": str(paid - commission - acquiring),
        "vw": str(commission),
        "deliveryAmount": 0,
        "deliveryService": "0",
    }
    delivery = {
        **common,
        "rrdId": RRD_BASE + order["index"] * 4 + 2,
        "docTypeName": "",
        "sellerOperName": "Логистика",
        "quantity": 0,
        "retailPrice": "0",
        "retailAmount": "0",
        "retailPriceWithDisc": "0",
        "ppvzSalesCommission": "0",
        "acquiringFee": "0",
        "forPay": "0",
        "vw": "0",
        "deliveryAmount": 1,
        "deliveryService": str(logistics),
    }
    return [sale, delivery]


def _report_common(
    day: date, order: dict[str, Any], card: Card, size: dict[str, Any], sold: datetime
) -> dict[str, Any]:
    report_id = 900_000 + (day - date(2024, 1, 1)).days
    zero = "0"
    return {
        "reportId": report_id,
        "dateFrom": day.isoformat(),
        "dateTo": day.isoformat(),
        "createDate": (day + timedelta(days=1)).isoformat(),
        "currency": "RUB",
        "reportType": 1,
        "giId": 123_456,
        "dlvPrc": 1.8,
        "fixTariffDateFrom": day.isoformat(),
        "fixTariffDateTo": day.isoformat(),
        "subjectName": card.subject,
        "nmId": card.nm_id,
        "brandName": card.brand,
        "vendorCode": card.article,
        "title": card.title,
        "techSize": size["techSize"],
        "sku": size["skus"][0],
        "salePercent": order["discount"],
        "commissionPercent": 24.5,
        "officeName": order["wb_warehouse"][1],
        "orderDt": _iso(order["created"]),
        "saleDt": _iso(sold),
        "rrDate": day.isoformat(),
        "shkId": 1_239_000_000 + order["index"],
        "returnAmount": 0,
        "giBoxTypeName": "Монопаллета",
        "productDiscountForReport": order["discount"],
        "sellerPromo": zero,
        "spp": order["spp"],
        "kvwBase": 24.15,
        "kvw": 24.5,
        "supRatingUp": 0,
        "isKgvpV2": 0,
        "ppvzReward": zero,
        "acquiringPercent": 1.5,
        "paymentProcessing": "Комиссия за организацию платежа",
        "acquiringBank": "Сбербанк",
        "vwNds": zero,
        "ppvzOfficeName": f"{order['city']}, ПВЗ",
        "ppvzOfficeId": 105_383,
        "ppvzSupplierName": "ООО «Прилавок»",
        "ppvzSupplierInn": "7700000000",
        "declarationNumber": "",
        "bonusTypeName": "",
        "stickerId": str(30_000_000 + order["index"]),
        "country": "Россия",
        "srvDbs": False,
        "penalty": zero,
        "additionalPayment": zero,
        "rebillLogisticCost": zero,
        "rebillLogisticOrg": "",
        "paidStorage": zero,
        "deduction": zero,
        "paidAcceptance": zero,
        "orderId": order["id"],
        "kiz": "",
        "isB2b": False,
        "trbxId": "",
        "installmentCofinancingAmount": zero,
        "wibesDiscountPercent": 0,
        "cashbackAmount": zero,
        "cashbackDiscount": zero,
        "cashbackCommissionChange": zero,
        "paymentSchedule": zero,
        "deliveryMethod": f"{order['scheme']}, (МГТ)",
        "sellerPromoId": 0,
        "sellerPromoDiscount": 0,
        "loyaltyId": 0,
        "loyaltyDiscount": 0,
        "uuidPromocode": "",
        "salePricePromocodeDiscountPrc": 0,
        "articleSubstitution": "",
        "salePriceAffiliatedDiscountPrc": 0,
        "salePriceWholesaleDiscountPrc": 0,
        "b2bCustomerTin": "",
        "orderUid": order["uid"],
        "srid": order["rid"],
    }


def sales_report(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    body = request.json() or {}
    try:
        date_from = _parse_msk(str(body["dateFrom"]))
        date_to = _parse_msk(str(body["dateTo"]))
    except (KeyError, ValueError):
        return json_response(
            {
                "status": 400,
                "title": "GetReportDetailByPeriodNB decode error",
                "detail": "GetReportDetailByPeriodNB decode error: missing dateTo param",
                "requestId": str(uuid.uuid4()),
                "origin": "open-api-finreports",
            },
            400,
            {"Content-Type": "application/problem+json"},
        )
    if len(str(body["dateTo"])) == 10:  # a bare date means the whole day
        date_to += timedelta(days=1) - timedelta(seconds=1)
    limit = int(body.get("limit", 100_000))
    after = int(body.get("rrdId", 0))
    key = (date_from, date_to, world.now)
    rows = state.finance_cache.get(key)
    if rows is None:
        rows = []
        first_day, last_day = date_from.astimezone(MOSCOW).date(), date_to.astimezone(MOSCOW).date()
        for order in _orders_created(world, state, date_from - timedelta(days=7), min(date_to, world.now)):
            for row in _report_rows(world, state, order):
                if first_day <= date.fromisoformat(row["rrDate"]) <= last_day:
                    rows.append(row)
        rows.sort(key=lambda r: r["rrdId"])
        state.finance_cache = {key: rows}
    start = bisect.bisect_right([r["rrdId"] for r in rows], after) if after else 0
    page = rows[start : start + limit]
    return json_response(page) if page else empty_response(204)


# ---------------------------------------------------------------------------------------------
# 10-rates: commissions per subject and box tariffs per warehouse


def _subject_rates(subject: str) -> dict[str, Any]:
    """Deterministic per-subject commissions, % (a few points apart per sales model, as WB sets them)."""
    base = Decimal(12 + sum(subject.encode()) % 12) + Decimal("0.5")
    return {
        "kgvpBooking": base, "kgvpMarketplace": base + 3, "kgvpPickup": base, "kgvpSupplier": base,
        "kgvpSupplierExpress": Decimal(3), "paidStorageKgvp": base + 3,
    }


def tariffs_commission(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    locale = request.arg("locale", "ru")
    if locale not in ("ru", "en", "zh"):
        return json_response(
            _problem(400, "Bad Request",
                     'parameter "locale" in query has an error: value is not one of the allowed values '
                     '["ru","en","zh"]', "api-statistics"),
            400, {"Content-Type": "application/problem+json; charset=utf-8"},
        )
    subjects = sorted({card.subject for card in state.cards})
    report = [
        {**_subject_rates(subject), "parentID": 600 + n, "parentName": subject.split()[0],
         "subjectID": 100 + n, "subjectName": subject}
        for n, subject in enumerate(subjects)
    ]
    return json_response({"report": report})


# (name, federal district, delivery first litre, extra litre, FBS first litre, FBS extra litre,
#  storage per day first litre, extra litre, coefficient %)
_BOX_WAREHOUSES = [
    ("Коледино", "Центральный федеральный округ", "48", "11,2", "40", "11", "0,14", "0,07", "160"),
    ("Казань", "Приволжский федеральный округ", "38,5", "9,5", "35", "9", "0,1", "0,05", "125"),
    ("Новосибирск", "Сибирский федеральный округ", "55", "12", "46", "12", "0,16", "0,08", "175"),
]


def tariffs_box(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    day = request.arg("date")
    try:
        date.fromisoformat(day or "")
    except ValueError:
        return json_response(_problem(400, "Bad Request", "Invalid date param", "tariffs"), 400,
                             {"Content-Type": "application/problem+json; charset=utf-8"})
    today = world.now.date()
    rows = [
        {"boxDeliveryBase": base, "boxDeliveryCoefExpr": coef, "boxDeliveryLiter": litre,
         "boxDeliveryMarketplaceBase": fbs_base, "boxDeliveryMarketplaceCoefExpr": coef,
         "boxDeliveryMarketplaceLiter": fbs_litre, "boxStorageBase": storage, "boxStorageCoefExpr": coef,
         "boxStorageLiter": storage_litre, "geoName": geo, "warehouseName": name}
        for name, geo, base, litre, fbs_base, fbs_litre, storage, storage_litre, coef in _BOX_WAREHOUSES
    ]
    return json_response({"data": {
        "currency": "RUB",
        "dtNextBox": (today + timedelta(days=30)).isoformat(),
        "dtTillMax": (today + timedelta(days=90)).isoformat(),
        "warehouseList": rows,
    }})


# ---------------------------------------------------------------------------------------------

ROUTES = [
    Route("GET", "/ping", ping),
    Route("POST", "/content/v2/get/cards/list", cards_list),
    Route("POST", "/content/v2/cards/update", cards_update),
    Route("POST", "/content/v3/media/save", media_save),
    Route("GET", "/api/v2/list/goods/filter", goods_filter),
    Route("GET", "/api/v2/quarantine/goods", quarantine_goods),
    Route("POST", "/api/v2/upload/task", upload_task),
    Route("GET", "/api/v2/history/tasks", history_tasks),
    Route("GET", "/api/v2/history/goods/task", history_goods),
    Route("GET", "/api/v2/buffer/tasks", buffer_tasks),
    Route("GET", "/api/v3/warehouses", warehouses),
    Route("POST", "/api/v3/stocks/{warehouseId}", stocks_read),
    Route("PUT", "/api/v3/stocks/{warehouseId}", stocks_write),
    Route("POST", "/api/analytics/v1/stocks-report/wb-warehouses", wb_warehouse_stocks),
    Route("GET", "/api/v3/orders/new", fbs_new),
    Route("GET", "/api/v3/orders", fbs_orders),
    Route("POST", "/api/v3/orders/status", fbs_statuses),
    Route("GET", "/api/v3/dbs/orders/new", dbs_new),
    Route("GET", "/api/v3/dbs/orders", dbs_orders),
    Route("POST", "/api/marketplace/v3/dbs/orders/status/info", dbs_statuses),
    Route("GET", "/api/v1/supplier/orders", supplier_orders),
    Route("GET", "/api/v1/supplier/sales", supplier_sales),
    Route("GET", "/api/v1/claims", claims),
    Route("GET", "/api/v1/feedbacks", feedbacks),
    Route("POST", "/api/v1/feedbacks/answer", feedback_answer),
    Route("GET", "/api/v1/questions", questions),
    Route("PATCH", "/api/v1/questions", question_patch),
    Route("GET", "/api/v1/calendar/promotions", calendar_promotions),
    Route("GET", "/api/v1/calendar/promotions/details", calendar_details),
    Route("GET", "/api/v1/calendar/promotions/nomenclatures", calendar_nomenclatures),
    Route("POST", "/api/v1/calendar/promotions/upload", calendar_upload),
    Route("POST", "/api/finance/v1/sales-reports/detailed", sales_report),
    Route("GET", "/api/v1/tariffs/commission", tariffs_commission),
    Route("GET", "/api/v1/tariffs/box", tariffs_box),
]

# Every route answers its 4xx through the accounting above (a no-op outside CLIENT_ERROR_COST).
ROUTES = [Route(route.method, route.pattern, _charging_client_errors(route.handler)) for route in ROUTES]
