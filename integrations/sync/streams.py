"""What each pull stream reads from the adapter, where it is stored, and how often it runs.

Two kinds of stream:
- catalogue streams (warehouses, listings, prices, stocks, promotions) are a full pass over the
  marketplace's list, resumable mid-pass from the saved page cursor; a listings pass read from its
  first page to its last in one run flags the cards it no longer lists (Listing.missing_since);
- change streams (orders, returns, sales, reviews, questions, finance) read what changed since the saved
  watermark (minus an overlap, because marketplaces publish late), also resumable per page.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.ads import ingest_ad_stats
from analytics.ingest import ingest_finance, link_waiting_finance
from catalog.categories import categories_to_fetch, ingest_categories
from catalog.checks import check_all_listings, check_changed_listings
from catalog.ingest import ingest_listings, ingest_stocks, ingest_warehouses, mark_missing_listings
from catalog.services import attribute_text, image_urls
from core.bulk import UpsertCounts
from integrations import outbox
from integrations.ads import iter_ad_stats
from integrations.base import (
    ListingDTO,
    MarketplaceClient,
    OpenOrderRef,
    Page,
    PriceDTO,
    PromotionOfferDTO,
    QuestionDTO,
    ReviewDTO,
    StockDTO,
    Stream,
)
from integrations.fees import iter_fee_rates
from integrations.models import MarketplaceAccount, OutboxChange, SyncRun
from orders.ingest import ingest_orders, ingest_returns, ingest_sales, link_waiting_to_listings, open_orders
from pricing.ingest import ingest_fee_rates, ingest_prices, ingest_promotion_offers, ingest_promotions
from reviews.flags import refresh_account_flags
from reviews.ingest import ingest_questions, ingest_reviews, link_waiting_feedback_to_listings


@dataclass
class PageCounts:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0  # rows that could not be stored (e.g. a price of a listing not synced yet)
    extra: dict[str, int] = field(default_factory=dict)  # child rows: order lines, fee lines

    @classmethod
    def of(cls, fetched: int, counts: UpsertCounts, **extra: int) -> PageCounts:
        return cls(fetched, counts.created, counts.updated, counts.unchanged, counts.skipped, dict(extra))


Ingest = Callable[[int, Sequence[Any]], PageCounts]
# (outbox kind, {target key: value the marketplace now shows}) for outbox.confirm_from_readback.
Readback = Callable[[Sequence[Any]], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class StreamPage:
    items: Sequence[Any]
    cursor: dict[str, Any]  # resume point after this page, in the stream's own shape
    watermark: datetime | None
    ingest: Ingest
    readback: Readback | None = None


# (account id, client, since, saved cursor) -> pages
Reader = Callable[[int, MarketplaceClient, datetime | None, dict[str, Any] | None], Iterator[StreamPage]]


@dataclass(frozen=True)
class StreamDef:
    name: str
    interval_minutes: int  # default schedule; MarketplaceAccount.sync_intervals overrides it
    read: Reader
    changes: bool = False  # read by change time from a watermark
    lookback_days: int = 90  # how far back the first (or a full) read of a change stream goes
    # A catalogue stream that flags the rows a complete pass no longer lists: the key of an item,
    # and (account id, keys seen in the pass) -> rows newly flagged.
    item_key: Callable[[Any], str] | None = None
    mark_missing: Callable[[int, Collection[str]], int] | None = None
    # Set-based work after the run's last page, on the rows the run changed (account id -> extra
    # counts): derived data computed once, not per page over rows that did not change.
    after_run: Callable[[int], dict[str, int]] | None = None


# ---------------------------------------------------------------------------------------------
# Ingest adapters: DTO pages -> the owning app's bulk ingest -> counts


def _warehouses(account_id: int, items: Sequence[Any]) -> PageCounts:
    return PageCounts.of(len(items), ingest_warehouses(account_id, items))


def _listings(account_id: int, items: Sequence[Any]) -> PageCounts:
    counts = ingest_listings(account_id, items)
    # Streams run as independent tasks: orders, reviews and questions may have been stored
    # before these listings.
    link_waiting_to_listings(account_id, [item.offer_id for item in items])
    link_waiting_feedback_to_listings(account_id, items)
    # The listing rules run once after the run, on what changed (_check_listings).
    return PageCounts.of(len(items), counts)


def _check_listings(account_id: int) -> dict[str, int]:
    return {"checked": check_changed_listings(account_id)}


def _categories(account_id: int, items: Sequence[Any]) -> PageCounts:
    marketplace = MarketplaceAccount.objects.values_list("marketplace", flat=True).get(pk=account_id)
    created, updated = ingest_categories(marketplace, items)
    # New required characteristics change the checks of every card in these categories.
    checked = check_all_listings(account_id=account_id, category_ids=[c.external_id for c in items])
    return PageCounts(len(items), created, updated, extra={"checked": checked})


def _listing_key(item: ListingDTO) -> str:
    return item.external_id


def _prices(account_id: int, items: Sequence[Any]) -> PageCounts:
    return PageCounts.of(len(items), ingest_prices(account_id, items))


def _stocks(account_id: int, items: Sequence[Any]) -> PageCounts:
    return PageCounts.of(len(items), ingest_stocks(account_id, items))


def _orders(account_id: int, items: Sequence[Any]) -> PageCounts:
    result = ingest_orders(account_id, items)
    # The finance stream runs on its own: its rows may have been stored before their orders.
    link_waiting_finance(account_id, result.written)
    return PageCounts.of(
        len(items),
        result.orders,
        lines_created=result.lines.created,
        lines_updated=result.lines.updated,
        status_changes=result.status_changes,
        stale=result.stale,
    )


def _returns(account_id: int, items: Sequence[Any]) -> PageCounts:
    return PageCounts.of(len(items), ingest_returns(account_id, items))


def _sales(account_id: int, items: Sequence[Any]) -> PageCounts:
    result = ingest_sales(account_id, items)
    # Created: the returns it stored; updated: the orders it moved (and returns it changed).
    return PageCounts(
        fetched=len(items),
        created=result.returns.created,
        updated=result.orders.updated + result.returns.updated,
        unchanged=result.orders.unchanged,
        extra={"status_changes": result.status_changes, "unmatched": result.unmatched},
    )


def _reviews(account_id: int, items: Sequence[Any]) -> PageCounts:
    return PageCounts.of(len(items), ingest_reviews(account_id, items))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _flag_reviews(account_id: int) -> dict[str, int]:
    """After a reviews run: the flags of the reviews stored or changed after the latest change the
    last complete run took (kept in its progress as flags_through, microseconds since 1970; a
    failed run's rows are taken up by the next), or of all of them."""
    last = SyncRun.objects.filter(
        account_id=account_id, stream=Stream.REVIEWS, status=SyncRun.Status.SUCCEEDED,
        progress__has_key="flags_through",
    ).order_by("-started_at").values_list("progress__flags_through", flat=True).first()
    after = _EPOCH + timedelta(microseconds=int(last)) if last is not None else None
    changed, flags_changed, through = refresh_account_flags(account_id, after)
    extra = {"flag_checked": changed, "flags_changed": flags_changed}
    if through is not None:
        extra["flags_through"] = (through - _EPOCH) // timedelta(microseconds=1)
    return extra


def _questions(account_id: int, items: Sequence[Any]) -> PageCounts:
    return PageCounts.of(len(items), ingest_questions(account_id, items))


def _promotions(account_id: int, items: Sequence[Any]) -> PageCounts:
    return PageCounts.of(len(items), ingest_promotions(account_id, items))


def _finance(account_id: int, items: Sequence[Any]) -> PageCounts:
    result = ingest_finance(account_id, items)
    return PageCounts.of(len(items), result.operations, fees_created=result.fees.created)


def _ads(account_id: int, items: Sequence[Any]) -> PageCounts:
    return PageCounts.of(len(items), ingest_ad_stats(account_id, items))


def _fees(account_id: int, items: Sequence[Any]) -> PageCounts:
    return PageCounts.of(len(items), ingest_fee_rates(account_id, items))


# ---------------------------------------------------------------------------------------------
# Read-backs that confirm delivered outbox changes


def _readback_prices(items: Sequence[PriceDTO]) -> tuple[str, dict[str, Any]]:
    return OutboxChange.Kind.PRICE, {outbox.price_key(p.listing_external_id): p.price for p in items}


def _readback_stocks(items: Sequence[StockDTO]) -> tuple[str, dict[str, Any]]:
    # A stock push sets the sellable count; every platform reads back on-hand stock and the reserve.
    return OutboxChange.Kind.STOCK, {
        outbox.stock_key(s.listing_external_id, s.warehouse_external_id, s.variant_id): s.present - s.reserved
        for s in items
    }


def _readback_listings(items: Sequence[ListingDTO]) -> tuple[str, dict[str, Any]]:
    return OutboxChange.Kind.LISTING_CONTENT, {
        outbox.content_key(x.external_id): {
            "title": x.title,
            "description": x.description,
            # (id, name, value text) each: ids where the marketplace gives them (Ozon, WB), names (YM).
            "attributes": [
                [str(a.get("id") or ""), str(a.get("name") or ""), attribute_text(a)]
                for a in x.attributes if isinstance(a, dict)
            ],
            "images": image_urls(x.images),
        }
        for x in items
    }


def _readback_reviews(items: Sequence[ReviewDTO]) -> tuple[str, dict[str, Any]]:
    return OutboxChange.Kind.REVIEW_ANSWER, {r.external_id: r.answer_text for r in items if r.is_answered}


def _readback_questions(items: Sequence[QuestionDTO]) -> tuple[str, dict[str, Any]]:
    return OutboxChange.Kind.QUESTION_ANSWER, {q.external_id: q.answer_text for q in items if q.is_answered}


def _readback_offers(promotion_id: str) -> Readback:
    def readback(items: Sequence[PromotionOfferDTO]) -> tuple[str, dict[str, Any]]:
        return OutboxChange.Kind.PROMO_JOIN, {
            outbox.promotion_key(promotion_id, o.offer_key): o.status == "participating" for o in items
        }

    return readback


# ---------------------------------------------------------------------------------------------
# Readers


def _pages(
    pages: Iterator[Page[Any]], ingest: Ingest, readback: Readback | None = None
) -> Iterator[StreamPage]:
    for page in pages:
        yield StreamPage(page.items, {"page": page.cursor}, page.watermark, ingest, readback)


def _page_cursor(cursor: dict[str, Any] | None) -> dict[str, Any] | None:
    return (cursor or {}).get("page") or None


def _read_warehouses(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                     ) -> Iterator[StreamPage]:
    return _pages(client.iter_warehouses(), _warehouses)  # a handful of rows: always the whole list


def _read_listings(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                   ) -> Iterator[StreamPage]:
    return _pages(client.iter_listings(_page_cursor(cursor)), _listings, _readback_listings)


CATEGORIES_PER_PAGE = 20


def _read_categories(account_id: int, client: MarketplaceClient, since: datetime | None,
                     cursor: dict[str, Any] | None) -> Iterator[StreamPage]:
    """The dictionaries of the categories the account's cards use that are missing or a day old;
    a resumed run simply finds fewer of them stale. Listed here, not in the generator (the engine
    pulls pages on a prefetch thread)."""
    wanted = categories_to_fetch(account_id, client.marketplace)
    return _category_pages(client, wanted)


def _category_pages(client: MarketplaceClient, wanted: list[str]) -> Iterator[StreamPage]:
    for start in range(0, len(wanted), CATEGORIES_PER_PAGE):
        chunk = wanted[start:start + CATEGORIES_PER_PAGE]
        yield StreamPage(client.fetch_categories(chunk), {"done": start + len(chunk)}, None, _categories)


def _read_prices(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                 ) -> Iterator[StreamPage]:
    return _pages(client.iter_prices(_page_cursor(cursor)), _prices, _readback_prices)


def _read_stocks(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                 ) -> Iterator[StreamPage]:
    return _pages(client.iter_stocks(_page_cursor(cursor)), _stocks, _readback_stocks)


def _since(since: datetime | None) -> datetime:
    if since is None:
        raise ValueError("a change stream needs `since`")
    return since


def _read_orders(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                 ) -> Iterator[StreamPage]:
    """Orders changed since the watermark, then the stored orders not final yet that the change read
    may no longer cover (it reads a recent window on some platforms), followed whatever their age.
    The cursor says which part is in progress: {"page": …} or {"part": "open", "page": …}."""
    # Listed here, not in the generator: the engine pulls pages on a prefetch thread, whose own
    # database connection would not see this run's transaction.
    open_now = open_orders(account_id)
    return _order_pages(client, since, cursor or {}, open_now)


def _order_pages(client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any],
                 open_now: list[OpenOrderRef]) -> Iterator[StreamPage]:
    if cursor.get("part") != "open":
        yield from _pages(client.iter_orders(_since(since), _page_cursor(cursor)), _orders)
        cursor = {}
    if not open_now:
        return
    for page in client.iter_order_updates(open_now, _page_cursor(cursor)):
        # No watermark: these are old orders, and the change read's watermark must not move past them.
        yield StreamPage(page.items, {"part": "open", "page": page.cursor}, None, _orders)


def _read_returns(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                  ) -> Iterator[StreamPage]:
    return _pages(client.iter_returns(_since(since), _page_cursor(cursor)), _returns)


def _read_sales(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                ) -> Iterator[StreamPage]:
    """Buy-outs and returns from a sales report, its own stream: WB reports them only there (FBW
    orders have no other delivered/returned signal, FBS returns none at all), on a report that
    changes on its own schedule and limit (1 request a minute), and they touch orders and returns
    at once. Marketplaces that report delivery in their order statuses yield nothing here."""
    return _pages(client.iter_sales(_since(since), _page_cursor(cursor)), _sales)


def _read_reviews(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                  ) -> Iterator[StreamPage]:
    return _pages(client.iter_reviews(_since(since), _page_cursor(cursor)), _reviews, _readback_reviews)


def _read_questions(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                    ) -> Iterator[StreamPage]:
    return _pages(client.iter_questions(_since(since), _page_cursor(cursor)), _questions, _readback_questions)


def _read_finance(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                  ) -> Iterator[StreamPage]:
    return _pages(client.iter_finance(_since(since), _page_cursor(cursor)), _finance)


def _read_fees(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
               ) -> Iterator[StreamPage]:
    return _pages(iter_fee_rates(client, _page_cursor(cursor)), _fees)


def _read_ads(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
              ) -> Iterator[StreamPage]:
    """Ad statistics per card and day of a window of recent days (integrations.ads): re-read every
    run, since the marketplaces revise them; `since` only widens it (a first or full sync)."""
    return _pages(iter_ad_stats(client, since, _page_cursor(cursor)), _ads)


def _read_promotions(account_id: int, client: MarketplaceClient, since: datetime | None, cursor: dict[str, Any] | None
                     ) -> Iterator[StreamPage]:
    """Promotions first (a short list, re-read on resume), then each one's offers, resumable per
    promotion and page: the cursor is {"promotion": id, "page": offers cursor, "done": [ids]}."""
    cursor = cursor or {}
    done: list[str] = list(cursor.get("done", []))
    resume_promotion, resume_page = cursor.get("promotion"), cursor.get("page")
    promotion_ids: list[str] = []
    for page in client.iter_promotions():
        promotion_ids.extend(p.external_id for p in page.items)
        # Keep the saved position while the list is re-read.
        yield StreamPage(page.items, {"done": done, "promotion": resume_promotion, "page": resume_page}, None,
                         _promotions)
    for promotion_id in promotion_ids:
        if promotion_id in done:
            continue
        offers_cursor = resume_page if promotion_id == resume_promotion else None

        def ingest(account_id: int, items: Sequence[Any], promotion_id: str = promotion_id) -> PageCounts:
            return PageCounts.of(len(items), ingest_promotion_offers(account_id, promotion_id, items))

        for offers in client.iter_promotion_offers(promotion_id, offers_cursor or None):
            next_cursor = {"done": done, "promotion": promotion_id, "page": offers.cursor}
            yield StreamPage(offers.items, next_cursor, None, ingest, _readback_offers(promotion_id))
        done = [*done, promotion_id]
        yield StreamPage([], {"done": done, "promotion": None}, None, _promotions)


STREAMS: dict[str, StreamDef] = {
    s.name: s
    for s in [
        StreamDef(Stream.WAREHOUSES, 24 * 60, _read_warehouses),
        StreamDef(Stream.LISTINGS, 60, _read_listings, item_key=_listing_key, mark_missing=mark_missing_listings,
                  after_run=_check_listings),
        # Category dictionaries of the categories the listings use, for the listing checks.
        StreamDef(Stream.CATEGORIES, 24 * 60, _read_categories),
        StreamDef(Stream.PRICES, 60, _read_prices),
        StreamDef(Stream.STOCKS, 30, _read_stocks),
        # Every minute (beat's tick): an FBS order must reach the packers within ~90 s of being
        # placed (benchmarks/freshness.py), and a run with nothing new is a few cheap list calls.
        StreamDef(Stream.ORDERS, 1, _read_orders, changes=True, lookback_days=90),
        StreamDef(Stream.RETURNS, 30, _read_returns, changes=True, lookback_days=90),
        # After orders, so a full sync finds the orders its rows move.
        StreamDef(Stream.SALES, 30, _read_sales, changes=True, lookback_days=90),
        StreamDef(Stream.REVIEWS, 15, _read_reviews, changes=True, lookback_days=365, after_run=_flag_reviews),
        StreamDef(Stream.QUESTIONS, 15, _read_questions, changes=True, lookback_days=365),
        StreamDef(Stream.PROMOTIONS, 6 * 60, _read_promotions),
        StreamDef(Stream.FINANCE, 24 * 60, _read_finance, changes=True, lookback_days=90),
        # Tariffs change rarely and with notice; the set in effect is kept per day it was read.
        StreamDef(Stream.FEES, 24 * 60, _read_fees),
        # Every 6 h: Ozon's product statistics reach back to yesterday only, so yesterday's final
        # figures are read on the day after; WB's re-read covers the last week.
        StreamDef(Stream.ADS, 6 * 60, _read_ads, changes=True, lookback_days=30),
    ]
}

# The order a full account sync runs in: warehouses and listings first, so stocks, prices, order
# lines, reviews and promotion offers find the listings they belong to.
STREAM_ORDER: tuple[str, ...] = tuple(STREAMS)


def interval_minutes(stream: str, overrides: dict[str, Any] | None) -> int:
    """The account's interval for a stream: its admin-set override, else the default."""
    value = (overrides or {}).get(stream)
    try:
        return max(1, int(value)) if value is not None else STREAMS[stream].interval_minutes
    except (TypeError, ValueError):
        return STREAMS[stream].interval_minutes
