"""The Yandex Market adapter: MarketplaceClient over the Partner API (spec yandex-market/openapi, 2026-07).

Each method names the operation it implements (file in openapi/paths/). With `config.base_url`
every request goes to base_url + the official path (sandbox, proxy). Auth: header `Api-Key`.

Ids: `businessId` (the cabinet: catalogue, prices, orders list, feedback, questions, promos) and
`campaignId` (one store per placement model: stocks, returns, order stats). Campaigns come from
`config.campaign_ids`, else from GET /v2/campaigns (filtered to the business).

Stock writes: StockUpdate.warehouse_external_id names a warehouse; the update goes to the campaign
that owns it (POST /v2/businesses/{businessId}/warehouses gives each seller warehouse's campaignId).
A campaign id is accepted as well. FBY (Market) warehouses are refused per item: Market owns that stock.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from integrations.base import (
    AccountConfig,
    AuthError,
    CategoryDTO,
    ContentUpdate,
    FinanceOperationDTO,
    ListingDTO,
    MarketplaceError,
    NotAvailableError,
    OpenOrderRef,
    OrderDTO,
    Page,
    PermanentError,
    PriceDTO,
    PriceUpdate,
    PromotionDTO,
    PromotionItem,
    PromotionOfferDTO,
    QuarantinedPriceDTO,
    QuestionDTO,
    RateLimitedError,
    ReturnDTO,
    ReviewDTO,
    SaleDTO,
    StockDTO,
    StockUpdate,
    TransientError,
    WarehouseDTO,
    WriteResult,
    WriteStatus,
)
from integrations.http import HttpCore, check_json, describe_validation
from integrations.limiter import Clock, Limiter
from integrations.payloads import parse_json, parse_python
from integrations.yandex_market import categories, limits, mapping
from integrations.yandex_market import schemas as s
from integrations.yandex_market.limits import Bucket

logger = logging.getLogger(__name__)

M = TypeVar("M")
T = TypeVar("T")

PRODUCTION_URL = "https://api.partner.market.yandex.ru"
REJECT_REASONS = {
    "OFFER_DOES_NOT_EXIST": "the offer is not in the catalogue",
    "OFFER_DUPLICATION": "the offer is listed twice in the request",
    "OFFER_NOT_ELIGIBLE_FOR_PROMO": "the offer does not meet the promo's conditions",
    "EMPTY_OLD_PRICE": "no crossed-out price",
    "EMPTY_PROMO_PRICE": "no promo price",
    "MAX_PROMO_PRICE_EXCEEDED": "the promo price is above the maximum allowed",
    "PROMO_PRICE_BIGGER_THAN_MAX": "the promo price is above the maximum allowed",
    "PROMO_PRICE_SMALLER_THAN_MIN": "the promo price is below the minimum allowed",
    "PRICE_TOO_BIG": "the price is too big",
    "OLD_PRICE_TOO_BIG": "the crossed-out price is too big",
}


class YMRequestError(PermanentError):
    """A refused request, with the body's errors (per-offer problems arrive as 400 for a batch)."""

    def __init__(self, message: str, *, status: int | None = None, errors: Sequence[s.ApiError] = ()) -> None:
        super().__init__(message, status=status, code=errors[0].code if errors else "")
        self.errors = list(errors)


class YandexMarketClient:
    marketplace = "yandex_market"

    # Page sizes: the spec maxima, overridable per instance (tests use small pages).
    campaigns_page_size = limits.CAMPAIGNS_PAGE
    warehouses_page_size = limits.WAREHOUSES_PAGE
    listings_page_size = limits.OFFER_MAPPINGS_PAGE
    prices_page_size = limits.OFFER_PRICES_PAGE
    stocks_page_size = limits.STOCKS_PAGE
    orders_page_size = limits.ORDERS_PAGE
    returns_page_size = limits.RETURNS_PAGE
    reviews_page_size = limits.FEEDBACK_PAGE
    questions_page_size = limits.QUESTIONS_PAGE
    promo_offers_page_size = limits.PROMO_OFFERS_PAGE
    finance_page_size = limits.STATS_ORDERS_PAGE
    price_batch_size = limits.PRICE_UPDATES_BATCH
    stock_batch_size = limits.STOCK_UPDATES_BATCH
    content_batch_size = limits.MAPPING_UPDATES_BATCH
    promo_batch_size = limits.PROMO_UPDATES_BATCH
    # The widest date range each filter accepts.
    orders_window = timedelta(days=30)
    reviews_window = timedelta(days=180)
    questions_window = timedelta(days=30)
    # A first read never goes further back than this (the API keeps no older order changes anyway).
    max_lookback = timedelta(days=730)

    def __init__(
        self,
        config: AccountConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        limiter: Limiter | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.config = config
        self.access: list[str] = []
        self._api_key = config.secrets.get("api_key", "")
        self.http = HttpCore(
            config, classify=self._classify, transport=transport, clock=clock, limiter=limiter, max_retries=max_retries
        )
        self._account_key = f"{self.marketplace}:{config.account_id or config.name}"
        self._base_url = (config.base_url or PRODUCTION_URL).rstrip("/")
        self._campaigns: list[s.Campaign] | None = None
        self._business_id = str(config.business_id or "")
        self._seller_warehouses: list[s.BusinessWarehouse] | None = None
        self._fby_warehouses: dict[int, list[s.FulfillmentWarehouse]] | None = None
        self._server_now: datetime | None = None

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------------------------------
    # HTTP plumbing

    def _call(
        self,
        method: str,
        path: str,
        bucket: Bucket,
        *,
        scope: str | None,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        """`scope` ("business:1" / "campaign:2") shares YM's 4-parallel-requests cap."""
        _, response = self._exchange(method, path, bucket, scope, params, body, check_json)
        return response

    def _call_parsed(
        self,
        model: type[M],
        operation: str,
        method: str,
        path: str,
        bucket: Bucket,
        *,
        scope: str | None,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> M:
        """_call() with the body parsed and validated into `model` in one pass (JSON numbers reach
        Decimal fields exactly); a body cut off in transit is retried like a 5xx."""
        try:
            value, _ = self._exchange(
                method, path, bucket, scope, params, body, lambda content: parse_json(model, content or b"null")
            )
        except ValidationError as exc:
            raise self._shape_error(operation, exc) from None
        return value

    def _exchange(
        self,
        method: str,
        path: str,
        bucket: Bucket,
        scope: str | None,
        params: Mapping[str, Any] | None,
        body: Any,
        decode: Callable[[bytes], T],
    ) -> tuple[T, httpx.Response]:
        with self._parallel_slot(scope):
            value, response = self.http.request_json(
                method,
                self._base_url + path,
                decode=decode,
                limit_key=f"{self._account_key}:{bucket.value}",
                rule=limits.RULES[bucket],
                headers={"Api-Key": self._api_key},
                params={k: v for k, v in (params or {}).items() if v is not None},
                json_body=body,
            )
        self._note_server_time(response)
        return value, response

    def _parallel_slot(self, scope: str | None) -> AbstractContextManager[Any]:
        if not scope or not self.http.limits_enabled:
            return nullcontext()
        key = f"{self._account_key}:parallel:{scope}"
        slot: AbstractContextManager[Any] = self.http.limiter.slot(key, limits.PARALLEL_RULE, self.http.clock)
        return slot

    @staticmethod
    def _shape_error(operation: str, exc: ValidationError) -> PermanentError:
        return PermanentError(f"Yandex Market {operation}: unexpected response shape ({describe_validation(exc)})")

    def _classify(self, response: httpx.Response) -> MarketplaceError | None:
        status = response.status_code
        if status < 400:
            return None
        where = f"{response.request.method} {response.request.url.path}" if response.request else ""
        errors = _errors(response)
        text = self._scrub("; ".join(f"{e.code}: {e.message}" if e.message else e.code for e in errors))
        text = text or response.reason_phrase or f"HTTP {status}"
        if status == 401:
            return AuthError(
                f"Yandex Market refused the Api-Key of account {self.config.name!r} (HTTP 401): {text}", status=status
            )
        if status == 403:  # the key works, but its accesses (scopes) do not cover this method
            return NotAvailableError(
                f"Yandex Market denied account {self.config.name!r} access to {where} (HTTP 403): {text}",
                status=status,
            )
        if status in (420, 429):
            retry_after = self._retry_after(response)
            return RateLimitedError(f"Yandex Market limit on {where}: {text}", status=status, retry_after=retry_after)
        if status == 423 or status >= 500:
            # 423: the resource is locked by another change in progress; it frees up by itself.
            return TransientError(f"Yandex Market {where}: HTTP {status}: {text}", status=status)
        return YMRequestError(f"Yandex Market {where}: HTTP {status}: {text}", status=status, errors=errors)

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _retry_after(self, response: httpx.Response) -> float | None:
        """X-RateLimit-Resource-Until is an absolute RFC 822 date; measured against the response's
        own Date header when present, so clock skew between us and Market does not matter."""
        until = _http_date(response.headers.get("X-RateLimit-Resource-Until"))
        if until is None:
            return None
        reference = _http_date(response.headers.get("Date")) or self._clock_now()
        return max(0.0, (until - reference).total_seconds())

    def _note_server_time(self, response: httpx.Response) -> None:
        server = _http_date(response.headers.get("Date"))
        if server is not None:
            self._server_now = server

    def _clock_now(self) -> datetime:
        return datetime.fromtimestamp(self.http.clock.now(), UTC)

    def _now(self) -> datetime:
        """Market's current time (its Date header), which bounds the date windows we walk."""
        return self._server_now or self._clock_now()

    def _business_scope(self) -> str:
        return f"business:{self._business()}"

    # ------------------------------------------------------------------------------------------
    # Campaigns and auth

    def _discover_campaigns(self) -> list[s.Campaign]:
        """GET /v2/campaigns (paths/v2_campaigns.yaml), all pages."""
        found: list[s.Campaign] = []
        token: str | None = None
        while True:
            page = self._call_parsed(
                s.CampaignsResponse, "campaigns",
                "GET", "/v2/campaigns", Bucket.CAMPAIGNS, scope=None,
                params={"limit": self.campaigns_page_size, "pageToken": token},
            )
            found.extend(page.campaigns)
            token = page.paging.nextPageToken if page.paging else None
            if not token or not page.campaigns:
                return found

    def _campaign_list(self) -> list[s.Campaign]:
        if self._campaigns is None:
            campaigns = self._discover_campaigns()
            if not self._business_id:
                owners = {c.business.id for c in campaigns if c.business}
                if len(owners) != 1:
                    raise PermanentError(
                        f"Yandex Market account {self.config.name!r}: set the business id "
                        f"(the Api-Key sees {len(owners)} cabinets)"
                    )
                self._business_id = str(owners.pop())
            campaigns = [c for c in campaigns if c.business is None or str(c.business.id) == self._business_id]
            if self.config.campaign_ids:
                wanted = {str(c) for c in self.config.campaign_ids}
                campaigns = [c for c in campaigns if str(c.id) in wanted]
            self._campaigns = sorted(campaigns, key=lambda c: c.id)
        return self._campaigns

    def _campaign_ids(self) -> list[str]:
        return [str(c.id) for c in self._campaign_list()]

    def _business(self) -> str:
        if not self._business_id:
            self._campaign_list()
        return self._business_id

    def check_auth(self) -> datetime | None:
        """POST /v2/auth/token (paths/v2_auth_token.yaml). The answer names the key and its scopes;
        Market publishes no expiry for Api-Keys, so there is none to return."""
        parsed = self._call_parsed(
            s.TokenResponse, "auth token", "POST", "/v2/auth/token", Bucket.AUTH_TOKEN, scope=None
        )
        token = parsed.result.apiKey
        logger.info("Yandex Market account %s: Api-Key %r, scopes %s", self.config.name, token.name, token.authScopes)
        self.access = list(token.authScopes)
        return None

    # ------------------------------------------------------------------------------------------
    # Warehouses

    def _business_warehouses(self) -> list[s.BusinessWarehouse]:
        """POST /v2/businesses/{businessId}/warehouses (paths/v2_businesses_businessId_warehouses.yaml)."""
        if self._seller_warehouses is None:
            rows: list[s.BusinessWarehouse] = []
            token: str | None = None
            while True:
                result = self._call_parsed(
                    s.BusinessWarehousesResponse, "warehouses",
                    "POST", f"/v2/businesses/{self._business()}/warehouses", Bucket.WAREHOUSES,
                    scope=self._business_scope(), params={"limit": self.warehouses_page_size, "pageToken": token},
                    body={"components": ["STATUS"]},
                ).result
                rows.extend(result.warehouses)
                token = result.paging.nextPageToken if result.paging else None
                if not token or not result.warehouses:
                    break
            self._seller_warehouses = rows
        return self._seller_warehouses

    def _market_warehouses(self) -> dict[int, list[s.FulfillmentWarehouse]]:
        """GET /v2/warehouses?campaignId= (paths/v2_warehouses.yaml) for each FBY campaign."""
        if self._fby_warehouses is None:
            found: dict[int, list[s.FulfillmentWarehouse]] = {}
            for campaign in self._campaign_list():
                if campaign.placementType != "FBY":
                    continue
                parsed = self._call_parsed(
                    s.FulfillmentWarehousesResponse, "FBY warehouses",
                    "GET", "/v2/warehouses", Bucket.FBY_WAREHOUSES, scope=None, params={"campaignId": campaign.id}
                )
                found[campaign.id] = parsed.result.warehouses
            self._fby_warehouses = found
        return self._fby_warehouses

    def iter_warehouses(self) -> Iterator[Page[WarehouseDTO]]:
        seller = [mapping.warehouse(w) for w in self._business_warehouses()]
        yield Page(items=seller, cursor={"part": "market"}, done=False)
        market: dict[str, WarehouseDTO] = {}
        for rows in self._market_warehouses().values():
            for row in rows:
                market.setdefault(str(row.id), mapping.fulfillment_warehouse(row))
        yield Page(items=list(market.values()), cursor={"part": "done"}, done=True)

    def _warehouse_names(self) -> dict[int, str]:
        names = {w.id: w.name for w in self._business_warehouses()}
        for rows in self._market_warehouses().values():
            names.update({w.id: w.name for w in rows})
        return names

    # ------------------------------------------------------------------------------------------
    # Catalogue, prices, stocks

    def _token_pages(
        self, fetch: Callable[[str | None], tuple[list[T], str | None]], token: str | None
    ) -> Iterator[tuple[list[T], str | None]]:
        """Page-token paging to the end: yields (items, next token); None marks the last page."""
        while True:
            items, token = fetch(token)
            if not items:
                token = None  # an empty page ends the stream whatever the token says
            yield items, token
            if token is None:
                return

    def fetch_categories(self, category_ids: Sequence[str]) -> list[CategoryDTO]:
        return categories.fetch_categories(
            self._call_parsed, self._business(), self._business_scope(), category_ids
        )

    def iter_listings(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[ListingDTO]]:
        """POST /v2/businesses/{businessId}/offer-mappings (paths/v2_businesses_businessId_offer-mappings.yaml),
        twice: without a filter Market lists only offers outside the archive, so the archive is read next
        with `archived: true` (GetOfferMappingsRequest.archived). A pass lists every offer, and one archived
        since the last pass comes back flagged `archived` instead of missing. Cursor: {"archived", "page_token"}."""
        resume_in_archive = bool((cursor or {}).get("archived"))
        token = (cursor or {}).get("page_token")
        for archived in (False, True):
            if resume_in_archive and not archived:
                continue  # the live offers were read before the saved page

            def fetch(token: str | None, archived: bool = archived) -> tuple[list[s.OfferMapping], str | None]:
                result = self._call_parsed(
                    s.OfferMappingsResponse, "offer mappings",
                    "POST", f"/v2/businesses/{self._business()}/offer-mappings", Bucket.OFFER_MAPPINGS,
                    scope=self._business_scope(), params={"limit": self.listings_page_size, "pageToken": token},
                    body={"archived": True} if archived else {},
                ).result
                return result.offerMappings, result.paging.nextPageToken if result.paging else None

            for rows, next_token in self._token_pages(fetch, token):
                last = next_token is None and archived
                next_cursor = {"archived": archived, "page_token": next_token} if next_token else {"archived": True}
                yield Page(items=[mapping.listing(r) for r in rows], cursor=next_cursor, done=last)
            token = None

    def iter_prices(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[PriceDTO]]:
        """POST /v2/businesses/{businessId}/offer-prices (paths/v2_businesses_businessId_offer-prices.yaml):
        the cabinet-wide prices that apply in every store."""
        for rows, token in self._token_pages(self._fetch_prices, (cursor or {}).get("page_token")):
            items = [p for p in (mapping.price(r) for r in rows) if p is not None]
            yield Page(items=items, cursor={"page_token": token}, done=token is None)

    def _fetch_prices(
        self, token: str | None, offer_ids: Sequence[str] | None = None
    ) -> tuple[list[s.OfferPrice], str | None]:
        body: dict[str, Any] = {"offerIds": list(offer_ids)} if offer_ids else {}
        result = self._call_parsed(
            s.OfferPricesResponse, "offer prices",
            "POST", f"/v2/businesses/{self._business()}/offer-prices", Bucket.OFFER_PRICES,
            scope=self._business_scope(), params={"limit": self.prices_page_size, "pageToken": token}, body=body,
        ).result
        return result.offers, result.paging.nextPageToken if result.paging else None

    def iter_stocks(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[StockDTO]]:
        """POST /v2/campaigns/{campaignId}/offers/stocks (paths/v2_campaigns_campaignId_offers_stocks.yaml)
        for every campaign; FBY campaigns report Market's warehouses (named, so they can be created)."""
        names = self._warehouse_names()

        def fetch(campaign: str, token: str | None) -> tuple[list[s.WarehouseOffers], str | None]:
            result = self._call_parsed(
                s.StocksResponse, "stocks",
                "POST", f"/v2/campaigns/{campaign}/offers/stocks", Bucket.STOCKS, scope=f"campaign:{campaign}",
                params={"limit": self.stocks_page_size, "pageToken": token}, body={},
            ).result
            return result.warehouses, result.paging.nextPageToken if result.paging else None

        for rows, next_cursor, done in self._iter_campaign_pages(cursor, fetch):
            items = [dto for row in rows for dto in mapping.stocks(row, names)]
            yield Page(items=items, cursor=next_cursor, done=done)

    def _iter_campaign_pages(
        self, cursor: dict[str, Any] | None, fetch: Callable[[str, str | None], tuple[list[T], str | None]]
    ) -> Iterator[tuple[list[T], dict[str, Any], bool]]:
        """Every campaign in turn, page by page; the cursor holds the campaign's index and page token."""
        campaigns = self._campaign_ids()
        first = int((cursor or {}).get("campaign", 0))
        token = (cursor or {}).get("page_token")
        if first >= len(campaigns):
            yield [], {"campaign": first}, True
            return
        for index in range(first, len(campaigns)):
            last_campaign = index == len(campaigns) - 1
            for rows, next_token in self._token_pages(functools.partial(fetch, campaigns[index]), token):
                next_cursor = {"campaign": index, "page_token": next_token} if next_token else {"campaign": index + 1}
                yield rows, next_cursor, next_token is None and last_campaign
            token = None

    # ------------------------------------------------------------------------------------------
    # Change streams

    def _clamp(self, since: datetime) -> datetime:
        since = mapping.utc(since)
        floor = self._now() - self.max_lookback
        return max(since, floor)

    def _iter_windows(
        self,
        since: datetime,
        cursor: dict[str, Any] | None,
        span: timedelta,
        fetch: Callable[[datetime, datetime, str | None], tuple[list[T], str | None]],
    ) -> Iterator[tuple[list[T], dict[str, Any], bool]]:
        """Walks [since, now] in windows of `span` (the API's widest range), each page by page.
        Yields (items, cursor after this page, last page of the stream)."""
        start = datetime.fromisoformat(cursor["window_from"]) if cursor else self._clamp(since)
        token = (cursor or {}).get("page_token")
        while True:
            end = start + span
            items, token = fetch(start, end, token)
            if not items:
                token = None
            if token:
                yield items, {"window_from": start.isoformat(), "page_token": token}, False
                continue
            last = end > self._now()
            yield items, {"window_from": end.isoformat(), "page_token": None}, last
            if last:
                return
            start = end

    def iter_orders(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[OrderDTO]]:
        """POST /v1/businesses/{businessId}/orders (paths/v1_businesses_businessId_orders.yaml): every
        store and placement model, by update time (`dates.updateDateFrom/To`, at most 30 days apart)."""

        def fetch(start: datetime, end: datetime, token: str | None) -> tuple[list[s.BusinessOrder], str | None]:
            body: dict[str, Any] = {"dates": {"updateDateFrom": _iso(start), "updateDateTo": _iso(end)}}
            if self.config.campaign_ids:
                body["campaignIds"] = [int(c) for c in self.config.campaign_ids]
            page = self._call_parsed(
                s.BusinessOrdersResponse, "orders",
                "POST", f"/v1/businesses/{self._business()}/orders", Bucket.ORDERS, scope=self._business_scope(),
                params={"limit": self.orders_page_size, "pageToken": token}, body=body,
            )
            return page.orders, page.paging.nextPageToken if page.paging else None

        watermark = _cursor_time(cursor, "watermark")
        for rows, next_cursor, last in self._iter_windows(since, _window_cursor(cursor), self.orders_window, fetch):
            items = [mapping.order(r) for r in rows]
            watermark = mapping.latest((o.updated_at for o in items), watermark)
            yield Page(items=items, cursor=_with_watermark(next_cursor, watermark), watermark=watermark, done=last)

    def iter_order_updates(
        self, open_orders: Sequence[OpenOrderRef], cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[OrderDTO]]:
        """Nothing to do on Yandex Market: iter_orders already returns every order that changed, whatever
        its age. POST /v1/businesses/{businessId}/orders filters by `dates.updateDateFrom/updateDateTo`
        (components/schemas/OrderDatesFilterDTO.yaml): the 30-day limit and the "30 days ago" default
        belong to the creation and shipment dates, not to the update time; and the deprecated
        GET /v2/campaigns/{campaignId}/orders, which hides orders delivered or cancelled over 30 days ago,
        names this method as the one that returns them (paths/v2_campaigns_campaignId_orders.yaml).
        So an order created 40 days ago that changes status is in the next change read, and following
        the open orders by `orderIds` would only spend requests on orders that did not change."""
        return iter(())

    def iter_sales(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[SaleDTO]]:
        """Yandex Market reports delivery and returns in order statuses: no separate sales report."""
        return iter(())

    def iter_returns(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[ReturnDTO]]:
        """GET /v2/campaigns/{campaignId}/returns (paths/v2_campaigns_campaignId_returns.yaml), every
        campaign, by update date (`fromDate`/`toDate`, YYYY-MM-DD)."""
        since = self._clamp(since)

        def fetch(campaign: str, token: str | None) -> tuple[list[s.Return], str | None]:
            params = {
                "fromDate": _moscow_date(since).isoformat(),
                "toDate": _moscow_date(self._now()).isoformat(),
                "limit": self.returns_page_size,
                "pageToken": token,
            }
            result = self._call_parsed(
                s.ReturnsResponse, "returns",
                "GET", f"/v2/campaigns/{campaign}/returns", Bucket.RETURNS, scope=f"campaign:{campaign}", params=params
            ).result
            return result.returns, result.paging.nextPageToken if result.paging else None

        watermark = _cursor_time(cursor, "watermark")
        for rows, next_cursor, done in self._iter_campaign_pages(cursor, fetch):
            items = [dto for row in rows for dto in mapping.returns(row)]
            watermark = mapping.latest((r.updated_at for r in items), watermark)
            yield Page(items=items, cursor=_with_watermark(next_cursor, watermark), watermark=watermark, done=done)

    def iter_reviews(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[ReviewDTO]]:
        """POST /v2/businesses/{businessId}/goods-feedback (paths/v2_businesses_businessId_goods-feedback.yaml),
        by publication time (`dateTimeFrom` is exclusive; at most 6 months per request)."""

        def fetch(start: datetime, end: datetime, token: str | None) -> tuple[list[s.Feedback], str | None]:
            result = self._call_parsed(
                s.FeedbackResponse, "goods feedback",
                "POST", f"/v2/businesses/{self._business()}/goods-feedback", Bucket.FEEDBACK,
                scope=self._business_scope(), params={"limit": self.reviews_page_size, "pageToken": token},
                body={"dateTimeFrom": _iso(start - timedelta(seconds=1)), "dateTimeTo": _iso(end)},
            ).result
            return result.feedbacks, result.paging.nextPageToken if result.paging else None

        watermark = _cursor_time(cursor, "watermark")
        for rows, next_cursor, last in self._iter_windows(since, _window_cursor(cursor), self.reviews_window, fetch):
            items = [mapping.review(r) for r in rows]
            watermark = mapping.latest((r.published_at for r in items), watermark)
            yield Page(items=items, cursor=_with_watermark(next_cursor, watermark), watermark=watermark, done=last)

    def iter_questions(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[QuestionDTO]]:
        """POST /v1/businesses/{businessId}/goods-questions (paths/v1_businesses_businessId_goods-questions.yaml),
        by creation date (`dateFrom`/`dateTo`, at most a month). The list has no "answered" flag, so each
        window is first read with needAnswer=true (the waiting ones), then in full."""
        pending: dict[str, set[int]] = {}

        def waiting(start: datetime, end: datetime) -> set[int]:
            key = start.isoformat()
            if key not in pending:
                pending.clear()  # one window at a time
                ids: set[int] = set()
                for rows, _ in self._token_pages(lambda t: self._questions_page(start, end, t, True), None):
                    ids.update(q.questionIdentifiers.id for q in rows)
                pending[key] = ids
            return pending[key]

        def fetch(start: datetime, end: datetime, token: str | None) -> tuple[list[QuestionDTO], str | None]:
            unanswered = waiting(start, end)
            rows, token = self._questions_page(start, end, token, False)
            items = [mapping.question(q, answered=q.questionIdentifiers.id not in unanswered) for q in rows]
            return items, token

        start_cursor = _window_cursor(cursor)
        since_day = _moscow_midnight(self._clamp(since))
        watermark = _cursor_time(cursor, "watermark")
        for items, next_cursor, last in self._iter_windows(since_day, start_cursor, self.questions_window, fetch):
            watermark = mapping.latest((q.published_at for q in items), watermark)
            yield Page(items=items, cursor=_with_watermark(next_cursor, watermark), watermark=watermark, done=last)

    def _questions_page(
        self, start: datetime, end: datetime, token: str | None, need_answer: bool
    ) -> tuple[list[s.Question], str | None]:
        body = {
            "dateFrom": _moscow_date(start).isoformat(),
            "dateTo": (_moscow_date(end) - timedelta(days=1)).isoformat(),
            "needAnswer": need_answer,
            "sort": "CREATED_AT_ASC",
        }
        result = self._call_parsed(
            s.QuestionsResponse, "goods questions",
            "POST", f"/v1/businesses/{self._business()}/goods-questions", Bucket.QUESTIONS,
            scope=self._business_scope(), params={"limit": self.questions_page_size, "pageToken": token}, body=body,
        ).result
        return result.questions, result.paging.nextPageToken if result.paging else None

    def iter_promotions(self) -> Iterator[Page[PromotionDTO]]:
        """POST /v2/businesses/{businessId}/promos (paths/v2_businesses_businessId_promos.yaml): the promos
        the seller takes part in or may join (no paging in this method)."""
        promos = self._call_parsed(
            s.PromosResponse, "promos",
            "POST", f"/v2/businesses/{self._business()}/promos", Bucket.PROMOS, scope=self._business_scope(), body={}
        ).result.promos
        yield Page(items=[mapping.promotion(p) for p in promos], cursor={}, done=True)

    def iter_promotion_offers(
        self, promotion_external_id: str, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[PromotionOfferDTO]]:
        """POST /v2/businesses/{businessId}/promos/offers (paths/v2_businesses_businessId_promos_offers.yaml):
        participating and eligible offers of one promo."""

        def fetch(token: str | None) -> tuple[list[s.PromoOffer], str | None]:
            result = self._call_parsed(
                s.PromoOffersResponse, "promo offers",
                "POST", f"/v2/businesses/{self._business()}/promos/offers", Bucket.PROMO_OFFERS,
                scope=self._business_scope(), params={"limit": self.promo_offers_page_size, "pageToken": token},
                body={"promoId": promotion_external_id},
            ).result
            return result.offers, result.paging.nextPageToken if result.paging else None

        for rows, token in self._token_pages(fetch, (cursor or {}).get("page_token")):
            items = [mapping.promotion_offer(promotion_external_id, r) for r in rows]
            yield Page(items=items, cursor={"page_token": token}, done=token is None)

    def iter_finance(
        self, since: datetime, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[FinanceOperationDTO]]:
        """POST /v2/campaigns/{campaignId}/stats/orders (paths/v2_campaigns_campaignId_stats_orders.yaml),
        every campaign, orders changed (`updateFrom`/`updateTo`, dates) since `since`: one operation per
        order with Market's services as fee lines."""
        since = self._clamp(since)

        def fetch(campaign: str, token: str | None) -> tuple[list[s.StatsOrder], str | None]:
            body = {"updateFrom": _moscow_date(since).isoformat(), "updateTo": _moscow_date(self._now()).isoformat()}
            result = self._call_parsed(
                s.StatsOrdersResponse, "order stats",
                "POST", f"/v2/campaigns/{campaign}/stats/orders", Bucket.STATS_ORDERS, scope=f"campaign:{campaign}",
                params={"limit": self.finance_page_size, "pageToken": token}, body=body,
            ).result
            return result.orders, result.paging.nextPageToken if result.paging else None

        watermark = _cursor_time(cursor, "watermark")
        for rows, next_cursor, done in self._iter_campaign_pages(cursor, fetch):
            items = [op for op in (mapping.finance_operation(r) for r in rows) if op is not None]
            watermark = mapping.latest((op.operation_at for op in items), watermark)
            yield Page(items=items, cursor=_with_watermark(next_cursor, watermark), watermark=watermark, done=done)

    # ------------------------------------------------------------------------------------------
    # Writes

    def _send_batch(
        self, keys_by_offer: dict[str, list[str]], send: Callable[[list[str]], None]
    ) -> list[WriteResult]:
        """Sends one batch; a 400 naming some offers rejects those and resends the rest once more
        (Market refuses the whole batch for one bad offer)."""
        offers = list(keys_by_offer)
        rejected: dict[str, str] = {}
        for attempt in (1, 2):
            try:
                send(offers)
                break
            except YMRequestError as exc:
                named = {o: m for o in offers if (m := _message_for(o, exc))}
                if not named or attempt == 2:  # nothing to single out: the whole batch is refused
                    rejected.update({o: named.get(o) or exc.message for o in offers})
                    break
                rejected.update(named)
                offers = [o for o in offers if o not in named]
                if not offers:
                    break
        results = []
        for offer, keys in keys_by_offer.items():
            for key in keys:
                if offer in rejected:
                    results.append(WriteResult(key=key, status=WriteStatus.REJECTED, message=rejected[offer]))
                else:
                    results.append(WriteResult(key=key, status=WriteStatus.APPLIED))
        return results

    def update_prices(self, updates: Sequence[PriceUpdate]) -> list[WriteResult]:
        """POST /v2/businesses/{businessId}/offer-prices/updates
        (paths/v2_businesses_businessId_offer-prices_updates.yaml): up to 500 unique offers per request;
        the prices apply in every store."""
        results: dict[str, WriteResult] = {}
        for batch in _batches(updates, self.price_batch_size, key=lambda u: u.offer_id):
            by_offer = {u.offer_id: u for u in batch}

            def send(offer_ids: list[str], by_offer: dict[str, PriceUpdate] = by_offer) -> None:
                body = {"offers": [_price_offer(by_offer[o]) for o in offer_ids]}
                self._call(
                    "POST", f"/v2/businesses/{self._business()}/offer-prices/updates", Bucket.PRICE_UPDATES,
                    scope=self._business_scope(), body=body,
                )

            for result in self._send_batch({u.offer_id: [u.key] for u in batch}, send):
                results[result.key] = result
        return [results[u.key] for u in updates]

    def _warehouse_campaigns(self) -> tuple[dict[str, str], set[str]]:
        """Seller warehouse id (and campaign id) -> campaign id; and the set of FBY warehouse ids."""
        owners = {c: c for c in self._campaign_ids()}
        owners.update({str(w.id): str(w.campaignId) for w in self._business_warehouses()})
        market = {str(w.id) for rows in self._market_warehouses().values() for w in rows}
        fby_campaigns = {str(c.id) for c in self._campaign_list() if c.placementType == "FBY"}
        return {k: v for k, v in owners.items() if v not in fby_campaigns}, market | fby_campaigns

    def update_stocks(self, updates: Sequence[StockUpdate]) -> list[WriteResult]:
        """PUT /v2/campaigns/{campaignId}/offers/stocks (paths/v2_campaigns_campaignId_offers_stocks.yaml):
        up to 2000 SKUs per request, to the campaign owning the warehouse (see the module docstring)."""
        owners, market = self._warehouse_campaigns()
        results: dict[str, WriteResult] = {}
        per_campaign: dict[str, list[StockUpdate]] = {}
        for update in updates:
            campaign = owners.get(update.warehouse_external_id)
            if campaign is None:
                why = (
                    "stock in Market's (FBY) warehouses is managed by Yandex Market"
                    if update.warehouse_external_id in market
                    else "unknown warehouse for this cabinet"
                )
                results[update.key] = WriteResult(
                    key=update.key, status=WriteStatus.REJECTED, message=f"{why}: {update.warehouse_external_id}"
                )
                continue
            per_campaign.setdefault(campaign, []).append(update)
        for campaign, campaign_updates in per_campaign.items():
            for batch in _batches(campaign_updates, self.stock_batch_size, key=lambda u: u.offer_id):
                by_offer = {u.offer_id: u for u in batch}

                def send(
                    offer_ids: list[str], by_offer: dict[str, StockUpdate] = by_offer, campaign: str = campaign
                ) -> None:
                    skus = [{"sku": o, "items": [{"count": max(0, by_offer[o].quantity)}]} for o in offer_ids]
                    self._call(
                        "PUT", f"/v2/campaigns/{campaign}/offers/stocks", Bucket.STOCK_UPDATES,
                        scope=f"campaign:{campaign}", body={"skus": skus},
                    )

                for result in self._send_batch({u.offer_id: [u.key] for u in batch}, send):
                    results[result.key] = result
        return [results[u.key] for u in updates]

    def update_listing_content(self, updates: Sequence[ContentUpdate]) -> list[WriteResult]:
        """POST /v2/businesses/{businessId}/offer-mappings/update
        (paths/v2_businesses_businessId_offer-mappings_update.yaml): fields not sent stay as they are;
        per-offer errors come back in `results[]` with HTTP 200."""
        results: dict[str, WriteResult] = {}
        sendable = []
        for update in updates:
            if update.title is None and update.description is None and not update.attributes and not update.images:
                results[update.key] = WriteResult(
                    key=update.key, status=WriteStatus.REJECTED, message="nothing to update: no title or description"
                )
            else:
                sendable.append(update)
        for batch in _batches(sendable, self.content_batch_size, key=lambda u: u.offer_id):
            by_offer = {u.offer_id: u for u in batch}
            item_errors: dict[str, str] = {}

            def send(
                offer_ids: list[str],
                by_offer: dict[str, ContentUpdate] = by_offer,
                item_errors: dict[str, str] = item_errors,
            ) -> None:
                body = {"offerMappings": [{"offer": _content_offer(by_offer[o])} for o in offer_ids]}
                parsed = self._call_parsed(
                    s.MappingUpdateResponse, "offer mappings update",
                    "POST", f"/v2/businesses/{self._business()}/offer-mappings/update", Bucket.MAPPING_UPDATES,
                    scope=self._business_scope(), body=body,
                )
                for row in parsed.results or ():
                    if row.errors:
                        item_errors[row.offerId] = "; ".join(f"{e.type}: {e.message}" for e in row.errors)

            offer_of = {u.key: u.offer_id for u in batch}
            for result in self._send_batch({u.offer_id: [u.key] for u in batch}, send):
                offer = offer_of[result.key]
                if result.status == WriteStatus.APPLIED and offer in item_errors:
                    result = WriteResult(key=result.key, status=WriteStatus.REJECTED, message=item_errors[offer])
                results[result.key] = result
        return [results[u.key] for u in updates]

    def _single_write(self, key: str, send: Callable[[], str]) -> WriteResult:
        """One-item writes: the item's own refusal (400/404...) is a REJECTED result, not an exception;
        refused credentials and transient trouble still raise, so the caller retries later."""
        try:
            remote_ref = send()
        except AuthError:
            raise
        except PermanentError as exc:
            return WriteResult(key=key, status=WriteStatus.REJECTED, message=exc.message)
        return WriteResult(key=key, status=WriteStatus.APPLIED, remote_ref=remote_ref)

    def answer_review(self, key: str, review_external_id: str, text: str) -> WriteResult:
        """POST /v2/businesses/{businessId}/goods-feedback/comments/update
        (paths/v2_businesses_businessId_goods-feedback_comments_update.yaml): a new top-level comment."""

        def send() -> str:
            return str(self._call_parsed(
                s.FeedbackCommentResponse, "feedback comment",
                "POST", f"/v2/businesses/{self._business()}/goods-feedback/comments/update", Bucket.FEEDBACK_COMMENT,
                scope=self._business_scope(), body={"feedbackId": int(review_external_id), "comment": {"text": text}},
            ).result.id)

        return self._single_write(key, send)

    def answer_question(self, key: str, question_external_id: str, text: str, sku: str = "") -> WriteResult:
        """POST /v1/businesses/{businessId}/goods-questions/update
        (paths/v1_businesses_businessId_goods-questions_update.yaml): CREATE an answer to the question."""

        def send() -> str:
            body = {
                "parentEntityId": {"id": int(question_external_id), "type": "QUESTION"},
                "text": text,
                "operationType": "CREATE",
            }
            return str(self._call_parsed(
                s.QuestionUpdateResponse, "question answer",
                "POST", f"/v1/businesses/{self._business()}/goods-questions/update", Bucket.QUESTION_ANSWER,
                scope=self._business_scope(), body=body,
            ).result.entity.id)

        return self._single_write(key, send)

    def _current_prices(self, offer_ids: Sequence[str]) -> dict[str, Decimal]:
        """The offers' current prices (the crossed-out price a promo needs), 200 per request."""
        prices: dict[str, Decimal] = {}
        unique = list(dict.fromkeys(offer_ids))
        for start in range(0, len(unique), limits.PRICE_FILTER_MAX):
            rows, _ = self._fetch_prices(None, unique[start : start + limits.PRICE_FILTER_MAX])
            prices.update({r.offerId: r.price.value for r in rows if r.price and r.price.value is not None})
        return prices

    def join_promotion(self, promotion_external_id: str, items: Sequence[PromotionItem]) -> list[WriteResult]:
        """POST /v2/businesses/{businessId}/promos/offers/update
        (paths/v2_businesses_businessId_promos_offers_update.yaml): adds offers (or changes their promo
        price, whole roubles); refusals come per offer in `rejectedOffers[]` with HTTP 200."""
        priced = [i.offer_key for i in items if i.action_price is not None]
        base_prices = self._current_prices(priced) if priced else {}
        results: dict[str, WriteResult] = {}
        for batch in _batches(items, self.promo_batch_size, key=lambda i: i.offer_key):
            by_offer = {i.offer_key: i for i in batch}
            body = {
                "promoId": promotion_external_id,
                "offers": [_promo_offer(i, base_prices.get(i.offer_key)) for i in batch],
            }
            result = self._call_parsed(
                s.PromoOffersChangeResponse, "promo offers update",
                "POST", f"/v2/businesses/{self._business()}/promos/offers/update", Bucket.PROMO_UPDATE,
                scope=self._business_scope(), body=body,
            ).result
            rejected = {r.offerId: r.reason for r in (result.rejectedOffers if result else None) or ()}
            for offer, item in by_offer.items():
                results[item.key] = _promo_result(item.key, rejected.get(offer))
        return [results[i.key] for i in items]

    def leave_promotion(self, promotion_external_id: str, items: Sequence[PromotionItem]) -> list[WriteResult]:
        """POST /v2/businesses/{businessId}/promos/offers/delete
        (paths/v2_businesses_businessId_promos_offers_delete.yaml)."""
        results: dict[str, WriteResult] = {}
        for batch in _batches(items, self.promo_batch_size, key=lambda i: i.offer_key):
            body = {"promoId": promotion_external_id, "offerIds": [i.offer_key for i in batch]}
            result = self._call_parsed(
                s.PromoOffersChangeResponse, "promo offers delete",
                "POST", f"/v2/businesses/{self._business()}/promos/offers/delete", Bucket.PROMO_DELETE,
                scope=self._business_scope(), body=body,
            ).result
            rejected = {r.offerId: r.reason for r in (result.rejectedOffers if result else None) or ()}
            for item in batch:
                results[item.key] = _promo_result(item.key, rejected.get(item.offer_key))
        return [results[i.key] for i in items]

    # ---- price quarantine ------------------------------------------------------------------------

    def iter_price_quarantine(self) -> Iterator[Page[QuarantinedPriceDTO]]:
        """POST /v2/businesses/{businessId}/price-quarantine
        (paths/v2_businesses_businessId_price-quarantine.yaml): the offers whose cabinet-wide price
        Market holds back (a sharp change, or far below the market); they sell at the last valid price."""

        def fetch(token: str | None) -> tuple[list[s.QuarantineOffer], str | None]:
            result = self._call_parsed(
                s.QuarantineResponse, "price quarantine",
                "POST", f"/v2/businesses/{self._business()}/price-quarantine", Bucket.PRICE_QUARANTINE,
                scope=self._business_scope(), params={"limit": limits.QUARANTINE_PAGE, "pageToken": token}, body={},
            ).result
            return result.offers, result.paging.nextPageToken if result.paging else None

        for rows, token in self._token_pages(fetch, None):
            items = [q for q in (mapping.quarantined_price(r) for r in rows) if q is not None]
            yield Page(items=items, cursor={"page_token": token}, done=token is None)

    def confirm_quarantined_prices(self, keys_by_offer: Mapping[str, str]) -> list[WriteResult]:
        """POST /v2/businesses/{businessId}/price-quarantine/confirm
        (paths/v2_businesses_businessId_price-quarantine_confirm.yaml): the seller confirms the held
        prices ({offerId: result key}), 200 offers a request. A refused batch rejects its offers."""
        results: list[WriteResult] = []
        offers = list(keys_by_offer)
        for start in range(0, len(offers), limits.QUARANTINE_CONFIRM_BATCH):
            batch = offers[start : start + limits.QUARANTINE_CONFIRM_BATCH]
            try:
                self._call_parsed(
                    s.EmptyResponse, "price quarantine confirm",
                    "POST", f"/v2/businesses/{self._business()}/price-quarantine/confirm",
                    Bucket.PRICE_QUARANTINE_CONFIRM, scope=self._business_scope(), body={"offerIds": batch},
                )
            except AuthError:
                raise
            except PermanentError as exc:
                results += [WriteResult(keys_by_offer[o], WriteStatus.REJECTED, exc.message) for o in batch]
                continue
            results += [WriteResult(keys_by_offer[o], WriteStatus.APPLIED) for o in batch]
        return results

    def fetch_write_results(self, remote_ref: str) -> list[WriteResult] | None:
        """Every Yandex Market write we use answers synchronously: nothing is ever left pending."""
        return []


# ---------------------------------------------------------------------------------------------
# Helpers


def _errors(response: httpx.Response) -> list[s.ApiError]:
    try:
        body = json.loads(response.content or b"null")
        parsed = parse_python(s.ErrorResponse, body)
    except (ValueError, ValidationError):
        return []
    return list(parsed.errors or ())


def _message_for(offer_id: str, exc: YMRequestError) -> str:
    """The error messages of a refused batch that name this offer (Market names it in the text)."""
    found = [f"{e.code}: {e.message}" for e in exc.errors if e.message and _names(e.message, offer_id)]
    return "; ".join(found)


def _names(message: str, offer_id: str) -> bool:
    start = message.find(offer_id)
    while start >= 0:
        end = start + len(offer_id)
        before = message[start - 1] if start else " "
        after = message[end] if end < len(message) else " "
        # A whole token: PRL-00001 must not match inside PRL-000012.
        if not (before.isalnum() or before in "-_") and not (after.isalnum() or after in "-_"):
            return True
        start = message.find(offer_id, end)
    return False


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return mapping.utc(parsed) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return mapping.utc(value).isoformat(timespec="seconds")


def _moscow_date(value: datetime) -> date:
    return value.astimezone(mapping.MOSCOW).date()


def _moscow_midnight(value: datetime) -> datetime:
    day = _moscow_date(value)
    return datetime(day.year, day.month, day.day, tzinfo=mapping.MOSCOW).astimezone(UTC)


def _window_cursor(cursor: dict[str, Any] | None) -> dict[str, Any] | None:
    return cursor if cursor and cursor.get("window_from") else None


def _cursor_time(cursor: dict[str, Any] | None, name: str) -> datetime | None:
    value = (cursor or {}).get(name)
    return datetime.fromisoformat(value) if value else None


def _with_watermark(cursor: dict[str, Any], watermark: datetime | None) -> dict[str, Any]:
    return {**cursor, "watermark": watermark.isoformat()} if watermark else cursor


def _batches(items: Sequence[T], size: int, *, key: Callable[[T], str]) -> Iterator[list[T]]:
    """Chunks of at most `size` whose keys are unique (Market refuses a repeated offerId)."""
    batch: list[T] = []
    seen: set[str] = set()
    for item in items:
        if len(batch) >= size or key(item) in seen:
            yield batch
            batch, seen = [], set()
        batch.append(item)
        seen.add(key(item))
    if batch:
        yield batch


def _number(amount: Decimal) -> int | float:
    """A JSON number with exactly the amount's digits (json.dumps cannot write a Decimal)."""
    if amount == amount.to_integral_value():
        return int(amount)
    value = float(str(amount))
    if Decimal(repr(value)) != amount:
        raise PermanentError(f"amount {amount} cannot be sent exactly as a JSON number")
    return value


def _ym_currency(code: str) -> str:
    return "RUR" if code.upper() in ("RUB", "RUR", "") else code.upper()


def _price_offer(update: PriceUpdate) -> dict[str, Any]:
    price: dict[str, Any] = {"value": _number(update.price), "currencyId": _ym_currency(update.currency)}
    discount_base = update.old_price
    if discount_base is None and update.discount_percent:
        discount_base = (update.price * 100 / (100 - update.discount_percent)).quantize(Decimal("1"), ROUND_HALF_UP)
    if discount_base is not None and discount_base > update.price:
        price["discountBase"] = _number(discount_base)
    # Market deletes a minimumForBestseller the update leaves out (UpdateBusinessPricesDTO), so the
    # caller sends the one to keep: the stored one, or the new one the user set (pricing.services).
    if update.min_price is not None:
        price["minimumForBestseller"] = _number(update.min_price)
    return {"offerId": update.offer_id, "price": price}


def _content_offer(update: ContentUpdate) -> dict[str, Any]:
    offer: dict[str, Any] = {"offerId": update.offer_id}
    if update.title is not None:
        offer["name"] = update.title
    if update.description is not None:
        offer["description"] = update.description
    # Only the characteristics given are changed (UpdateOfferDTO.parameterValues); own values, no valueId.
    values = [{"parameterId": int(i), "value": v} for i, _name, v in update.attributes or () if i.isdigit()]
    if values:
        offer["parameterValues"] = values
    if update.images:
        offer["pictures"] = list(update.images)  # the first is the main photo
    return offer


def _roubles(amount: Decimal) -> int:
    """Promo prices are whole roubles."""
    return int(amount.quantize(Decimal("1"), ROUND_HALF_UP))


def _promo_offer(item: PromotionItem, base_price: Decimal | None) -> dict[str, Any]:
    offer: dict[str, Any] = {"offerId": item.offer_key}
    if item.action_price is not None:
        params: dict[str, Any] = {"promoPrice": _roubles(item.action_price)}
        if base_price is not None:
            params["price"] = _roubles(base_price)
        offer["params"] = {"discountParams": params}
    return offer


def _promo_result(key: str, reason: str | None) -> WriteResult:
    if reason is None:
        return WriteResult(key=key, status=WriteStatus.APPLIED)
    text = REJECT_REASONS.get(reason)
    return WriteResult(key=key, status=WriteStatus.REJECTED, message=f"{reason}: {text}" if text else reason)
