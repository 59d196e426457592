"""The Ozon Seller API adapter: current (2026) endpoints behind the MarketplaceClient Protocol.

Paths are the official ones; with `config.base_url` set (sandbox or proxy) they are appended to it.
Every answer is validated with the models in schemas.py and turned into DTOs by mapping.py.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from integrations.base import (
    AccountConfig,
    AuthError,
    CategoryDTO,
    ContentUpdate,
    FinanceOperationDTO,
    ItemLimit,
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
from integrations.http import HttpCore, describe_validation
from integrations.limiter import Clock, Limiter, LimitRule
from integrations.ozon import categories, limits, mapping
from integrations.ozon import schemas as s
from integrations.payloads import parse_json, parse_python

M = TypeVar("M")

logger = logging.getLogger(__name__)

BASE_URL = "https://api-seller.ozon.ru"

# Page sizes: the documented maximum of each method.
PRODUCTS_PAGE = 1000
POSTINGS_PAGE = 100
RETURNS_PAGE = 500
REVIEWS_PAGE = 100
QUESTIONS_PAGE = 100
ACTION_PRODUCTS_PAGE = 100  # the documented default; no maximum is given
FINANCE_PAGE = 1000
WAREHOUSES_PAGE = 200
# Write batches.
PRICES_BATCH = 1000
STOCKS_BATCH = 100
CONTENT_BATCH = 100
ACTION_BATCH = 1000

# Posting list windows may not exceed one year; finance windows one month.
POSTING_WINDOW = timedelta(days=360)
FINANCE_WINDOW = timedelta(days=28)
# FBS/rFBS postings are filtered by the time of their last status change, but the creation
# window is mandatory: look this far back for postings created earlier that changed since.
FBS_LOOKBACK = timedelta(days=60)
# FBO postings can only be filtered by creation time, so their status changes are re-read for
# postings created this long before `since` (FBO delivery takes days, rarely weeks).
FBO_LOOKBACK = timedelta(days=30)
# How far past "now" a list window reaches, so clock skew between us and Ozon loses nothing.
HORIZON_SLACK = timedelta(days=1)
# Open postings older than the change read's lookback are followed by number (iter_order_updates).
# Those created within a day of the lookback's edge are followed too: being read twice is harmless.
FOLLOW_OVERLAP = timedelta(days=1)
# A list call filtered by numbers still needs a creation window: pad it, since Ozon may date the
# posting's creation before its processing start (our ordered_at); the numbers do the choosing.
FOLLOW_WINDOW_PAD = timedelta(days=2)
FBS_ORDER_NUMBERS = 100  # filter.order_numbers maxItems of /v4/posting/fbs/list
FBO_POSTING_NUMBERS = POSTINGS_PAGE  # maxItems is 1000, but a page holds 100: one request per chunk

CIRCLE_OPEN_WAIT = 60.0  # "Circle is open": the method is blocked for a few minutes


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money_text(value: Decimal) -> str:
    """Ozon price writes take strings: exact, no exponent."""
    return format(value, "f")


def _money_number(value: Decimal) -> int | float:
    """Promotion prices are JSON numbers; the float's repr is the same digits as the Decimal."""
    return int(value) if value == value.to_integral_value() else float(str(value))


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _wm_out(value: datetime | None) -> str:
    return _iso(value) if value else ""


def _wm_in(cursor: dict[str, Any]) -> datetime | None:
    text = cursor.get("wm") or ""
    return mapping.parse_datetime(text) if text else None


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class OzonClient:
    marketplace = "ozon"
    # Outbox kind -> how often Ozon lets one item be written (the outbox holds back the rest).
    item_limits = {"price": limits.PRICE_PER_ITEM, "stock": limits.STOCK_PER_ITEM}

    def __init__(
        self,
        config: AccountConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        limiter: Limiter | None = None,
        max_retries: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.access: list[str] = []
        self.base_url = (config.base_url or BASE_URL).rstrip("/")
        self.http = HttpCore(
            config,
            classify=self._classify,
            transport=transport,
            clock=clock,
            limiter=limiter,
            max_retries=max_retries,
            rng=rng,
        )
        self._api_key = config.secrets.get("api_key", "")
        self._headers = {"Client-Id": config.client_id, "Api-Key": self._api_key}
        self._global_key = limits.bucket_key(config, "global")
        self._stocks_key = limits.bucket_key(config, "stocks-update")
        self._category_names: categories.Names = {}  # the description-category tree, read once per client

    def close(self) -> None:
        self.http.close()

    # ---- transport --------------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.http.clock.now(), UTC)

    def _horizon(self) -> datetime:
        return self._now() + HORIZON_SLACK

    def _classify(self, response: httpx.Response) -> MarketplaceError | None:
        status = response.status_code
        if status < 400:
            return None
        message = self._error_message(response)
        where = f"Ozon {response.request.method} {response.request.url.path}" if response.request else "Ozon"
        if status == 429 or message == "Circle is open":
            wait = CIRCLE_OPEN_WAIT if message == "Circle is open" else 1.0
            header = response.headers.get("Retry-After", "")
            if header.strip().isdigit():
                wait = float(header)
            return RateLimitedError(f"{where}: rate limited ({message})", status=status, retry_after=wait)
        if status == 401 or (status == 403 and _is_credential_refusal(message)):
            return AuthError(
                f"Ozon account «{self.config.name}»: credentials refused ({message or f'HTTP {status}'})",
                status=status,
                code="auth",
            )
        if status == 403:  # the key works, but the seller's subscription does not cover this method
            return NotAvailableError(f"{where}: HTTP 403: {message}", status=status)
        if status >= 500 or status == 408:
            return TransientError(f"{where}: HTTP {status}: {message}", status=status)
        if status == 403:
            # The key is good, the method is not open to this seller (a subscription, a role).
            return PermanentError(f"{where}: not available to this account (HTTP 403): {message}",
                                  status=status, code="forbidden")
        return PermanentError(f"{where}: HTTP {status}: {message}", status=status)

    def _error_message(self, response: httpx.Response) -> str:
        try:
            body = parse_python(s.ErrorBody, response.json())
            message = body.message
        except (ValueError, ValidationError):
            message = response.text[:200]
        # Whatever Ozon echoes back, the key never leaves this object.
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return message.strip()

    def _call(
        self,
        operation: str,
        model: type[M],
        body: Any = None,
        *,
        method: str = "POST",
        extra_bucket: tuple[str, LimitRule] | None = None,
    ) -> M:
        """One request of `operation` ("POST /v3/product/list"), validated into `model`."""
        path = operation.split(" ", 1)[1]
        send = body if (body is not None or method == "GET") else None

        def decode(content: bytes) -> M:
            # One pass in pydantic's parser; JSON numbers reach Decimal fields exactly.
            return parse_json(model, content or b"{}")

        def request() -> M:
            try:
                value, _ = self.http.request_json(
                    method,
                    self.base_url + path,
                    decode=decode,
                    limit_key=self._global_key,
                    rule=limits.GLOBAL,
                    headers=self._headers,
                    json_body=send,
                )
            except ValidationError as exc:
                raise PermanentError(
                    f"Ozon {operation}: the response does not match its schema ({describe_validation(exc)})"
                ) from exc
            return value

        if extra_bucket and self.http.limits_enabled:
            key, rule = extra_bucket
            with self.http.limiter.slot(key, rule, self.http.clock):
                return request()
        return request()

    # ---- account ----------------------------------------------------------------------------

    def check_auth(self) -> datetime | None:
        """POST /v1/roles (AccessAPI_RolesByToken): the key's expiry, and its roles kept in `access`."""
        roles = self._call("POST /v1/roles", s.RolesResponse)
        self.access = [role.name for role in roles.roles if role.name]
        return mapping.as_utc(roles.expires_at) if roles.expires_at else None

    # ---- catalogue --------------------------------------------------------------------------

    def iter_warehouses(self) -> Iterator[Page[WarehouseDTO]]:
        cursor = ""
        while True:
            body: dict[str, Any] = {"limit": WAREHOUSES_PAGE}
            if cursor:
                body["cursor"] = cursor
            page = self._call("POST /v2/warehouse/list", s.WarehouseListResponse, body)
            done = not page.has_next or not page.cursor
            yield Page([mapping.warehouse(w) for w in page.warehouses], {"cursor": page.cursor}, done=done)
            if done:
                return
            cursor = page.cursor

    def fetch_categories(self, category_ids: Sequence[str]) -> list[CategoryDTO]:
        return categories.fetch_categories(self._call, category_ids, self._category_names)

    def iter_listings(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[ListingDTO]]:
        last_id = (cursor or {}).get("last_id", "")
        while True:
            body = {"filter": {"visibility": "ALL"}, "last_id": last_id, "limit": PRODUCTS_PAGE}
            result = self._call("POST /v3/product/list", s.ProductListResponse, body).result
            items = result.items
            if not items:
                yield Page([], {"last_id": last_id}, done=True)
                return
            ids = [str(item.product_id) for item in items]
            attributes = self._attributes(ids)
            info_list = self._call("POST /v3/product/info/list", s.ProductInfoListResponse, {"product_id": ids})
            infos = {info.id: info for info in info_list.items}
            listings = [mapping.listing(i, attributes.get(i.product_id), infos.get(i.product_id)) for i in items]
            last_id = result.last_id
            done = not last_id or len(items) < PRODUCTS_PAGE
            yield Page(listings, {"last_id": last_id}, done=done)
            if done:
                return

    def _attributes(self, product_ids: list[str]) -> dict[int, s.ProductAttributes]:
        found: dict[int, s.ProductAttributes] = {}
        last_id = ""
        while True:
            body = {
                "filter": {"product_id": product_ids, "visibility": "ALL"},
                "limit": PRODUCTS_PAGE,
                "last_id": last_id,
            }
            page = self._call("POST /v4/product/info/attributes", s.ProductAttributesResponse, body)
            for item in page.result:
                found[item.id] = item
            if not page.result or not page.last_id or len(found) >= len(product_ids):
                return found
            last_id = page.last_id

    def iter_prices(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[PriceDTO]]:
        api_cursor = (cursor or {}).get("cursor", "")
        while True:
            body: dict[str, Any] = {"filter": {"visibility": "ALL"}, "limit": PRODUCTS_PAGE}
            if api_cursor:
                body["cursor"] = api_cursor
            page = self._call("POST /v5/product/info/prices", s.PriceListResponse, body)
            done = not page.items or not page.cursor or len(page.items) < PRODUCTS_PAGE
            api_cursor = page.cursor or api_cursor
            yield Page([mapping.price(item) for item in page.items], {"cursor": api_cursor}, done=done)
            if done:
                return

    def iter_stocks(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[StockDTO]]:
        """FBS/rFBS stock per seller warehouse, plus each product's FBO stock on the FBO pseudo-warehouse."""
        api_cursor = (cursor or {}).get("cursor", "")
        while True:
            body: dict[str, Any] = {"filter": {"visibility": "ALL"}, "limit": PRODUCTS_PAGE}
            if api_cursor:
                body["cursor"] = api_cursor
            page = self._call("POST /v4/product/info/stocks", s.StockListResponse, body)
            stocks: list[StockDTO] = []
            seller_skus: dict[int, str] = {}
            for item in page.items:
                for entry in item.stocks:
                    if entry.type == "fbo":
                        stocks.append(mapping.fbo_stock(item, entry))
                    elif entry.type in {"fbs", "rfbs"} and entry.sku:
                        seller_skus[entry.sku] = item.offer_id
            for skus in _chunks(list(seller_skus), PRODUCTS_PAGE):
                rows = self._call(
                    "POST /v1/product/info/stocks-by-warehouse/fbs",
                    s.WarehouseStockResponse,
                    {"sku": [str(sku) for sku in skus]},
                ).result
                stocks.extend(mapping.seller_stock(row, seller_skus.get(row.sku, "")) for row in rows)
            done = not page.items or not page.cursor or len(page.items) < PRODUCTS_PAGE
            api_cursor = page.cursor or api_cursor
            yield Page(stocks, {"cursor": api_cursor}, done=done)
            if done:
                return

    # ---- orders -----------------------------------------------------------------------------

    def iter_orders(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[OrderDTO]]:
        """FBS and rFBS postings whose status changed since `since`, then FBO postings created in
        the FBO lookback (Ozon offers no change filter for them). The watermark is the latest
        processing start seen, never later than Ozon's own clock, so nothing between runs is lost."""
        state = dict(cursor or {})
        since = mapping.parse_datetime(state["since"]) if state.get("since") else mapping.as_utc(since)
        watermark = _wm_in(state)
        part = state.get("part", "fbs")
        horizon = self._horizon()
        if part == "fbs":
            window_start = (
                mapping.parse_datetime(state["ws"]) if state.get("ws") else since - FBS_LOOKBACK
            )
            api_cursor = state.get("cursor", "")
            while window_start <= horizon:
                window_end = min(window_start + POSTING_WINDOW, horizon)
                body: dict[str, Any] = {
                    "filter": {
                        "since": _iso(window_start),
                        "to": _iso(window_end),
                        "last_changed_status_date": {"from": _iso(since), "to": _iso(horizon)},
                    },
                    "limit": POSTINGS_PAGE,
                    "sort_dir": "ASC",
                    "with": {"analytics_data": True, "financial_data": True},
                }
                if api_cursor:
                    body["cursor"] = api_cursor
                page = self._call("POST /v4/posting/fbs/list", s.FbsPostingListResponse, body)
                orders = [mapping.fbs_order(p) for p in page.postings]
                for order in orders:
                    watermark = _later(watermark, order.ordered_at)
                if page.has_next and page.cursor:
                    api_cursor = page.cursor
                    next_state = {"part": "fbs", "ws": _iso(window_start), "cursor": api_cursor}
                else:
                    api_cursor = ""
                    window_start = window_end + timedelta(seconds=1)
                    next_state = {"part": "fbs", "ws": _iso(window_start), "cursor": ""}
                yield Page(orders, {**next_state, "since": _iso(since), "wm": _wm_out(watermark)}, watermark)
            state = {}
        yield from self._fbo_orders(since, state, watermark, horizon)

    def _fbo_orders(
        self, since: datetime, state: dict[str, Any], watermark: datetime | None, horizon: datetime
    ) -> Iterator[Page[OrderDTO]]:
        window_start = mapping.parse_datetime(state["ws"]) if state.get("ws") else since - FBO_LOOKBACK
        api_cursor = state.get("cursor", "")
        while True:
            window_end = min(window_start + POSTING_WINDOW, horizon)
            body: dict[str, Any] = {
                "filter": {"since": _iso(window_start), "to": _iso(window_end)},
                "limit": POSTINGS_PAGE,
                "sort_dir": "ASC",
                "with": {"analytics_data": True, "financial_data": True},
            }
            if api_cursor:
                body["cursor"] = api_cursor
            page = self._call("POST /v3/posting/fbo/list", s.FboPostingListResponse, body)
            orders = [mapping.fbo_order(p) for p in page.postings]
            for order in orders:
                watermark = _later(watermark, order.ordered_at)
            done = False
            if page.has_next and page.cursor:
                api_cursor = page.cursor
            else:
                api_cursor = ""
                window_start = window_end + timedelta(seconds=1)
                done = window_start > horizon
            next_state = {"part": "fbo", "ws": _iso(window_start), "cursor": api_cursor}
            yield Page(orders, {**next_state, "since": _iso(since), "wm": _wm_out(watermark)}, watermark, done=done)
            if done:
                return

    def iter_order_updates(
        self, open_orders: Sequence[OpenOrderRef], cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[OrderDTO]]:
        """The current state of open postings older than the change read covers: FBS/rFBS first,
        then FBO, in chunks of the numbers one list call can filter by (one request per chunk, plus
        a lookup for a posting the list did not return); a lone posting is looked up directly.
        The cursor names the last posting of the last chunk read, so it survives postings leaving
        the open list: {"part": "fbs" | "fbo", "after": [ordered_at ISO, posting number]}."""
        state = dict(cursor or {})
        now = self._now()
        resume_part = state.get("part", "fbs")
        after = state.get("after")
        resume_key = (datetime.fromisoformat(after[0]), after[1]) if after else None
        plan: list[tuple[str, list[OpenOrderRef]]] = []
        for part, lookback in (("fbs", FBS_LOOKBACK), ("fbo", FBO_LOOKBACK)):
            if part == "fbs" and resume_part == "fbo":
                continue
            covered_from = now - lookback + FOLLOW_OVERLAP
            refs = [
                ref for ref in open_orders
                if (ref.scheme == "FBO") == (part == "fbo") and mapping.as_utc(ref.ordered_at) < covered_from
            ]
            if part == resume_part and resume_key is not None:
                refs = [ref for ref in refs if (mapping.as_utc(ref.ordered_at), ref.external_id) > resume_key]
            plan.extend((part, chunk) for chunk in _follow_chunks(refs, FBO_POSTING_NUMBERS if part == "fbo"
                                                                  else FBS_ORDER_NUMBERS))
        for number, (part, chunk) in enumerate(plan):
            orders = self._follow_fbo(chunk) if part == "fbo" else self._follow_fbs(chunk)
            last = chunk[-1]
            next_state = {"part": part, "after": [mapping.as_utc(last.ordered_at).isoformat(), last.external_id]}
            yield Page(orders, next_state, done=number == len(plan) - 1)

    def _follow_fbs(self, chunk: list[OpenOrderRef]) -> list[OrderDTO]:
        numbers = {"order_numbers": sorted({_order_number(ref.external_id) for ref in chunk})}
        found = self._follow_list("POST /v4/posting/fbs/list", s.FbsPostingListResponse, chunk, numbers,
                                  mapping.fbs_order)
        for ref in _missing(chunk, found):
            body = {"posting_number": ref.external_id, "with": {"analytics_data": True, "financial_data": True}}
            posting = self._look_up("POST /v3/posting/fbs/get", s.FbsPostingResponse, body)
            if posting is not None:
                found.append(mapping.fbs_order(posting.result))
        return found

    def _follow_fbo(self, chunk: list[OpenOrderRef]) -> list[OrderDTO]:
        numbers = {"posting_numbers": [ref.external_id for ref in chunk]}
        found = self._follow_list("POST /v3/posting/fbo/list", s.FboPostingListResponse, chunk, numbers,
                                  mapping.fbo_order)
        for ref in _missing(chunk, found):
            body = {"posting_number": ref.external_id, "with": {"analytics_data": True, "financial_data": True}}
            posting = self._look_up("POST /v2/posting/fbo/get", s.FboPostingResponse, body)
            if posting is not None:
                found.append(mapping.fbo_order(posting.result))
        return found

    def _follow_list(
        self,
        operation: str,
        model: type[s.FbsPostingListResponse] | type[s.FboPostingListResponse],
        chunk: list[OpenOrderRef],
        numbers: dict[str, list[str]],
        to_order: Callable[[Any], OrderDTO],
    ) -> list[OrderDTO]:
        """The chunk's postings from one list filtered by their numbers (a lone one: none, it is looked up)."""
        if len(chunk) < 2:
            return []
        since, to = _follow_window(chunk)
        found: list[OrderDTO] = []
        api_cursor = ""
        while True:
            body: dict[str, Any] = {
                "filter": {"since": _iso(since), "to": _iso(to), **numbers},
                "limit": POSTINGS_PAGE,
                "sort_dir": "ASC",
                "with": {"analytics_data": True, "financial_data": True},
            }
            if api_cursor:
                body["cursor"] = api_cursor
            page = self._call(operation, model, body)
            found.extend(to_order(p) for p in page.postings)
            if not (page.has_next and page.cursor):
                return found
            api_cursor = page.cursor

    def _look_up(self, operation: str, model: type[M], body: dict[str, Any]) -> M | None:
        """One posting by number; None when Ozon no longer knows it (it stays open, and is asked
        for again next run rather than failing the stream for every other order)."""
        try:
            return self._call(operation, model, body)
        except AuthError:
            raise
        except PermanentError as exc:
            if exc.status != 404:
                raise
            logger.warning("Ozon account «%s»: %s", self.config.name, exc.message)
            return None

    def iter_sales(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[SaleDTO]]:
        """Ozon reports delivery and returns in posting statuses: no separate sales report."""
        return iter(())

    def iter_returns(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[ReturnDTO]]:
        state = dict(cursor or {})
        since = mapping.parse_datetime(state["since"]) if state.get("since") else mapping.as_utc(since)
        watermark = _wm_in(state)
        last_id = int(state.get("last_id", 0))
        horizon = self._horizon()
        while True:
            body: dict[str, Any] = {
                "filter": {"visual_status_change_moment": {"time_from": _iso(since), "time_to": _iso(horizon)}},
                "limit": RETURNS_PAGE,
                "last_id": last_id,
            }
            page = self._call("POST /v1/returns/list", s.ReturnListResponse, body)
            returns = [mapping.return_(item) for item in page.returns]
            for item in returns:
                watermark = _later(watermark, item.updated_at)
            if page.returns:
                last_id = page.returns[-1].id
            done = not page.has_next or not page.returns
            state = {"since": _iso(since), "last_id": last_id, "wm": _wm_out(watermark)}
            yield Page(returns, state, watermark, done=done)
            if done:
                return

    # ---- customers --------------------------------------------------------------------------

    def iter_reviews(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[ReviewDTO]]:
        """Ozon filters reviews by nothing but status: read newest first and stop at `since`."""
        state = dict(cursor or {})
        since = mapping.parse_datetime(state["since"]) if state.get("since") else mapping.as_utc(since)
        watermark = _wm_in(state)
        last_id = state.get("last_id", "")
        while True:
            body: dict[str, Any] = {"limit": REVIEWS_PAGE, "sort_dir": "DESC", "status": "ALL"}
            if last_id:
                body["last_id"] = last_id
            page = self._call("POST /v1/review/list", s.ReviewListResponse, body)
            fresh = [r for r in page.reviews if mapping.as_utc(r.published_at) >= since]
            reviews = [mapping.review(r) for r in fresh]
            for review in reviews:
                watermark = _later(watermark, review.published_at)
            reached_since = len(fresh) < len(page.reviews)
            last_id = page.last_id or (page.reviews[-1].id if page.reviews else last_id)
            done = reached_since or not page.has_next or not page.reviews
            state = {"since": _iso(since), "last_id": last_id, "wm": _wm_out(watermark)}
            yield Page(reviews, state, watermark, done=done)
            if done:
                return

    def iter_questions(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[QuestionDTO]]:
        state = dict(cursor or {})
        since = mapping.parse_datetime(state["since"]) if state.get("since") else mapping.as_utc(since)
        watermark = _wm_in(state)
        last_id = state.get("last_id", "")
        horizon = self._horizon()
        while True:
            body: dict[str, Any] = {
                "filter": {"date_from": _iso(since), "date_to": _iso(horizon), "status": "ALL"},
                "limit": QUESTIONS_PAGE,
                "sort_dir": "ASC",
            }
            if last_id:
                body["last_id"] = last_id
            page = self._call("POST /v1/question/list", s.QuestionListResponse, body)
            questions = [mapping.question(q) for q in page.questions]
            for question in questions:
                watermark = _later(watermark, question.published_at)
            last_id = page.last_id or (page.questions[-1].id if page.questions else last_id)
            done = not page.has_next or not page.questions
            state = {"since": _iso(since), "last_id": last_id, "wm": _wm_out(watermark)}
            yield Page(questions, state, watermark, done=done)
            if done:
                return

    # ---- promotions -------------------------------------------------------------------------

    def iter_promotions(self) -> Iterator[Page[PromotionDTO]]:
        actions = self._call("GET /v1/actions", s.ActionListResponse, method="GET").result
        yield Page([mapping.promotion(a) for a in actions], {}, done=True)

    def iter_promotion_offers(
        self, promotion_external_id: str, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[PromotionOfferDTO]]:
        """Candidates first, then participants: an item Ozon lists in both ends up participating."""
        state = dict(cursor or {})
        parts = [("eligible", "POST /v1/actions/candidates"), ("participating", "POST /v1/actions/products")]
        start = 1 if state.get("part") == "participating" else 0
        action_id = _money_number(Decimal(promotion_external_id))
        for index in range(start, len(parts)):
            status, operation = parts[index]
            last_id: Any = state.get("last_id") if index == start else None
            while True:
                body: dict[str, Any] = {"action_id": action_id, "limit": ACTION_PRODUCTS_PAGE}
                if last_id:
                    body["last_id"] = last_id
                result = self._call(operation, s.ActionProductsResponse, body).result
                offers = [mapping.promotion_offer(promotion_external_id, p, status) for p in result.products]
                new_last = _money_number(Decimal(str(result.last_id))) if result.last_id not in (None, "") else None
                finished = not result.products or not new_last or len(result.products) < ACTION_PRODUCTS_PAGE
                last_part = index == len(parts) - 1
                if finished:
                    next_state = {"part": parts[index + 1][0], "last_id": None} if not last_part else {"part": status}
                else:
                    last_id = new_last
                    next_state = {"part": status, "last_id": last_id}
                yield Page(offers, next_state, done=finished and last_part)
                if finished:
                    break

    # ---- finance ----------------------------------------------------------------------------

    def iter_finance(
        self, since: datetime, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[FinanceOperationDTO]]:
        """Month-sized windows from `since`, each read page by page (sequentially, as Ozon asks)."""
        state = dict(cursor or {})
        since = mapping.parse_datetime(state["since"]) if state.get("since") else mapping.as_utc(since)
        watermark = _wm_in(state)
        window_start = mapping.parse_datetime(state["ws"]) if state.get("ws") else since
        page_number = int(state.get("page", 1))
        horizon = self._horizon()
        while True:
            window_end = min(window_start + FINANCE_WINDOW, horizon)
            body = {
                "filter": {
                    "date": {"from": _iso(window_start), "to": _iso(window_end)},
                    "transaction_type": "all",
                },
                "page": page_number,
                "page_size": FINANCE_PAGE,
            }
            result = self._call("POST /v3/finance/transaction/list", s.FinanceResponse, body).result
            operations = [mapping.finance_operation(op) for op in result.operations]
            for operation in operations:
                watermark = _later(watermark, operation.operation_at)
            done = False
            if result.operations and page_number < result.page_count:
                page_number += 1
            else:
                page_number = 1
                window_start = window_end + timedelta(seconds=1)
                done = window_start > horizon
            state = {"since": _iso(since), "ws": _iso(window_start), "page": page_number, "wm": _wm_out(watermark)}
            yield Page(operations, state, watermark, done=done)
            if done:
                return

    # ---- writes -----------------------------------------------------------------------------

    def update_prices(self, updates: Sequence[PriceUpdate]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        for chunk in _chunks(list(enumerate(updates)), PRICES_BATCH):
            latest = {u.offer_id: u for _, u in chunk}  # one row per article; the last value wins
            body = {"prices": [_price_row(u) for u in latest.values()]}
            answer = self._call("POST /v1/product/import/prices", s.PriceImportResponse, body)
            by_offer = {row.offer_id: row for row in answer.result}
            for index, update in chunk:
                results[index] = _item_result(update.key, by_offer.get(update.offer_id), limits.PRICE_PER_ITEM)
        return [results[i] for i in range(len(updates))]

    def update_stocks(self, updates: Sequence[StockUpdate]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        sendable: list[tuple[int, StockUpdate]] = []
        for index, update in enumerate(updates):
            problem = _stock_problem(update)
            if problem:
                results[index] = WriteResult(update.key, WriteStatus.REJECTED, problem)
            else:
                sendable.append((index, update))
        for chunk in _chunks(sendable, STOCKS_BATCH):
            # A pair may be updated once in 30 s: send each (product, warehouse) once, last value wins.
            latest = {(u.listing_external_id, u.warehouse_external_id): u for _, u in chunk}
            body = {
                "stocks": [
                    {
                        "offer_id": u.offer_id,
                        "product_id": int(u.listing_external_id),
                        "stock": u.quantity,
                        "warehouse_id": int(u.warehouse_external_id),
                        "quant_size": 1,  # required by the schema; 1 = the regular (not economy) product
                    }
                    for u in latest.values()
                ]
            }
            answer = self._call(
                "POST /v2/products/stocks",
                s.StockImportResponse,
                body,
                extra_bucket=(self._stocks_key, limits.STOCKS_UPDATE),
            )
            by_pair = {}
            for row in answer.result:
                by_pair[(str(row.product_id or ""), str(row.warehouse_id or ""))] = row
                by_pair[(row.offer_id, str(row.warehouse_id or ""))] = row
            for index, update in chunk:
                found = by_pair.get((update.listing_external_id, update.warehouse_external_id)) or by_pair.get(
                    (update.offer_id, update.warehouse_external_id)
                )
                results[index] = _item_result(update.key, found, limits.STOCK_PER_ITEM)
        return [results[i] for i in range(len(updates))]

    def update_listing_content(self, updates: Sequence[ContentUpdate]) -> list[WriteResult]:
        """Ozon applies characteristic updates asynchronously: ACCEPTED with the task id. Photos go
        with pictures/import per card (the whole set, the first the main one); a refusal of the
        photos is the card's result."""
        results: dict[int, WriteResult] = {}
        sendable = []
        for index, update in enumerate(updates):
            if update.title is None and update.description is None and not update.attributes:
                if update.images is None:
                    results[index] = WriteResult(update.key, WriteStatus.APPLIED, "nothing to change")
                continue
            sendable.append((index, update))
        for chunk in _chunks(sendable, CONTENT_BATCH):
            latest = {u.offer_id: u for _, u in chunk}
            body = {"items": [_content_row(u) for u in latest.values()]}
            task = self._call("POST /v1/product/attributes/update", s.AttributesUpdateResponse, body)
            for index, update in chunk:
                results[index] = WriteResult(update.key, WriteStatus.ACCEPTED, remote_ref=str(task.task_id))
        for index, update in enumerate(updates):
            if update.images is None:
                continue
            refused = self._import_pictures(update)
            if refused is not None:
                results[index] = refused
            elif index not in results:
                results[index] = WriteResult(update.key, WriteStatus.APPLIED)
        return [results[i] for i in range(len(updates))]

    def _import_pictures(self, update: ContentUpdate) -> WriteResult | None:
        """Send a card's photos; the refusal as the card's result, None when they are taken."""
        if not update.listing_external_id.isdigit():
            return WriteResult(update.key, WriteStatus.REJECTED, "Ozon needs the product id to upload photos")
        body = {"product_id": int(update.listing_external_id), "images": list(update.images or ())}
        try:
            self._call("POST /v1/product/pictures/import", s.PicturesImportResponse, body)
        except AuthError:
            raise
        except PermanentError as exc:
            return WriteResult(update.key, WriteStatus.REJECTED, exc.message)
        return None

    def fetch_write_results(self, remote_ref: str) -> list[WriteResult] | None:
        """Outcome of a characteristics update task, keyed by the article (None while pending)."""
        if not remote_ref.isdigit():
            raise PermanentError(f"Ozon: {remote_ref!r} is not an import task id")
        info = self._call("POST /v1/product/import/info", s.ImportInfoResponse, {"task_id": int(remote_ref)})
        items = info.result.items
        if not items or any(item.status in {"", "pending"} for item in items):
            return None
        outcome = []
        for item in items:
            if item.status == "failed" or any(e.code for e in item.errors if item.status != "imported"):
                message = "; ".join(_join(e.code, e.description or e.message) for e in item.errors) or item.status
                outcome.append(WriteResult(item.offer_id, WriteStatus.REJECTED, message))
            else:
                outcome.append(WriteResult(item.offer_id, WriteStatus.APPLIED))
        return outcome

    def answer_review(self, key: str, review_external_id: str, text: str) -> WriteResult:
        body = {"review_id": review_external_id, "text": text, "mark_review_as_processed": True}
        try:
            answer = self._call("POST /v1/review/comment/create", s.CommentCreateResponse, body)
        except AuthError:
            raise
        except PermanentError as exc:
            return WriteResult(key, WriteStatus.REJECTED, exc.message)
        return WriteResult(key, WriteStatus.APPLIED, remote_ref=answer.comment_id)

    def answer_question(self, key: str, question_external_id: str, text: str, sku: str = "") -> WriteResult:
        if not sku.isdigit():
            return WriteResult(key, WriteStatus.REJECTED, "Ozon needs the question's SKU to answer it")
        body = {"question_id": question_external_id, "sku": int(sku), "text": text}
        try:
            answer = self._call("POST /v1/question/answer/create", s.AnswerCreateResponse, body)
        except AuthError:
            raise
        except PermanentError as exc:
            return WriteResult(key, WriteStatus.REJECTED, exc.message)
        return WriteResult(key, WriteStatus.APPLIED, remote_ref=answer.answer_id)

    def join_promotion(self, promotion_external_id: str, items: Sequence[PromotionItem]) -> list[WriteResult]:
        def row(item: PromotionItem) -> dict[str, Any]:
            data: dict[str, Any] = {
                "product_id": int(item.offer_key),
                "action_price": _money_number(item.action_price or Decimal(0)),
            }
            if item.stock is not None:
                data["stock"] = item.stock
            return data

        def problem(item: PromotionItem) -> str:
            if not item.offer_key.isdigit():
                return f"{item.offer_key!r} is not an Ozon product id"
            return "" if item.action_price is not None else "Ozon needs a promotion price to add a product"

        return self._promotion_change(
            "POST /v1/actions/products/activate", promotion_external_id, items, problem,
            lambda chunk: {"products": [row(i) for i in chunk]},
        )

    def leave_promotion(self, promotion_external_id: str, items: Sequence[PromotionItem]) -> list[WriteResult]:
        def problem(item: PromotionItem) -> str:
            return "" if item.offer_key.isdigit() else f"{item.offer_key!r} is not an Ozon product id"

        return self._promotion_change(
            "POST /v1/actions/products/deactivate", promotion_external_id, items, problem,
            lambda chunk: {"product_ids": [int(i.offer_key) for i in chunk]},
        )

    def _promotion_change(
        self,
        operation: str,
        promotion_external_id: str,
        items: Sequence[PromotionItem],
        problem: Any,
        payload: Any,
    ) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        sendable = []
        for index, item in enumerate(items):
            reason = problem(item)
            if reason:
                results[index] = WriteResult(item.key, WriteStatus.REJECTED, reason)
            else:
                sendable.append((index, item))
        action_id = _money_number(Decimal(promotion_external_id))
        for chunk in _chunks(sendable, ACTION_BATCH):
            latest = {i.offer_key: i for _, i in chunk}
            body = {"action_id": action_id, **payload(list(latest.values()))}
            answer = self._call(operation, s.ActionChangeResponse, body).result
            done = {mapping.number_id(pid) for pid in answer.product_ids}
            rejected = {mapping.number_id(r.product_id): r.reason for r in answer.rejected}
            for index, item in chunk:
                if item.offer_key in done:
                    results[index] = WriteResult(item.key, WriteStatus.APPLIED)
                else:
                    reason = rejected.get(item.offer_key) or "Ozon did not confirm this product"
                    results[index] = WriteResult(item.key, WriteStatus.REJECTED, reason)
        return [results[i] for i in range(len(items))]


# ---- helpers --------------------------------------------------------------------------------


def _is_credential_refusal(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in ("api-key", "api key", "client-id", "offer not signed", "token"))


def _follow_chunks(refs: Sequence[OpenOrderRef], size: int) -> Iterator[list[OpenOrderRef]]:
    """Consecutive refs (oldest first), at most `size` a chunk and a padded span within a year."""
    span = POSTING_WINDOW - 2 * FOLLOW_WINDOW_PAD
    chunk: list[OpenOrderRef] = []
    for ref in refs:
        if chunk and (len(chunk) == size or ref.ordered_at - chunk[0].ordered_at > span):
            yield chunk
            chunk = []
        chunk.append(ref)
    if chunk:
        yield chunk


def _missing(chunk: Sequence[OpenOrderRef], found: Sequence[OrderDTO]) -> list[OpenOrderRef]:
    seen = {order.external_id for order in found}
    return [ref for ref in chunk if ref.external_id not in seen]


def _follow_window(chunk: Sequence[OpenOrderRef]) -> tuple[datetime, datetime]:
    oldest = mapping.as_utc(chunk[0].ordered_at) - FOLLOW_WINDOW_PAD
    return oldest.replace(microsecond=0), mapping.as_utc(chunk[-1].ordered_at) + FOLLOW_WINDOW_PAD


def _order_number(posting_number: str) -> str:
    """Ozon numbers a posting `<order number>-<n>` (e.g. 0208245774-0029-1 of order 0208245774-0029).
    A number of another shape is used as it is: the list then misses it and it is looked up."""
    head, dash, _ = posting_number.rpartition("-")
    return head if dash and "-" in head else posting_number


def _join(code: str, message: str) -> str:
    return f"{code}: {message}" if code and message else (code or message)


def _item_result(key: str, row: s.PriceImportResult | s.StockImportResult | None, rule: ItemLimit) -> WriteResult:
    if row is None:
        return WriteResult(key, WriteStatus.REJECTED, "Ozon returned no result for this item")
    if row.errors or not row.updated:
        message = "; ".join(_join(e.code, e.message) for e in row.errors) or "not updated"
        if row.errors and all(_is_item_rate_limit(e) for e in row.errors):
            # Written too often: the value is fine, it goes again when the item's window has room.
            return WriteResult(key, WriteStatus.DEFERRED, message, retry_after=rule.period / rule.count)
        return WriteResult(key, WriteStatus.REJECTED, message)
    return WriteResult(key, WriteStatus.APPLIED)


def _is_item_rate_limit(error: s.ItemError) -> bool:
    """TOO_MANY_REQUESTS (stocks), or the prices' "error limiting: acquire limit per item: items
    limit: limit exceeded" and "Stock is updated too frequently" texts of the spec's error table."""
    text = f"{error.code} {error.message}".lower()
    return "too_many_requests" in text or "limit per item" in text or "updated too frequently" in text


def _price_row(update: PriceUpdate) -> dict[str, Any]:
    row: dict[str, Any] = {
        "offer_id": update.offer_id,
        "price": _money_text(update.price),
        "currency_code": update.currency or "RUB",
    }
    old_price = update.old_price
    if old_price is None and update.discount_percent:
        # Ozon has no discount field: the strikethrough price carries it.
        old_price = (update.price * 100 / (100 - update.discount_percent)).quantize(Decimal("1"))
    if old_price is not None:
        row["old_price"] = _money_text(old_price)
    if update.min_price is not None:
        row["min_price"] = _money_text(update.min_price)
    return row


def _stock_problem(update: StockUpdate) -> str:
    if update.warehouse_external_id == mapping.FBO_WAREHOUSE_ID:
        return "FBO stock is kept by Ozon and cannot be set"
    if not update.listing_external_id.isdigit() or not update.warehouse_external_id.isdigit():
        return "Ozon needs the product id and the warehouse id to set a stock"
    if update.quantity < 0:
        return "stock cannot be negative"
    return ""


def _content_row(update: ContentUpdate) -> dict[str, Any]:
    attributes = []
    if update.title is not None:
        attributes.append({"id": mapping.NAME_ATTRIBUTE_ID, "complex_id": 0, "values": [{"value": update.title}]})
    if update.description is not None:
        attributes.append(
            {"id": mapping.DESCRIPTION_ATTRIBUTE_ID, "complex_id": 0, "values": [{"value": update.description}]}
        )
    sent = {mapping.NAME_ATTRIBUTE_ID, mapping.DESCRIPTION_ATTRIBUTE_ID}
    for attribute_id, _name, value in update.attributes or ():
        # The title and description fields win over the same characteristics given again.
        if attribute_id.isdigit() and int(attribute_id) not in sent:
            sent.add(int(attribute_id))
            attributes.append({"id": int(attribute_id), "complex_id": 0, "values": [{"value": value}]})
    return {"offer_id": update.offer_id, "attributes": attributes}
