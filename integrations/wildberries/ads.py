"""Wildberries advertising statistics per card and day (08-promotion.yaml, advert-api):

- GET /adv/v1/promotion/count: every campaign id of the seller, grouped by type and status, with
  its last change time (limit: 5 a second, burst 5; Basic token 4 an hour).
- GET /adv/v3/fullstats?ids&beginDate&endDate: statistics of up to 50 campaigns over at most 31
  days, per day, per platform (site, Android, iOS) and per card (nmId): `sum` spent, `views`,
  `clicks`, `orders`, `sum_price` (orders' value), in the account's currency. Only campaigns in
  status 7 (finished), 9 (active) and 11 (paused) have statistics. Limit: 3 a minute, burst 1
  (Basic token: 1 an hour), so the campaigns are asked for 50 at a time.

A card's figures are summed over the platforms: one AdStatDTO per (day, campaign, nmId). WB revises
recent days, so the ads stream re-reads a window of days each run (integrations.ads).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import Field

from integrations.base import AdStatDTO, Page
from integrations.payloads import payload
from integrations.wildberries import limits
from integrations.wildberries.limits import Bucket, Host

if TYPE_CHECKING:
    from integrations.wildberries.client import WildberriesClient

# Campaign statuses with statistics (fullstats: "Для кампаний в статусах 7, 9 и 11").
STATS_STATUSES = {7, 9, 11}
FINISHED = 7
CENT = Decimal("0.01")


@payload
class AdvertRef:  # adverts[].advert_list[]
    advertId: int
    changeTime: datetime | None = None


@payload
class AdvertGroup:  # adverts[]
    type: int | None = None
    status: int | None = None
    count: int = 0
    advert_list: list[AdvertRef] = Field(default_factory=list)


@payload
class PromotionCount:
    adverts: list[AdvertGroup] | None = None
    all: int = 0


@payload
class NmStats:  # DaysV3.apps[].nms[]
    nmId: int
    name: str = ""
    views: int = 0
    clicks: int = 0
    orders: int = 0
    sum: Decimal = Decimal(0)
    sum_price: Decimal = Decimal(0)


@payload
class AppStats:  # DaysV3.apps[]
    appType: int | None = None
    nms: list[NmStats] = Field(default_factory=list)


@payload
class DayStats:  # DaysV3[]
    date: str
    apps: list[AppStats] | None = None


@payload
class FullStatsItem:  # FullStatsItem
    advertId: int
    days: list[DayStats] | None = None
    currency: str = "RUB"


def campaigns_with_stats(client: WildberriesClient, begin: date) -> list[int]:
    """Ids of the campaigns that can have statistics on or after `begin`, ascending: active and
    paused ones, and finished ones changed since then."""
    answer = client._fetch(PromotionCount, "advert campaigns", "GET", Host.ADVERT, "/adv/v1/promotion/count",
                           Bucket.ADVERT_LIST)
    ids: set[int] = set()
    for group in answer.adverts or []:
        if group.status not in STATS_STATUSES:
            continue
        for ref in group.advert_list:
            changed = ref.changeTime.date() if ref.changeTime else None
            if group.status == FINISHED and changed is not None and changed < begin:
                continue  # finished before the window: nothing to read
            ids.add(ref.advertId)
    return sorted(ids)


def stat_items(rows: list[FullStatsItem]) -> list[AdStatDTO]:
    """One DTO per (day, campaign, card), the platforms summed; money to kopecks."""
    totals: dict[tuple[str, int, int], list[Any]] = defaultdict(lambda: [0, 0, 0, Decimal(0), Decimal(0), "", ""])
    for item in rows:
        for day in item.days or []:
            for app in day.apps or []:
                for nm in app.nms:
                    entry = totals[(day.date[:10], item.advertId, nm.nmId)]
                    entry[0] += nm.views
                    entry[1] += nm.clicks
                    entry[2] += nm.orders
                    entry[3] += nm.sum
                    entry[4] += nm.sum_price
                    entry[5] = item.currency or "RUB"
    return [
        AdStatDTO(
            day=date.fromisoformat(day), campaign_id=str(advert_id), item_ref=str(nm_id),
            spend=Decimal(spend).quantize(CENT), views=views, clicks=clicks, orders=orders,
            ordered_amount=Decimal(amount).quantize(CENT), currency=currency,
        )
        for (day, advert_id, nm_id), (views, clicks, orders, spend, amount, currency, _) in sorted(totals.items())
    ]


def _windows(begin: date, end: date) -> list[tuple[date, date]]:
    windows = []
    start = begin
    while start <= end:
        stop = min(end, start + timedelta(days=limits.MAX_ADVERT_DAYS - 1))
        windows.append((start, stop))
        start = stop + timedelta(days=1)
    return windows


def iter_ad_stats(client: WildberriesClient, begin: date, end: date, cursor: dict[str, Any] | None = None
                  ) -> Iterator[Page[AdStatDTO]]:
    """Pages of one fullstats answer each (50 campaigns × up to 31 days). Cursor: {"done": n}, the
    requests already stored; the campaign list is read again on resume (one cheap call)."""
    done = int((cursor or {}).get("done", 0))
    ids = campaigns_with_stats(client, begin)
    requests = [
        (ids[i:i + limits.MAX_ADVERT_IDS], window)
        for window in _windows(begin, end)
        for i in range(0, len(ids), limits.MAX_ADVERT_IDS)
    ]
    if not requests:
        yield Page([], {"done": 0}, done=True)
        return
    for number, (chunk, (start, stop)) in enumerate(requests):
        if number < done:
            continue
        params = {"ids": ",".join(map(str, chunk)), "beginDate": start.isoformat(), "endDate": stop.isoformat()}
        rows = client._fetch_list(FullStatsItem, "advert statistics", "GET", Host.ADVERT, "/adv/v3/fullstats",
                                  Bucket.ADVERT_STATS, params=params)
        yield Page(stat_items(rows), {"done": number + 1}, done=number + 1 == len(requests))
