"""The Ozon Performance API (advertising) in the sandbox, under the Ozon prefix beside the Seller API
(its paths, /api/client/…, are its own). See integrations/specs/ozon/performance.json:

- POST /api/client/token {client_id, client_secret, grant_type: client_credentials} → a bearer token
  valid 30 minutes of the sandbox's clock; other credentials get 401 {"error": …}.
- GET /api/client/campaign[?advObjectType=SKU]: the seller's campaigns (three pay-per-click ones
  over every fourth product, and one pay-per-order one).
- POST /api/client/statistics/products/sku {campaignIds, dateFrom, dateTo}: per product and day of
  the pay-per-click campaigns asked for: views, clicks, orders, expense and sales (strings, roubles).
  `dateFrom` earlier than yesterday (Moscow) is refused with 400, as the method's description says.

A product's figures on a day are a function of (seed, campaign, sku, day); today's grow with the
hours gone, so a re-read finds them revised.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from integrations.sandbox import credentials
from integrations.sandbox.app import Route, SandboxRequest, json_response
from integrations.sandbox.ozon_ids import SKU_BASE
from integrations.sandbox.world import SandboxWorld

MOSCOW = timezone(timedelta(hours=3))
CAMPAIGN_BASE = 17_000_000
TOKEN_LIFE = timedelta(minutes=30)
CENT = Decimal("0.01")
PRODUCTS_PER_CAMPAIGN = 100


@dataclass
class PerformanceState:
    tokens: dict[str, datetime] = field(default_factory=dict)  # token -> valid until (sandbox clock)


@dataclass(frozen=True)
class Campaign:
    id: int
    title: str
    state: str
    adv_object_type: str
    payment_type: str
    started: date
    indexes: tuple[int, ...]  # catalogue items it advertises


def _state(world: SandboxWorld) -> PerformanceState:
    return world.state("ozon_performance", lambda _world: PerformanceState())  # type: ignore[no-any-return]


def _error(status: int, message: str) -> httpx.Response:
    return json_response({"error": message}, status)


def authenticate(world: SandboxWorld, request: SandboxRequest) -> httpx.Response | None:
    """The token method takes the client credentials in its body; the others a live bearer token."""
    if request.path == "/api/client/token":
        return None
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    with world.lock:
        until = _state(world).tokens.get(token)
    if until is None:
        return _error(401, "unauthorized: invalid token")
    if until <= world.now:
        return _error(401, "unauthorized: token is expired")
    return None


def campaigns(world: SandboxWorld) -> list[Campaign]:
    start = world.config.start.astimezone(MOSCOW).date()
    plans = [
        ("Трафареты: весь каталог", "CAMPAIGN_STATE_RUNNING", "SKU", "CPC", 60),
        ("Продвижение в поиске", "CAMPAIGN_STATE_RUNNING", "SKU", "CPC", 30),
        ("Распродажа: остатки", "CAMPAIGN_STATE_INACTIVE", "SKU", "CPC", 90),
    ]
    # Every fourth product, up to PRODUCTS_PER_CAMPAIGN in each campaign (a big world's campaigns stay small).
    advertised = [item.index for item in world.catalog if item.index % 4 == 1][: PRODUCTS_PER_CAMPAIGN * len(plans)]
    result = [
        Campaign(CAMPAIGN_BASE + k, title, state, kind, payment, start - timedelta(days=days),
                 tuple(i for i in advertised if (i // 4) % len(plans) == k))
        for k, (title, state, kind, payment, days) in enumerate(plans)
    ]
    result.append(Campaign(CAMPAIGN_BASE + len(plans), "Оплата за заказ", "CAMPAIGN_STATE_RUNNING", "SEARCH_PROMO",
                           "CPO", start - timedelta(days=20), ()))
    return result


def token(world: SandboxWorld, state: Any, request: SandboxRequest) -> httpx.Response:
    try:
        body = request.json() or {}
    except ValueError:
        body = {}
    if (body.get("client_id") != credentials.OZON_PERFORMANCE_CLIENT_ID
            or body.get("client_secret") != credentials.OZON_PERFORMANCE_CLIENT_SECRET
            or body.get("grant_type") != "client_credentials"):
        return _error(401, "invalid client credentials")
    performance = _state(world)
    number = len(performance.tokens) + 1
    seed = f"{world.config.seed}:{number}:{world.now.isoformat()}".encode()
    value = hashlib.blake2b(seed, digest_size=16).hexdigest()
    performance.tokens[value] = world.now + TOKEN_LIFE
    return json_response({"access_token": value, "expires_in": int(TOKEN_LIFE.total_seconds()), "token_type": "Bearer"})


def campaign_list(world: SandboxWorld, state: Any, request: SandboxRequest) -> httpx.Response:
    kind = request.arg("advObjectType") or ""
    wanted = set(request.args("campaignIds"))
    items = [
        {"id": str(c.id), "title": c.title, "state": c.state, "advObjectType": c.adv_object_type,
         "paymentType": c.payment_type, "fromDate": c.started.isoformat(), "toDate": "",
         "placement": ["PLACEMENT_SEARCH_AND_CATEGORY"], "budget": "0", "weeklyBudget": "0",
         "createdAt": f"{c.started.isoformat()}T06:00:00Z", "updatedAt": f"{c.started.isoformat()}T06:00:00Z",
         "productAutopilotStrategy": "NO_AUTO_STRATEGY", "productCampaignMode": "PRODUCT_CAMPAIGN_MODE_AUTO"}
        for c in campaigns(world)
        if (not kind or c.adv_object_type == kind) and (not wanted or str(c.id) in wanted)
    ]
    return json_response({"list": items})


def product_day(world: SandboxWorld, campaign: Campaign, index: int, day: date) -> dict[str, Any] | None:
    today = world.now.astimezone(MOSCOW).date()
    if campaign.adv_object_type != "SKU" or day < campaign.started or day > today:
        return None
    if campaign.state != "CAMPAIGN_STATE_RUNNING":
        return None  # stopped by its owner before the days that can be asked for
    rng = world.rng("ozon", "adv", campaign.id, index, day.toordinal())
    views = rng.randrange(100, 3000)
    if day == today:
        moment = world.now.astimezone(MOSCOW)
        views = views * (moment.hour * 60 + moment.minute) // (24 * 60)
    clicks = views * rng.randrange(10, 80) // 1000
    cpc = Decimal(rng.randrange(400, 3000)) / 100
    expense = (cpc * clicks).quantize(CENT, ROUND_HALF_UP)
    orders = clicks * rng.randrange(0, 10) // 100
    price = world.catalog[index].base_price
    return {"views": views, "clicks": clicks, "orders": orders, "expense": expense, "price": price,
            "sales": price * orders, "avgCpc": (expense / clicks).quantize(CENT) if clicks else Decimal(0)}


def product_stats(world: SandboxWorld, state: Any, request: SandboxRequest) -> httpx.Response:
    try:
        body = request.json() or {}
        begin = date.fromisoformat(str(body.get("dateFrom", "")))
        end = date.fromisoformat(str(body.get("dateTo", "")))
        ids = [int(x) for x in body.get("campaignIds") or []]
    except (ValueError, TypeError):
        return _error(400, "invalid request: campaignIds, dateFrom and dateTo (YYYY-MM-DD) are required")
    today = world.now.astimezone(MOSCOW).date()
    if begin < today - timedelta(days=1):
        return _error(400, "invalid request: dateFrom must not be earlier than yesterday")
    if end < begin:
        return _error(400, "invalid request: dateTo is earlier than dateFrom")
    by_id = {c.id: c for c in campaigns(world)}
    rows = []
    for campaign_id in ids:
        campaign = by_id.get(campaign_id)
        if campaign is None:
            continue
        day = begin
        while day <= end:
            for index in campaign.indexes:
                f = product_day(world, campaign, index, day)
                if f is None:
                    continue
                rows.append({
                    "campaignId": str(campaign.id), "date": day.isoformat(), "sku": str(SKU_BASE + index),
                    "views": str(f["views"]), "clicks": str(f["clicks"]), "orders": str(f["orders"]),
                    "modelOrders": str(f["orders"]), "toCart": str(f["clicks"] // 4),
                    "expense": str(f["expense"]), "sales": str(f["sales"]), "modelSales": str(f["sales"]),
                    "price": str(f["price"]), "avgCpc": str(f["avgCpc"]),
                    "ctr": round(f["clicks"] * 100 / f["views"], 2) if f["views"] else 0,
                    "drr": float((f["expense"] * 100 / f["sales"]).quantize(CENT)) if f["sales"] else 0,
                    "dateAdded": f"{campaign.started.isoformat()}T06:00:00Z",
                })
            day += timedelta(days=1)
    return json_response({"rows": rows})


ROUTES = [
    Route("POST", "/api/client/token", token),
    Route("GET", "/api/client/campaign", campaign_list),
    Route("POST", "/api/client/statistics/products/sku", product_stats),
]
