"""Advertising statistics per card, campaign and day, read by the `ads` sync stream.

Kept apart from the clients' Protocol, as fee rates are (integrations.fees): WB states them in its
promotion API (integrations.wildberries.ads), Ozon in the separate Performance API with its own
credentials (integrations.ozon.performance); Yandex Market's ads are not read (nothing is yielded).

The window: marketplaces revise the last days' statistics (late clicks, cancelled orders, WB's
hourly refresh), so every run re-reads REREAD_DAYS days up to today (Moscow), or more when the
stream's `since` lies further back (a first or full sync: its lookback). Stored rows of those
days are upserted on (account, day, campaign, card): a re-read that finds the same figures
changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from integrations.base import AdStatDTO, MarketplaceClient, Page

REREAD_DAYS = 7
MOSCOW = timedelta(hours=3)


def window(since: datetime | None, now: datetime) -> tuple[date, date]:
    """(first day, last day) to read: at least the last REREAD_DAYS days, or from `since`."""
    today = (now.astimezone(UTC) + MOSCOW).date()
    begin = today - timedelta(days=REREAD_DAYS - 1)
    if since is not None:
        begin = min(begin, (since.astimezone(UTC) + MOSCOW).date())
    return begin, today


def iter_ad_stats(client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None = None,
                  now: datetime | None = None) -> Iterator[Page[AdStatDTO]]:
    """Pages of the window's statistics; `now` (the wall clock by default) decides which day is today."""
    from integrations.ozon.client import OzonClient
    from integrations.ozon.performance import PerformanceClient
    from integrations.ozon.performance import iter_ad_stats as ozon_ads
    from integrations.wildberries.ads import iter_ad_stats as wb_ads
    from integrations.wildberries.client import WildberriesClient

    cursor = cursor or {}
    now = now or datetime.now(UTC)
    if cursor.get("begin") and cursor.get("end"):  # a resumed pass keeps its window
        begin, end = date.fromisoformat(cursor["begin"]), date.fromisoformat(cursor["end"])
    else:
        begin, end = window(since, now)
    bounds = {"begin": begin.isoformat(), "end": end.isoformat()}
    if isinstance(client, WildberriesClient):
        pages = wb_ads(client, begin, end, cursor)
    elif isinstance(client, OzonClient):
        # The seller client's clock and limiter, and its transport when one was injected (the
        # sandbox in tests); a real one is not shared (closing this client would close it).
        transport = getattr(client.http.http, "_transport", None)
        performance = PerformanceClient(
            client.config, transport=None if isinstance(transport, httpx.HTTPTransport) else transport,
            clock=client.http.clock, limiter=client.http.limiter, max_retries=client.http.max_retries,
        )
        pages = _closing(performance, ozon_ads(performance, begin, end, cursor))
    else:
        return iter(())
    # The run's time is its watermark: the next run starts from it (and re-reads the window anyway).
    return (Page(page.items, {**page.cursor, **bounds}, watermark=now, done=page.done) for page in pages)


def _closing(performance: Any, pages: Iterator[Page[AdStatDTO]]) -> Iterator[Page[AdStatDTO]]:
    try:
        yield from pages
    finally:
        performance.close()
