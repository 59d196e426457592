"""Wildberries advertising campaigns and their statistics in the sandbox (08-promotion.yaml):

- GET /adv/v1/promotion/count: the seller's campaigns grouped by type and status, with their last
  change time.
- GET /adv/v3/fullstats?ids&beginDate&endDate: per campaign, per day, per platform (appType 1, 32,
  64) and per card (nmId): views, clicks, orders, `sum` spent and `sum_price` ordered, with the
  day, platform and campaign totals the schema requires. At most 50 ids and 31 days (400 with the
  spec's FullStatsError otherwise); only campaigns in status 7, 9 and 11 have statistics.

Campaigns are a pure function of the catalogue: every third card is advertised, spread over four
campaigns (active, paused three days ago, finished forty days ago, ready but never started). A
card's figures on a day are a function of (seed, campaign, card, day); today's grow with the hours
gone (so a re-read later in the day finds them revised, as WB's are).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from integrations.sandbox import wildberries as wb
from integrations.sandbox.app import Route, SandboxRequest, json_response
from integrations.sandbox.world import SandboxWorld

ADVERT_BASE = 30_000_000
MAX_IDS = 50
MAX_DAYS = 31
APP_SHARES = ((1, 2), (32, 5), (64, 3))  # platform, tenths of a card's figures
CENT = Decimal("0.01")
CARDS_PER_CAMPAIGN = 50


@dataclass(frozen=True)
class Campaign:
    id: int
    status: int  # 4 ready, 7 finished, 9 active, 11 paused
    name: str
    started: date
    stopped: date | None  # last day with statistics (None: still running)
    changed: datetime
    nm_ids: tuple[int, ...]


def campaigns(world: SandboxWorld, state: wb.WBState) -> list[Campaign]:
    today = (world.now.astimezone(wb.MOSCOW)).date()
    start = world.config.start.astimezone(wb.MOSCOW).date()
    plans = [
        (9, "Поиск: хиты продаж", start - timedelta(days=60), None),
        (11, "Каталог: новинки", start - timedelta(days=45), today - timedelta(days=3)),
        (7, "Осенняя распродажа", start - timedelta(days=90), start - timedelta(days=40)),
        (4, "Новогодняя кампания", start + timedelta(days=30), None),
    ]
    # Every third card, up to CARDS_PER_CAMPAIGN in each campaign (a big world's campaigns stay small).
    advertised = [c for c in state.cards if c.index % 3 == 0][: CARDS_PER_CAMPAIGN * len(plans)]
    result = []
    for k, (status, name, started, stopped) in enumerate(plans):
        nm_ids = tuple(c.nm_id for c in advertised if (c.index // 3) % len(plans) == k)
        moment = datetime.combine(stopped or started, datetime.min.time(), wb.MOSCOW) + timedelta(hours=12)
        result.append(Campaign(ADVERT_BASE + k, status, name, started, stopped, moment, nm_ids))
    return result


def promotion_count(world: SandboxWorld, state: wb.WBState, request: SandboxRequest) -> httpx.Response:
    groups: dict[int, list[Campaign]] = {}
    for campaign in campaigns(world, state):
        groups.setdefault(campaign.status, []).append(campaign)
    adverts = [
        {"type": 9, "status": status, "count": len(items),
         "advert_list": [{"advertId": c.id, "changeTime": c.changed.isoformat()} for c in items]}
        for status, items in sorted(groups.items())
    ]
    return json_response({"adverts": adverts, "all": sum(len(items) for items in groups.values())})


def _bad(detail: str) -> httpx.Response:
    return json_response({"detail": detail, "origin": "camp-api-public-cache", "request_id": "sandbox",
                          "status": 400, "title": "invalid payload"}, 400)


def card_day(world: SandboxWorld, state: wb.WBState, campaign: Campaign, nm_id: int, day: date
             ) -> dict[str, Any] | None:
    """The card's figures in the campaign on the day (None: no statistics that day)."""
    today = world.now.astimezone(wb.MOSCOW).date()
    if campaign.status == 4 or day < campaign.started or day > today:
        return None
    if campaign.stopped is not None and day > campaign.stopped:
        return None
    rng = world.rng(wb.MP, "adv", campaign.id, nm_id, day.toordinal())
    views = rng.randrange(80, 2500)
    if day == today:  # the day so far
        moment = world.now.astimezone(wb.MOSCOW)
        views = views * (moment.hour * 60 + moment.minute) // (24 * 60)
    clicks = views * rng.randrange(10, 90) // 1000
    cpc = Decimal(rng.randrange(300, 2500)) / 100
    spend = (cpc * clicks).quantize(CENT, ROUND_HALF_UP)
    orders = clicks * rng.randrange(0, 12) // 100
    list_price, discount = state.prices[nm_id]
    price = (Decimal(list_price) * (100 - discount) / 100).quantize(CENT, ROUND_HALF_UP)
    return {"views": views, "clicks": clicks, "orders": orders, "spend": spend, "sum_price": price * orders}


def _split(total: Decimal | int, tenths: int, last: bool, taken: Decimal | int) -> Any:
    if last:
        return total - taken
    if isinstance(total, Decimal):
        return (total * tenths / 10).quantize(CENT, ROUND_HALF_UP)
    return total * tenths // 10


def _block(views: int, clicks: int, orders: int, spend: Decimal, sum_price: Decimal) -> dict[str, Any]:
    return {
        "views": views, "clicks": clicks, "orders": orders, "sum": spend, "sum_price": sum_price,
        "atbs": clicks // 5, "canceled": 0, "shks": orders,
        "ctr": round(clicks * 100 / views, 2) if views else 0,
        "cpc": float((spend / clicks).quantize(CENT)) if clicks else 0,
        "cr": round(orders * 100 / clicks, 2) if clicks else 0,
    }


def _sum(blocks: list[dict[str, Any]]) -> tuple[int, int, int, Decimal, Decimal]:
    return (sum(b["views"] for b in blocks), sum(b["clicks"] for b in blocks), sum(b["orders"] for b in blocks),
            sum((b["sum"] for b in blocks), Decimal(0)), sum((b["sum_price"] for b in blocks), Decimal(0)))


def fullstats(world: SandboxWorld, state: wb.WBState, request: SandboxRequest) -> httpx.Response:
    try:
        ids = [int(x) for x in (request.arg("ids") or "").split(",") if x.strip()]
        begin = date.fromisoformat(request.arg("beginDate") or "")
        end = date.fromisoformat(request.arg("endDate") or "")
    except ValueError:
        return _bad("invalid ids")
    if not ids or len(ids) > MAX_IDS:
        return _bad("invalid ids")
    if end < begin or (end - begin).days + 1 > MAX_DAYS:
        return json_response({"errors": [{"detail": "max date range 31 days", "field": "begin and end"}],
                              "origin": "camp-api-public-cache", "request_id": "sandbox", "status": 400,
                              "title": "Invalid payload", "type": "bad request"}, 400)
    by_id = {c.id: c for c in campaigns(world, state) if c.status in (7, 9, 11)}
    answer = []
    for advert_id in ids:
        campaign = by_id.get(advert_id)
        if campaign is None:
            continue
        days = []
        day = begin
        while day <= end:
            apps = []
            found = {nm: card_day(world, state, campaign, nm, day) for nm in campaign.nm_ids}
            figures = {nm: f for nm, f in found.items() if f is not None}
            if figures:
                taken: dict[int, dict[str, Any]] = {nm: {"views": 0, "clicks": 0, "orders": 0, "spend": Decimal(0),
                                                           "sum_price": Decimal(0)} for nm in figures}
                for n, (app_type, tenths) in enumerate(APP_SHARES):
                    last = n == len(APP_SHARES) - 1
                    nms = []
                    for nm, f in figures.items():
                        part = {key: _split(f[key], tenths, last, taken[nm][key]) for key in f}
                        for key in f:
                            taken[nm][key] += part[key]
                        block = _block(part["views"], part["clicks"], part["orders"], part["spend"], part["sum_price"])
                        nms.append({**block, "nmId": nm, "name": state.by_nm[nm].title})
                    apps.append({**_block(*_sum(nms)), "appType": app_type, "nms": nms})
                days.append({**_block(*_sum(apps)), "date": f"{day.isoformat()}T00:00:00Z", "apps": apps})
            day += timedelta(days=1)
        answer.append({**_block(*_sum(days)), "advertId": advert_id, "days": days, "currency": "RUB",
                       "boosterStats": []})
    return json_response(answer)


ROUTES = [
    Route("GET", "/adv/v1/promotion/count", promotion_count),
    Route("GET", "/adv/v3/fullstats", fullstats),
]
