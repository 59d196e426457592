"""The Wildberries adapter: MarketplaceClient over WB's category hosts (2026-07 specs).

Each method names the spec operation it implements (integrations/specs/wildberries/NN-*.yaml).
With `config.base_url` every request goes to base_url + the official path (sandbox, proxy).
Auth is the bare token in `Authorization` (security scheme HeaderApiKey).
"""

from __future__ import annotations

import base64
import functools
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar, overload

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
from integrations.payloads import dump, parse_json, parse_python
from integrations.wildberries import categories, limits, mapping, schemas
from integrations.wildberries.limits import Bucket, Host

logger = logging.getLogger(__name__)

M = TypeVar("M")
T = TypeVar("T")

FBW_WAREHOUSE_TYPE = "Склад WB"  # statistics rows of seller warehouses duplicate FBS/DBS tasks
LEAVE_PROMOTION_UNSUPPORTED = (
    "Wildberries has no API method to remove goods from a calendar promotion; remove them in the seller cabinet"
)
_PRICE_ALREADY_SET = "already set"


class WBRequestError(PermanentError):
    """A refused request whose JSON body the caller may need (per-item stock errors arrive as 409)."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message, status=status)
        self.body = body


class WildberriesClient:
    marketplace = "wildberries"

    # Page sizes: the spec maxima, overridable per instance (tests use small pages).
    cards_page_size = limits.MAX_CARDS_PAGE
    prices_page_size = limits.MAX_PRICES_PAGE
    orders_page_size = limits.MAX_ORDERS_PAGE
    claims_page_size = limits.MAX_CLAIMS_PAGE
    feedbacks_page_size = 1000
    questions_page_size = 1000
    promotions_page_size = 1000
    # 08-promotion: goods join a calendar promotion at the price WB plans for them and cannot be removed by API.
    promotion_leave_supported = False
    promotion_price_settable = False
    # The API allows 100,000 rows, but a decoded finance row weighs ~10 KB: 10,000 keeps a page near
    # 100 MB (the daily stream makes ten times the calls at 1 a minute, still well within its day).
    finance_page_size = 10_000
    wb_stocks_page_size = 10_000
    stock_group_size = limits.MAX_WB_STOCK_NM_IDS  # cards per stocks page
    # FBS/DBS tasks carry no change time: re-read those created this long before `since` for status changes.
    assembly_lookback = timedelta(days=14)
    assembly_window = timedelta(days=30)  # the API's maximum dateFrom..dateTo span
    # Statistics are refreshed every 30 minutes; re-read an overlap so late rows are not missed.
    statistics_overlap = timedelta(minutes=30)
    # Statistics answers up to 80,000 rows at once; they are handed on in slices of this many.
    statistics_slice_rows = 5000
    statistics_max_rows = limits.STATISTICS_MAX_ROWS  # an answer shorter than this is the end of the report

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
        self._token = config.secrets.get("token", "")
        self.http = HttpCore(
            config, classify=self._classify, transport=transport, clock=clock, limiter=limiter, max_retries=max_retries
        )
        self._account_key = f"{self.marketplace}:{config.account_id or config.name}"
        self.token_type = token_type(self._token)
        self._rules = limits.rules_for(self.token_type)
        self._fbs_sale_prices: dict[int, int] = {}  # task id -> salePrice of the tasks still new, per run
        self._assembly_covered_from: datetime | None = None  # tasks created since then: re-read by iter_orders

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------------------------------
    # HTTP plumbing

    def _url(self, host: Host, path: str) -> str:
        base = self.config.base_url.rstrip("/") if self.config.base_url else host.value
        return base + path

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.http.clock.now(), UTC)

    def _call(
        self,
        method: str,
        host: Host,
        path: str,
        bucket: Bucket,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        expect_json: bool = True,
    ) -> httpx.Response:
        _, response = self._exchange(method, host, path, bucket, params, body, check_json if expect_json else _ignore)
        return response

    def _fetch(
        self,
        model: type[M],
        operation: str,
        method: str,
        host: Host,
        path: str,
        bucket: Bucket,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> M:
        """_call() with the body parsed and validated into `model` in one pass; a body cut off in
        transit is retried like a 5xx."""
        return self._fetch_with(
            functools.partial(parse_json, model), operation,
            method, host, path, bucket, params=params, body=body,
        )

    def _fetch_list(
        self,
        model: type[M],
        operation: str,
        method: str,
        host: Host,
        path: str,
        bucket: Bucket,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> list[M]:
        """_fetch() of a JSON array; an empty body is an empty list."""
        def decode(content: bytes) -> list[M]:
            return parse_json(list[model], content) if content else []  # type: ignore[valid-type]

        return self._fetch_with(decode, operation, method, host, path, bucket, params=params, body=body)

    def _fetch_with(
        self,
        decode: Callable[[bytes], T],
        operation: str,
        method: str,
        host: Host,
        path: str,
        bucket: Bucket,
        *,
        params: Mapping[str, Any] | None,
        body: Any,
    ) -> T:
        try:
            value, _ = self._exchange(method, host, path, bucket, params, body, decode)
        except ValidationError as exc:
            raise self._shape_error(operation, exc) from None
        return value

    def _exchange(
        self,
        method: str,
        host: Host,
        path: str,
        bucket: Bucket,
        params: Mapping[str, Any] | None,
        body: Any,
        decode: Callable[[bytes], T],
    ) -> tuple[T, httpx.Response]:
        limit_key, rule = f"{self._account_key}:{bucket.value}", self._rules[bucket]
        try:
            return self.http.request_json(
                method,
                self._url(host, path),
                decode=decode,
                limit_key=limit_key,
                rule=rule,
                headers={"Authorization": self._token},
                params=params,
                json_body=body,
            )
        except MarketplaceError as exc:
            # WB counts a refused request of these groups as `error_cost` requests: spend the rest
            # here, so the requests after it wait instead of running into a 429.
            refused = exc.status is not None and 400 <= exc.status < 500 and exc.status != 429
            if refused and rule.error_cost > 1 and self.http.limits_enabled:
                self.http.limiter.charge(limit_key, rule, rule.error_cost - 1, self.http.clock)
            raise

    def _parse(self, model: type[M], response: httpx.Response, operation: str) -> M:
        try:
            return parse_json(model, response.content)
        except ValidationError as exc:
            raise self._shape_error(operation, exc) from None

    @staticmethod
    def _shape_error(operation: str, exc: ValidationError) -> PermanentError:
        return PermanentError(f"Wildberries {operation}: unexpected response shape ({describe_validation(exc)})")

    def _classify(self, response: httpx.Response) -> MarketplaceError | None:
        status = response.status_code
        if status < 400:
            return None
        where = f"{response.request.method} {response.request.url.path}" if response.request else ""
        body = _json_or_none(response)
        text = self._scrub(_error_text(body) or response.reason_phrase)
        if status == 403 or (status == 401 and "scope" in text.lower()):
            # The token works, but lacks this method's category ("token scope not allowed").
            return NotAvailableError(f"Wildberries {where}: HTTP {status}: {text}", status=status)
        if status == 401:
            return AuthError(
                f"Wildberries refused the token of account {self.config.name!r} (HTTP {status}): {text}",
                status=status,
            )
        if status == 429:
            return RateLimitedError(
                f"Wildberries rate limit on {where}: {text}", status=status, retry_after=_retry_after(response)
            )
        if status >= 500:
            return TransientError(f"Wildberries {where}: HTTP {status}: {text}", status=status)
        return WBRequestError(f"Wildberries {where}: HTTP {status}: {text}", status=status, body=body)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    # ------------------------------------------------------------------------------------------
    # Auth

    def check_auth(self) -> datetime | None:
        """GET common-api /ping (01-general); the expiry is the JWT's own `exp`, decoded locally."""
        self._parse(schemas.Ping, self._call("GET", Host.COMMON, "/ping", Bucket.PING), "ping")
        # Categories are checked per service by the first sync of each stream (a refused one shows as
        # "not available"); the token's type decides its rate limits, so say it.
        self.access = [f"token_type:{token_type(self._token).value}"]
        return token_expiry(self._token)

    # ------------------------------------------------------------------------------------------
    # Reads

    def iter_warehouses(self) -> Iterator[Page[WarehouseDTO]]:
        """GET marketplace-api /api/v3/warehouses (02-items). FBW warehouses arrive with FBW stocks."""
        rows = self._seller_warehouses()
        yield Page(items=[mapping.warehouse_dto(r) for r in rows], cursor={}, done=True)

    def _seller_warehouses(self) -> list[schemas.SellerWarehouse]:
        return self._fetch_list(
            schemas.SellerWarehouse, "warehouses",
            "GET", Host.MARKETPLACE, "/api/v3/warehouses", Bucket.WAREHOUSES,
        )

    def _cards_page(self, cursor: Mapping[str, Any], limit: int) -> schemas.CardsList:
        """POST content-api /content/v2/get/cards/list (02-items), ascending so new changes come last."""
        page_cursor: dict[str, Any] = {"limit": limit}
        if cursor.get("nmID") is not None:
            page_cursor.update(updatedAt=cursor["updatedAt"], nmID=cursor["nmID"])
        body = {"settings": {"sort": {"ascending": True}, "filter": {"withPhoto": -1}, "cursor": page_cursor}}
        return self._fetch(
            schemas.CardsList, "cards list",
            "POST", Host.CONTENT, "/content/v2/get/cards/list", Bucket.CONTENT_READ, body=body,
        )

    def _iter_card_pages(self, cursor: Mapping[str, Any]) -> Iterator[tuple[list[schemas.Card], dict[str, Any], bool]]:
        """Card pages with the cursor after each; stops when `total` is below the limit asked (02-items).
        A page that cannot lead on (no cards, or the cursor it was asked with) while `total` says
        more would be asked for again forever: that stops the read with a PermanentError."""
        current = dict(cursor)
        while True:
            limit = self.cards_page_size
            page = self._cards_page(current, limit)
            done = page.cursor.total < limit
            if not done:
                _check_card_page_moves(page, current)
            if page.cards and page.cursor.nmID is not None:
                current = {"updatedAt": page.cursor.updatedAt, "nmID": page.cursor.nmID}
            yield page.cards, dict(current), done
            if done:
                return

    def fetch_categories(self, category_ids: Sequence[str]) -> list[CategoryDTO]:
        return categories.fetch_categories(self._fetch, category_ids)

    def iter_listings(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[ListingDTO]]:
        watermark = _parse_wm(cursor)
        for cards, next_cursor, done in self._iter_card_pages(cursor or {}):
            items = [mapping.listing_dto(c) for c in cards]
            watermark = _max_time(watermark, (i.updated_at for i in items))
            yield Page(items=items, cursor=next_cursor | _wm(watermark), watermark=watermark, done=done)

    def iter_prices(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[PriceDTO]]:
        """GET discounts-prices-api /api/v2/list/goods/filter (02-items), offset paging."""
        offset = int((cursor or {}).get("offset", 0))
        while True:
            limit = self.prices_page_size
            goods = self._fetch(
                schemas.GoodsList, "prices",
                "GET",
                Host.PRICES,
                "/api/v2/list/goods/filter",
                Bucket.PRICES,
                params={"limit": limit, "offset": offset},
            ).data.listGoods
            offset += len(goods)
            done = len(goods) < limit
            yield Page(items=[mapping.price_dto(g) for g in goods], cursor={"offset": offset}, done=done)
            if done:
                return

    def iter_price_quarantine(self) -> Iterator[Page[QuarantinedPriceDTO]]:
        """GET discounts-prices-api /api/v2/quarantine/goods (02-items), offset paging: price cuts WB
        holds. There is no API method to release them (the seller does it in the cabinet)."""
        offset = 0
        while True:
            limit = self.prices_page_size
            page = self._fetch(
                schemas.QuarantinePage, "price quarantine",
                "GET", Host.PRICES, "/api/v2/quarantine/goods", Bucket.PRICES,
                params={"limit": limit, "offset": offset},
            )
            goods = (page.data.quarantineGoods if page.data else None) or []
            offset += len(goods)
            done = len(goods) < limit
            items = [q for q in (mapping.quarantined_price(g) for g in goods) if q is not None]
            yield Page(items=items, cursor={"offset": offset}, done=done)
            if done:
                return

    def iter_stocks(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[StockDTO]]:
        """Stock per size (chrtId) and warehouse. Seller warehouses: POST marketplace-api
        /api/v3/stocks/{warehouseId} by chrtIds (02-items); WB warehouses: POST seller-analytics-api
        /api/analytics/v1/stocks-report/wb-warehouses by nmIds (11-analytics), one row per size and
        warehouse. Both per group of up to 1000 cards."""
        warehouses = [w for w in self._seller_warehouses() if not w.isDeleting]
        cards_cursor = dict((cursor or {}).get("cards", {}))
        group: list[schemas.Card] = []
        for cards, next_cursor, done in self._iter_card_pages(cards_cursor):
            group.extend(cards)
            if len(group) < self.stock_group_size and not done:
                continue
            items = self._seller_stocks(group, warehouses) + self._wb_stocks(group)
            yield Page(items=items, cursor={"cards": next_cursor}, done=done)
            group = []

    def _seller_stocks(self, cards: list[schemas.Card], warehouses: list[schemas.SellerWarehouse]) -> list[StockDTO]:
        chrt_to_card = {size.chrtID: card for card in cards for size in card.sizes}
        chrt_ids = list(chrt_to_card)
        items: list[StockDTO] = []
        for warehouse in warehouses:
            amounts: dict[int, int] = {}
            for chunk in _chunks(chrt_ids, limits.MAX_STOCK_CHRT_IDS):
                for row in self._fetch(
                    schemas.StocksResult, "stocks",
                    "POST", Host.MARKETPLACE, f"/api/v3/stocks/{warehouse.id}", Bucket.STOCKS, body={"chrtIds": chunk}
                ).stocks:
                    if row.chrtId in chrt_to_card:
                        amounts[row.chrtId] = row.amount
            items.extend(
                StockDTO(
                    listing_external_id=str(chrt_to_card[chrt_id].nmID),
                    offer_id=chrt_to_card[chrt_id].vendorCode,
                    warehouse_external_id=str(warehouse.id),
                    present=amount,
                    warehouse_name=warehouse.name,
                    variant_id=str(chrt_id),
                )
                for chrt_id, amount in amounts.items()
            )
        return items

    def _wb_stocks(self, cards: list[schemas.Card]) -> list[StockDTO]:
        if not cards:
            return []
        if self.token_type == limits.TokenType.BASIC:
            # 11-analytics lists this report for Personal, Service and Basic-with-secret tokens only.
            logger.info("account %s: a Basic token cannot read stock on WB warehouses", self.config.name)
            return []
        vendor_codes = {card.nmID: card.vendorCode for card in cards}
        quantities: dict[tuple[int, int, int], int] = defaultdict(int)
        names: dict[int, str] = {}
        offset = 0
        while True:
            limit = self.wb_stocks_page_size
            body = {"nmIds": list(vendor_codes), "limit": limit, "offset": offset}
            rows = self._fetch(
                schemas.WBStocksResult, "WB warehouse stocks",
                "POST", Host.ANALYTICS, "/api/analytics/v1/stocks-report/wb-warehouses", Bucket.WB_STOCKS, body=body
            ).data.items
            for row in rows:  # one row per size and warehouse
                quantities[(row.nmId, row.chrtId, row.warehouseId)] += row.quantity
                names[row.warehouseId] = row.warehouseName
            offset += len(rows)
            if len(rows) < limit:
                break
        return [
            StockDTO(
                listing_external_id=str(nm_id),
                offer_id=vendor_codes.get(nm_id, ""),
                warehouse_external_id=mapping.wb_warehouse_id(warehouse_id),
                present=amount,
                warehouse_name=names[warehouse_id],
                variant_id=str(chrt_id),
            )
            for (nm_id, chrt_id, warehouse_id), amount in quantities.items()
        ]

    # ---- orders ---------------------------------------------------------------------------------

    ORDER_PHASES = ("fbs", "dbs_new", "dbs", "fbo")

    def iter_orders(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[OrderDTO]]:
        """FBS tasks (03-orders-fbs GET /api/v3/orders + POST /api/v3/orders/status), DBS tasks
        (05-orders-dbs GET /api/v3/dbs/orders/new, GET /api/v3/dbs/orders + status/info), then FBW orders
        from statistics (12-reports GET /api/v1/supplier/orders, flag=0, paged by lastChangeDate)."""
        state = dict(cursor or {})
        watermark = _parse_wm(state) or since
        phase = state.get("phase", "fbs")
        self._assembly_covered_from = since - self.assembly_lookback  # see iter_order_updates
        if phase == "fbs":
            self._fbs_sale_prices = self._new_fbs_sale_prices()
            for items, window in self._assembly_windows("/api/v3/orders", "FBS", Bucket.FBS, since, state):
                watermark = _max_time(watermark, (o.updated_at for o in items))
                yield Page(items=items, cursor={"phase": "fbs", **window} | _wm(watermark), watermark=watermark)
            phase, state = "dbs_new", {}
        if phase == "dbs_new":
            tasks = self._fetch(
                schemas.NewAssemblyTasks, "new DBS orders",
                "GET", Host.MARKETPLACE, "/api/v3/dbs/orders/new", Bucket.DBS,
            ).orders
            items = self._with_dbs_statuses(tasks)
            watermark = _max_time(watermark, (o.updated_at for o in items))
            yield Page(items=items, cursor={"phase": "dbs"} | _wm(watermark), watermark=watermark)
            phase, state = "dbs", {}
        if phase == "dbs":
            for items, window in self._assembly_windows("/api/v3/dbs/orders", "DBS", Bucket.DBS, since, state):
                watermark = _max_time(watermark, (o.updated_at for o in items))
                yield Page(items=items, cursor={"phase": "dbs", **window} | _wm(watermark), watermark=watermark)
            phase, state = "fbo", {}
        date_from = state.get("dateFrom") or mapping.moscow_text(since - self.statistics_overlap)
        for rows, cursor_from, done in self._statistics(
            schemas.StatisticsOrder, "statistics orders", "/api/v1/supplier/orders", Bucket.STATISTICS, date_from
        ):
            items = [mapping.fbo_order_dto(r) for r in rows if r.warehouseType == FBW_WAREHOUSE_TYPE]
            del rows
            watermark = _max_time(watermark, (o.updated_at for o in items))
            yield Page(items=items, cursor={"phase": "fbo", "dateFrom": cursor_from} | _wm(watermark),
                       watermark=watermark, done=done)

    def _statistics(
        self, model: type[M], operation: str, path: str, bucket: Bucket, date_from: str
    ) -> Iterator[tuple[list[M], str, bool]]:
        """A statistics report (12-reports, flag=0) from `date_from` on: (rows, dateFrom to resume at, done).

        flag=0 answers the rows changed at or after dateFrom ("больше или равно"), at most ~80,000: the
        next request starts at the last row's full lastChangeDate, so rows sharing it come again (the
        upserts make that harmless) and none is missed. An answer shorter than the cap is the end: no
        extra request (1 a minute) only to get those boundary rows back. An answer whose rows all sit
        at dateFrom cannot be paged past: it ends the read rather than ask the same again.

        An answer is handed on in slices, each slice's models freed once mapped, so a worker never
        holds 80,000 rows as models, DTOs and a page read ahead at once. Until the last slice the
        cursor keeps this answer's dateFrom: a run stopped in between reads the answer again."""
        while True:
            rows: list[Any] = self._fetch_list(
                model, operation, "GET", Host.STATISTICS, path, bucket, params={"dateFrom": date_from, "flag": 0}
            )
            if not rows:
                yield [], date_from, True
                return
            next_from: str = rows[-1].lastChangeDate
            complete = len(rows) < self.statistics_max_rows
            if not complete and next_from == date_from:
                logger.warning("Wildberries %s: a whole answer changed at %s, cannot page past it", operation,
                               date_from)
            done = complete or next_from == date_from
            while rows:
                chunk, rows[: self.statistics_slice_rows] = rows[: self.statistics_slice_rows], []
                yield chunk, (date_from if rows else next_from), done and not rows
                del chunk
            if done:
                return
            date_from = next_from

    def _assembly_windows(
        self, path: str, scheme: str, bucket: Bucket, since: datetime, state: Mapping[str, Any]
    ) -> Iterator[tuple[list[OrderDTO], dict[str, Any]]]:
        """Pages of tasks created in [since - lookback, now], in windows of at most 30 days, `next` paging."""
        if state.get("finished"):
            return
        now = self._now()
        end = int(state.get("end") or now.timestamp())
        start = since - self.assembly_lookback
        window_from = int(state.get("from") or start.timestamp())
        window_to = int(state.get("to") or min(window_from + self.assembly_window.total_seconds(), end))
        next_value = int(state.get("next", 0))
        while True:
            limit = self.orders_page_size
            params = {"limit": limit, "next": next_value, "dateFrom": window_from, "dateTo": window_to}
            page = self._fetch(
                schemas.AssemblyTasksPage, f"{scheme} orders",
                "GET", Host.MARKETPLACE, path, bucket, params=params,
            )
            items = self._with_fbs_statuses(page.orders) if scheme == "FBS" else self._with_dbs_statuses(page.orders)
            next_value = page.next
            if len(page.orders) < limit:  # this window is finished; move to the next one
                if window_to >= end:
                    yield items, {"from": window_to, "to": window_to, "end": end, "next": 0, "finished": True}
                    return
                window_from, next_value = window_to, 0
                window_to = int(min(window_from + self.assembly_window.total_seconds(), end))
            yield items, {"from": window_from, "to": window_to, "end": end, "next": next_value}

    def _with_fbs_statuses(self, tasks: list[schemas.AssemblyTask]) -> list[OrderDTO]:
        statuses = {s.id: s for s in self._fbs_statuses([t.id for t in tasks])}
        result = []
        for task in tasks:
            status = statuses.get(task.id)
            supplier, wb = (status.supplierStatus, status.wbStatus) if status else ("", "")
            sale_price = self._fbs_sale_prices.get(task.id)
            result.append(mapping.assembly_order_dto(task, "FBS", supplier, wb, sale_price))
        return result

    def _fbs_statuses(self, task_ids: Sequence[int]) -> Iterator[schemas.FbsStatus]:
        """POST /api/v3/orders/status (03-orders-fbs), up to 1000 ids a request."""
        for chunk in _chunks(list(task_ids), limits.MAX_STATUS_IDS):
            yield from self._fetch(
                schemas.FbsStatuses, "FBS statuses",
                "POST", Host.MARKETPLACE, "/api/v3/orders/status", Bucket.FBS, body={"orders": chunk},
            ).orders

    def _new_fbs_sale_prices(self) -> dict[int, int]:
        """GET /api/v3/orders/new (03-orders-fbs): the seller's price (`salePrice`) is listed only
        here, while a task is new; one request a run, and the ingest keeps it once stored."""
        tasks = self._fetch(
            schemas.NewAssemblyTasks, "new FBS orders", "GET", Host.MARKETPLACE, "/api/v3/orders/new", Bucket.FBS,
        ).orders
        return {t.id: t.salePrice for t in tasks if t.salePrice}

    def _with_dbs_statuses(self, tasks: list[schemas.AssemblyTask]) -> list[OrderDTO]:
        statuses: dict[int, schemas.DbsStatus] = {}
        for chunk in _chunks([t.id for t in tasks], limits.MAX_STATUS_IDS):
            rows = self._fetch(
                schemas.DbsStatuses, "DBS statuses",
                "POST",
                Host.MARKETPLACE,
                "/api/marketplace/v3/dbs/orders/status/info",
                Bucket.DBS,
                body={"ordersIds": chunk},
            ).orders
            statuses.update({s.orderId: s for s in rows})
        result = []
        for task in tasks:
            status = statuses.get(task.id)
            supplier = (status.supplierStatus or "") if status else ""
            wb = (status.wbStatus or "") if status else ""
            result.append(mapping.assembly_order_dto(task, "DBS", supplier, wb))
        return result

    # ---- returns, reviews, questions ------------------------------------------------------------

    def iter_order_updates(
        self, open_orders: Sequence[OpenOrderRef], cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[OrderDTO]]:
        """Stored FBS and DBS tasks not final yet and older than the change read's window (tasks
        created within `assembly_lookback` are re-read there), by id: POST /api/v3/orders/status
        (03-orders-fbs) and POST /api/marketplace/v3/dbs/orders/status/info (05-orders-dbs), 1000
        ids a request, the fewest the limits allow. Status lookups carry no details, so the pages
        hold status-only DTOs. FBW orders are followed by the sales report (iter_sales).

        The cursor is the (ordered_at, external_id) of the last task looked up, so it survives the
        list changing between runs (it is sorted by that key)."""
        # What this run's change read covered, else (a resumed run) what any change read covers.
        covered_from = self._assembly_covered_from or self._now() - self.assembly_lookback
        schemes = ("FBS", "DBS")
        state = dict(cursor or {})
        start = schemes.index(state["scheme"]) if state.get("scheme") in schemes else 0
        for scheme in schemes[start:]:
            after = tuple(state.get("after") or ("", "")) if scheme == state.get("scheme") else ("", "")
            refs = [
                r for r in open_orders
                if r.scheme == scheme and r.ordered_at < covered_from and r.external_id.isdigit()
                and (r.ordered_at.isoformat(), r.external_id) > after
            ]
            for chunk in _chunks(refs, limits.MAX_STATUS_IDS):
                by_id = {int(r.external_id): r for r in chunk}
                items = [
                    mapping.assembly_status_dto(str(task_id), scheme, by_id[task_id].ordered_at, supplier, wb)
                    for task_id, supplier, wb in self._statuses_by_id(scheme, list(by_id))
                    if task_id in by_id
                ]
                after = (chunk[-1].ordered_at.isoformat(), chunk[-1].external_id)
                yield Page(items=items, cursor={"scheme": scheme, "after": list(after)})
        yield Page(items=[], cursor={"scheme": schemes[-1], "after": ["~", ""]}, done=True)

    def _statuses_by_id(self, scheme: str, task_ids: list[int]) -> list[tuple[int, str, str]]:
        """(task id, supplierStatus, wbStatus) of at most 1000 tasks; ids WB does not know are left out."""
        if scheme == "FBS":
            return [(s.id, s.supplierStatus, s.wbStatus) for s in self._fbs_statuses(task_ids)]
        rows = self._fetch(
            schemas.DbsStatuses, "DBS statuses",
            "POST", Host.MARKETPLACE, "/api/marketplace/v3/dbs/orders/status/info", Bucket.DBS,
            body={"ordersIds": task_ids},
        ).orders
        return [(s.orderId, s.supplierStatus or "", s.wbStatus or "") for s in rows if s.supplierStatus or s.wbStatus]

    def iter_sales(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[SaleDTO]]:
        """GET statistics-api /api/v1/supplier/sales (12-reports): buy-outs (saleID S…) and returns
        (R…) of every scheme, flag=0 paged by lastChangeDate like statistics orders, 1 request a
        minute. Rows link to their orders by srid (= rid of FBS/DBS tasks)."""
        state = dict(cursor or {})
        watermark = _parse_wm(state) or since
        date_from = state.get("dateFrom") or mapping.moscow_text(since - self.statistics_overlap)
        for rows, cursor_from, done in self._statistics(
            schemas.StatisticsSale, "statistics sales", "/api/v1/supplier/sales", Bucket.SALES, date_from
        ):
            items = [mapping.sale_dto(r) for r in rows]
            del rows
            watermark = _max_time(watermark, (i.updated_at for i in items))
            yield Page(items=items, cursor={"dateFrom": cursor_from} | _wm(watermark), watermark=watermark, done=done)

    def iter_returns(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[ReturnDTO]]:
        """GET returns-api /api/v1/claims (09-communications): open claims, then archived, offset paging.
        WB keeps 14 days and has no change-time filter, so rows older than `since` are dropped here."""
        state = dict(cursor or {})
        watermark = _parse_wm(state) or since
        archive_phases = (False, True)
        start = archive_phases.index(bool(state.get("archive", False)))
        for archive in archive_phases[start:]:
            offset = int(state.get("offset", 0)) if archive == bool(state.get("archive", False)) else 0
            while True:
                limit = self.claims_page_size
                params = {"is_archive": _bool(archive), "limit": limit, "offset": offset}
                page = self._fetch(
                    schemas.ClaimsPage, "claims",
                    "GET", Host.RETURNS, "/api/v1/claims", Bucket.RETURNS, params=params,
                )
                offset += len(page.claims)
                items = [
                    d for d in (mapping.return_dto(c) for c in page.claims) if d.updated_at and d.updated_at >= since
                ]
                watermark = _max_time(watermark, (i.updated_at for i in items))
                finished = len(page.claims) < limit or offset >= page.total
                done = finished and archive
                yield Page(
                    items=items,
                    cursor={"archive": archive, "offset": offset} | _wm(watermark),
                    watermark=watermark,
                    done=done,
                )
                if finished:
                    break

    def iter_reviews(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[ReviewDTO]]:
        """GET feedbacks-api /api/v1/feedbacks (09-communications): unanswered, then answered."""
        for rows, next_cursor, watermark, done in self._iter_feedback_like(
            "/api/v1/feedbacks", self.feedbacks_page_size, since, cursor, schemas.FeedbacksPage
        ):
            items = [mapping.review_dto(r) for r in rows]
            yield Page(items=items, cursor=next_cursor, watermark=watermark, done=done)

    def iter_questions(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[QuestionDTO]]:
        """GET feedbacks-api /api/v1/questions (09-communications): unanswered, then answered."""
        for rows, next_cursor, watermark, done in self._iter_feedback_like(
            "/api/v1/questions", self.questions_page_size, since, cursor, schemas.QuestionsPage
        ):
            items = [mapping.question_dto(r) for r in rows]
            yield Page(items=items, cursor=next_cursor, watermark=watermark, done=done)

    def _iter_feedback_like(
        self,
        path: str,
        take: int,
        since: datetime,
        cursor: Mapping[str, Any] | None,
        model: type[schemas.FeedbacksPage] | type[schemas.QuestionsPage],
    ) -> Iterator[tuple[list[Any], dict[str, Any], datetime, bool]]:
        """take/skip paging in ascending date order. WB caps `skip`, so a long list moves `dateFrom`
        to the last seen creation time and starts skipping from zero again."""
        state = dict(cursor or {})
        watermark = _parse_wm(state) or since
        phases = (False, True)
        start = phases.index(bool(state.get("answered", False)))
        for answered in phases[start:]:
            resume = answered == bool(state.get("answered", False))
            skip = int(state.get("skip", 0)) if resume else 0
            date_from = int(state.get("dateFrom", 0)) if resume and state.get("dateFrom") else int(since.timestamp())
            while True:
                params = {
                    "isAnswered": _bool(answered),
                    "take": take,
                    "skip": skip,
                    "order": "dateAsc",
                    "dateFrom": date_from,
                }
                data = self._fetch(
                    model, path.rsplit("/", 1)[-1],
                    "GET", Host.FEEDBACKS, path, Bucket.FEEDBACKS, params=params,
                ).data
                rows: list[Any] = list(getattr(data, "feedbacks", None) or getattr(data, "questions", None) or [])
                created = [mapping.require_time(r.createdDate) for r in rows]
                watermark = _max_time(watermark, created)
                skip += len(rows)
                if skip > limits.MAX_FEEDBACKS_SKIP and created:
                    date_from, skip = int(max(created).timestamp()), 0
                finished = len(rows) < take
                next_cursor = {"answered": answered, "skip": skip, "dateFrom": date_from} | _wm(watermark)
                yield rows, next_cursor, watermark, finished and answered
                if finished:
                    break

    # ---- promotions -----------------------------------------------------------------------------

    def iter_promotions(self) -> Iterator[Page[PromotionDTO]]:
        """GET dp-calendar-api /api/v1/calendar/promotions + /details (08-promotion)."""
        now = self._now()
        offset = 0
        while True:
            limit = self.promotions_page_size
            params = {
                "startDateTime": mapping.utc_text(now - timedelta(days=30)),
                "endDateTime": mapping.utc_text(now + timedelta(days=180)),
                "allPromo": "true",
                "limit": limit,
                "offset": offset,
            }
            promotions = self._fetch(
                schemas.PromotionsPage, "promotions",
                "GET", Host.CALENDAR, "/api/v1/calendar/promotions", Bucket.CALENDAR, params=params,
            ).data.promotions
            details: dict[int, schemas.PromotionDetails] = {}
            for chunk in _chunks([p.id for p in promotions], limits.MAX_PROMO_DETAILS_IDS):
                rows = self._fetch(
                    schemas.PromotionDetailsPage, "promotion details",
                    "GET",
                    Host.CALENDAR,
                    "/api/v1/calendar/promotions/details",
                    Bucket.CALENDAR,
                    params={"promotionIDs": chunk},
                ).data.promotions
                details.update({d.id: d for d in rows})
            offset += len(promotions)
            done = len(promotions) < limit
            items = [mapping.promotion_dto(p, details.get(p.id)) for p in promotions]
            yield Page(items=items, cursor={"offset": offset}, done=done)
            if done:
                return

    def iter_promotion_offers(
        self, promotion_external_id: str, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[PromotionOfferDTO]]:
        """GET /api/v1/calendar/promotions/nomenclatures (08-promotion): participating, then eligible.
        WB does not list goods of automatic promotions (422); such a promotion has no offers here."""
        state = dict(cursor or {})
        phases = (True, False)
        start = phases.index(bool(state.get("inAction", True)))
        for in_action in phases[start:]:
            offset = int(state.get("offset", 0)) if in_action == bool(state.get("inAction", True)) else 0
            while True:
                limit = self.promotions_page_size
                params = {
                    "promotionID": int(promotion_external_id),
                    "inAction": _bool(in_action),
                    "limit": limit,
                    "offset": offset,
                }
                try:
                    page = self._fetch(
                        schemas.NomenclaturesPage, "promotion goods",
                        "GET", Host.CALENDAR, "/api/v1/calendar/promotions/nomenclatures", Bucket.CALENDAR,
                        params=params,
                    )
                except WBRequestError as exc:
                    if exc.status != 422:
                        raise
                    logger.info("promotion %s: %s", promotion_external_id, exc.message)
                    yield Page(items=[], cursor={"inAction": False, "offset": 0}, done=True)
                    return
                rows = page.data.nomenclatures
                offset += len(rows)
                finished = len(rows) < limit
                items = [mapping.promotion_offer_dto(promotion_external_id, r) for r in rows]
                yield Page(
                    items=items, cursor={"inAction": in_action, "offset": offset}, done=finished and not in_action
                )
                if finished:
                    break

    # ---- finance --------------------------------------------------------------------------------

    def iter_finance(
        self, since: datetime, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[FinanceOperationDTO]]:
        """POST finance-api /api/finance/v1/sales-reports/detailed (13-finances), daily reports, rrdId paging
        until 204; money arrives as strings."""
        state = dict(cursor or {})
        watermark = _parse_wm(state) or since
        date_to = state.get("dateTo") or mapping.moscow_text(self._now())
        rrd_id = int(state.get("rrdId", 0))
        while True:
            limit = self.finance_page_size
            body = {
                "dateFrom": mapping.moscow_text(since),
                "dateTo": date_to,
                "limit": limit,
                "rrdId": rrd_id,
                "period": "daily",
            }
            # 204 with no body once the report is read to the end: an empty list.
            rows = self._fetch_list(
                schemas.SalesReportRow, "sales report",
                "POST", Host.FINANCE, "/api/finance/v1/sales-reports/detailed", Bucket.FINANCE, body=body,
            )
            items = [mapping.finance_dto(r) for r in rows]
            if rows:
                rrd_id = rows[-1].rrdId
            watermark = _max_time(watermark, (i.operation_at for i in items))
            done = len(rows) < limit
            yield Page(
                items=items,
                cursor={"rrdId": rrd_id, "dateTo": date_to} | _wm(watermark),
                watermark=watermark,
                done=done,
            )
            if done:
                return

    # ------------------------------------------------------------------------------------------
    # Writes

    def update_prices(self, updates: Sequence[PriceUpdate]) -> list[WriteResult]:
        """POST discounts-prices-api /api/v2/upload/task (02-items): asynchronous; every sent item is
        ACCEPTED with the upload id, resolved later by fetch_write_results."""
        results: dict[int, WriteResult] = {}
        payload: list[tuple[int, dict[str, int]]] = []
        for index, update in enumerate(updates):
            try:
                payload.append((index, price_payload(update)))
            except ValueError as exc:
                results[index] = WriteResult(update.key, WriteStatus.REJECTED, str(exc))
        for chunk in _chunks(payload, limits.MAX_PRICE_UPLOAD):
            body = {"data": [item for _, item in chunk]}
            try:
                response = self._call("POST", Host.PRICES, "/api/v2/upload/task", Bucket.PRICES, body=body)
            except WBRequestError as exc:
                applied = _PRICE_ALREADY_SET in exc.message.lower()
                for index, _ in chunk:
                    status = WriteStatus.APPLIED if applied else WriteStatus.REJECTED
                    results[index] = WriteResult(updates[index].key, status, exc.message)
                continue
            task = self._parse(schemas.UploadTaskResult, response, "price upload")
            if task.data is None:
                raise PermanentError(f"Wildberries price upload: no upload id ({task.errorText})")
            note = "duplicate of an earlier upload" if task.data.alreadyExists or response.status_code == 208 else ""
            for index, _ in chunk:
                results[index] = WriteResult(updates[index].key, WriteStatus.ACCEPTED, note, str(task.data.id))
        return [results[i] for i in range(len(updates))]

    def fetch_write_results(self, remote_ref: str) -> list[WriteResult] | None:
        """Outcome of a price or promotion upload: GET /api/v2/history/tasks, then per item
        GET /api/v2/history/goods/task (02-items). Result keys are the nmIDs (listing external ids)."""
        upload_id = int(remote_ref)
        task = self._fetch(
            schemas.TaskHistoryResult, "upload state",
            "GET", Host.PRICES, "/api/v2/history/tasks", Bucket.PRICES, params={"uploadID": upload_id}
        ).data
        if task is None or task.status is None:
            if self._fetch(
                schemas.BufferTaskResult, "upload buffer",
                "GET", Host.PRICES, "/api/v2/buffer/tasks", Bucket.PRICES, params={"uploadID": upload_id}
            ).data is not None:
                return None  # still processing
            raise PermanentError(f"Wildberries knows no upload {upload_id}")
        results: list[WriteResult] = []
        offset = 0
        while True:
            limit = limits.MAX_PRICES_PAGE
            params = {"uploadID": upload_id, "limit": limit, "offset": offset}
            data = self._fetch(
                schemas.GoodsHistoryResult, "upload goods",
                "GET", Host.PRICES, "/api/v2/history/goods/task", Bucket.PRICES, params=params,
            ).data
            goods = (data.historyGoods if data else None) or []
            for good in goods:
                if good.status == 2 and task.status != 4:
                    results.append(WriteResult(str(good.nmID), WriteStatus.APPLIED, remote_ref=remote_ref))
                else:
                    message = good.errorText or (
                        "upload cancelled" if task.status == 4 else f"item status {good.status}"
                    )
                    results.append(WriteResult(str(good.nmID), WriteStatus.REJECTED, message, remote_ref))
            offset += len(goods)
            if len(goods) < limit:
                return results

    def update_stocks(self, updates: Sequence[StockUpdate]) -> list[WriteResult]:
        """PUT marketplace-api /api/v3/stocks/{warehouseId} (02-items) by chrtId, 1000 per request.
        A 409 lists refused sizes; the rest of that batch is sent again without them."""
        results: dict[int, WriteResult] = {}
        by_warehouse: dict[str, list[int]] = defaultdict(list)
        for index, update in enumerate(updates):
            problem = _stock_problem(update)
            if problem:
                results[index] = WriteResult(update.key, WriteStatus.REJECTED, problem)
            else:
                by_warehouse[update.warehouse_external_id].append(index)
        for warehouse_id, indexes in by_warehouse.items():
            for chunk in _chunks(indexes, limits.MAX_STOCK_CHRT_IDS):
                results.update(self._put_stocks(warehouse_id, chunk, updates))
        return [results[i] for i in range(len(updates))]

    def _put_stocks(
        self, warehouse_id: str, indexes: list[int], updates: Sequence[StockUpdate]
    ) -> dict[int, WriteResult]:
        results: dict[int, WriteResult] = {}
        pending = list(indexes)
        while pending:
            body = {"stocks": [{"chrtId": int(updates[i].variant_id), "amount": updates[i].quantity} for i in pending]}
            try:
                self._call(
                    "PUT",
                    Host.MARKETPLACE,
                    f"/api/v3/stocks/{warehouse_id}",
                    Bucket.STOCKS,
                    body=body,
                    expect_json=False,
                )
            except WBRequestError as exc:
                refused = self._refused_sizes(exc)
                if refused is None:  # a whole-request refusal: every item gets the message
                    results.update({i: WriteResult(updates[i].key, WriteStatus.REJECTED, exc.message) for i in pending})
                    return results
                still = []
                for i in pending:
                    message = refused.get(int(updates[i].variant_id))
                    if message is None:
                        still.append(i)
                    else:
                        results[i] = WriteResult(updates[i].key, WriteStatus.REJECTED, message)
                if len(still) == len(pending):  # nothing attributable: do not loop
                    results.update({i: WriteResult(updates[i].key, WriteStatus.REJECTED, exc.message) for i in still})
                    return results
                pending = still
                continue
            results.update({i: WriteResult(updates[i].key, WriteStatus.APPLIED) for i in pending})
            return results
        return results

    @staticmethod
    def _refused_sizes(exc: WBRequestError) -> dict[int, str] | None:
        """chrtId -> WB's message from a 409 body; None when the body names no sizes."""
        if exc.status != 409 or not isinstance(exc.body, list):
            return None
        try:
            errors = parse_python(list[schemas.StockError], exc.body)
        except ValidationError:
            return None
        for error in errors:
            if error.code == "StoreIsProcessing":  # WB: "repeat in a few seconds"
                raise TransientError(f"Wildberries: {error.message}", status=409, retry_after=5.0)
        refused = {
            item.chrtId: f"{error.code}: {error.message}"
            for error in errors
            for item in (error.data or [])
            if item.chrtId is not None
        }
        return refused or None

    def update_listing_content(self, updates: Sequence[ContentUpdate]) -> list[WriteResult]:
        """POST content-api /content/v2/cards/update (02-items). WB overwrites the whole card, so each
        card is read first (cards/list by nmID) and sent back complete with the new title/description."""
        results: dict[int, WriteResult] = {}
        cards: list[tuple[int, dict[str, Any]]] = []
        for index, update in enumerate(updates):
            card = self._find_card(update.listing_external_id)
            if card is None:
                results[index] = WriteResult(update.key, WriteStatus.REJECTED, "Wildberries has no such card (nmID)")
                continue
            cards.append((index, card_payload(card, update)))
        for chunk in _chunks(cards, limits.MAX_CONTENT_UPDATE):
            body = [payload for _, payload in chunk]
            try:
                response = self._call("POST", Host.CONTENT, "/content/v2/cards/update", Bucket.CONTENT_WRITE, body=body)
            except WBRequestError as exc:
                results.update({i: WriteResult(updates[i].key, WriteStatus.REJECTED, exc.message) for i, _ in chunk})
                continue
            outcome = self._parse(schemas.ContentResult, response, "cards update")
            per_card = outcome.additionalErrors if isinstance(outcome.additionalErrors, dict) else {}
            for index, payload in chunk:
                message = per_card.get(payload["vendorCode"])
                if message:
                    results[index] = WriteResult(updates[index].key, WriteStatus.REJECTED, str(message))
                elif outcome.error and not per_card:  # a refusal of the whole request
                    results[index] = WriteResult(updates[index].key, WriteStatus.REJECTED, outcome.errorText)
                else:
                    results[index] = WriteResult(updates[index].key, WriteStatus.APPLIED)
        for index, update in enumerate(updates):
            if update.images is not None and results[index].status == WriteStatus.APPLIED:
                results[index] = self._save_media(update)
        return [results[i] for i in range(len(updates))]

    def _save_media(self, update: ContentUpdate) -> WriteResult:
        """POST content-api /content/v3/media/save (02-items): the links replace the card's photos."""
        body = {"nmId": int(update.listing_external_id), "data": list(update.images or ())}
        try:
            response = self._call("POST", Host.CONTENT, "/content/v3/media/save", Bucket.CONTENT_READ, body=body)
        except WBRequestError as exc:
            return WriteResult(update.key, WriteStatus.REJECTED, exc.message)
        outcome = self._parse(schemas.ContentResult, response, "media save")
        if outcome.error:
            return WriteResult(update.key, WriteStatus.REJECTED, outcome.errorText or "Wildberries refused the photos")
        return WriteResult(update.key, WriteStatus.APPLIED)

    def _find_card(self, nm_id: str) -> schemas.Card | None:
        body = {
            "settings": {
                "filter": {"withPhoto": -1, "textSearch": nm_id},
                "cursor": {"limit": limits.MAX_CARDS_PAGE},
            }
        }
        cards = self._fetch(
            schemas.CardsList, "cards list",
            "POST", Host.CONTENT, "/content/v2/get/cards/list", Bucket.CONTENT_READ, body=body,
        ).cards
        return next((c for c in cards if str(c.nmID) == nm_id), None)

    def answer_review(self, key: str, review_external_id: str, text: str) -> WriteResult:
        """POST feedbacks-api /api/v1/feedbacks/answer (09-communications) -> 204. WB does not check the
        id, so only a read-back proves the answer landed."""
        try:
            self._call(
                "POST",
                Host.FEEDBACKS,
                "/api/v1/feedbacks/answer",
                Bucket.FEEDBACKS,
                body={"id": review_external_id, "text": text},
                expect_json=False,
            )
        except WBRequestError as exc:
            return WriteResult(key, WriteStatus.REJECTED, exc.message)
        return WriteResult(key, WriteStatus.APPLIED)

    def answer_question(self, key: str, question_external_id: str, text: str, sku: str = "") -> WriteResult:
        """PATCH feedbacks-api /api/v1/questions {id, answer{text}, state: wbRu} (09-communications)."""
        body = {"id": question_external_id, "answer": {"text": text}, "state": "wbRu"}
        try:
            response = self._call("PATCH", Host.FEEDBACKS, "/api/v1/questions", Bucket.FEEDBACKS, body=body)
        except WBRequestError as exc:
            return WriteResult(key, WriteStatus.REJECTED, exc.message)
        if response.content:
            outcome = self._parse(schemas.FeedbacksError, response, "question answer")
            if outcome.error:
                return WriteResult(key, WriteStatus.REJECTED, outcome.errorText)
        return WriteResult(key, WriteStatus.APPLIED)

    def join_promotion(self, promotion_external_id: str, items: Sequence[PromotionItem]) -> list[WriteResult]:
        """POST dp-calendar-api /api/v1/calendar/promotions/upload (08-promotion): an upload tracked like
        a price upload (ACCEPTED + upload id). WB sets the promotion price itself; action_price is unused."""
        results: dict[int, WriteResult] = {}
        valid = []
        for index, item in enumerate(items):
            if item.offer_key.isdigit():
                valid.append(index)
            else:
                results[index] = WriteResult(item.key, WriteStatus.REJECTED, "offer_key must be a WB nmID")
        for chunk in _chunks(valid, limits.MAX_PROMO_NOMENCLATURES):
            body = {
                "data": {
                    "promotionID": int(promotion_external_id),
                    "uploadNow": True,
                    "nomenclatures": [int(items[i].offer_key) for i in chunk],
                }
            }
            try:
                response = self._call(
                    "POST", Host.CALENDAR, "/api/v1/calendar/promotions/upload", Bucket.CALENDAR, body=body
                )
            except WBRequestError as exc:
                results.update({i: WriteResult(items[i].key, WriteStatus.REJECTED, exc.message) for i in chunk})
                continue
            upload = self._parse(schemas.PromoUploadResult, response, "promotion upload").data
            note = "duplicate of an earlier upload" if upload.alreadyExists else ""
            results.update(
                {i: WriteResult(items[i].key, WriteStatus.ACCEPTED, note, str(upload.uploadID)) for i in chunk}
            )
        return [results[i] for i in range(len(items))]

    def leave_promotion(self, promotion_external_id: str, items: Sequence[PromotionItem]) -> list[WriteResult]:
        """08-promotion has no method to remove goods from a promotion: nothing is sent."""
        return [WriteResult(item.key, WriteStatus.REJECTED, LEAVE_PROMOTION_UNSUPPORTED) for item in items]


# ---------------------------------------------------------------------------------------------
# Payload builders and helpers


def price_payload(update: PriceUpdate) -> dict[str, int]:
    """Canonical price (what the buyer pays after the seller discount) -> WB's whole-rouble list price and
    whole-percent discount. Raises ValueError for what WB cannot represent."""
    if not update.listing_external_id.isdigit():
        raise ValueError("listing_external_id must be a WB nmID")
    if update.price <= 0:
        raise ValueError("price must be positive")
    if update.discount_percent is not None:
        discount = update.discount_percent
    elif update.old_price and update.old_price > update.price:
        discount = int(((1 - update.price / update.old_price) * 100).to_integral_value(ROUND_HALF_UP))
    else:
        discount = 0
    if not 0 <= discount <= 99:
        raise ValueError("discount must be between 0 and 99 %")
    list_price = update.old_price if update.old_price else update.price * 100 / (100 - discount)
    return {
        "nmID": int(update.listing_external_id),
        "price": int(Decimal(list_price).to_integral_value(ROUND_HALF_UP)),
        "discount": discount,
    }


def card_payload(card: schemas.Card, update: ContentUpdate) -> dict[str, Any]:
    """The complete card WB expects back, with the changed fields replaced."""
    payload: dict[str, Any] = {
        "nmID": card.nmID,
        "vendorCode": card.vendorCode,
        "brand": card.brand,
        "title": update.title if update.title is not None else card.title,
        "description": update.description if update.description is not None else card.description,
        "characteristics": _characteristics(card, update),
        "sizes": [
            {"chrtID": s.chrtID, "techSize": s.techSize, "wbSize": s.wbSize, "skus": list(s.skus)} for s in card.sizes
        ],
    }
    if card.dimensions is not None:
        dims = dump(card.dimensions, exclude_none=True)
        if "weightBrutto" in dims:
            dims["weightBrutto"] = float(dims["weightBrutto"])  # JSON number; WB allows 3 decimals
        payload["dimensions"] = dims
    return payload


def _characteristics(card: schemas.Card, update: ContentUpdate) -> list[dict[str, Any]]:
    """The card's characteristics with those of the update replacing them by id (the rest kept: WB
    overwrites the whole set). A number stays a number where the card has one; other values go as a list of texts."""
    current = {c.id: c.value for c in card.characteristics}
    for attribute_id, _name, text in update.attributes or ():
        if not attribute_id.isdigit():
            continue
        charc_id, old = int(attribute_id), current.get(int(attribute_id))
        number = _number(text)
        if number is not None and isinstance(old, int | float) and not isinstance(old, bool):
            current[charc_id] = number
        else:
            current[charc_id] = [part.strip() for part in text.split(",") if part.strip()]
    return [{"id": charc_id, "value": value} for charc_id, value in current.items()]


def _number(text: str) -> int | float | None:
    try:
        value = float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _check_card_page_moves(page: schemas.CardsList, asked: Mapping[str, Any]) -> None:
    where = f"after nmID {asked.get('nmID')} updated {asked.get('updatedAt')}" if asked.get("nmID") else "first page"
    if not page.cards:
        raise PermanentError(
            f"Wildberries cards list: an empty page ({where}) while total={page.cursor.total} says there are more;"
            " stopped instead of asking for it again"
        )
    if page.cursor.nmID is None or (
        page.cursor.nmID == asked.get("nmID") and page.cursor.updatedAt == asked.get("updatedAt")
    ):
        raise PermanentError(
            f"Wildberries cards list: the cursor did not move ({where}, total={page.cursor.total});"
            " stopped instead of asking for the same page again"
        )


def _stock_problem(update: StockUpdate) -> str:
    if update.warehouse_external_id.startswith("wb:"):
        return "stock on Wildberries warehouses (FBW) is managed by Wildberries"
    if not update.warehouse_external_id.isdigit():
        return "warehouse_external_id must be a WB seller warehouse id"
    if not update.variant_id.isdigit():
        return "a WB size id (chrtId) is required for a stock update"
    if not 0 <= update.quantity <= 100_000:
        return "stock must be between 0 and 100000"
    return ""


def _token_claims(token: str) -> dict[str, Any]:
    """The payload of a WB JWT, read locally (the token is never sent anywhere for this)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def token_expiry(token: str) -> datetime | None:
    """The `exp` claim of a WB JWT."""
    try:
        return datetime.fromtimestamp(int(_token_claims(token)["exp"]), UTC)
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        return None


def token_type(token: str) -> limits.TokenType:
    """The token's type from its `acc` claim (WB's knowledge base, "Работа с токенами для партнёрских
    сервисов": 1 Basic, 2 Test, 3 Personal, 4 Service); Personal when the claim is absent."""
    acc = _token_claims(token).get("acc")
    if isinstance(acc, int) and not isinstance(acc, bool):
        return limits.TOKEN_TYPES.get(acc, limits.TokenType.PERSONAL)
    return limits.TokenType.PERSONAL



def _ignore(content: bytes) -> None:
    """A body nobody reads (204s, text answers)."""


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _error_text(body: Any) -> str:
    """WB's message from any of its error shapes: {errorText}, {code, message}, problem+json, [{...}]."""
    if isinstance(body, list) and body:
        return "; ".join(filter(None, (_error_text(item) for item in body)))
    if not isinstance(body, dict):
        return ""
    for key in ("errorText", "message", "detail", "title", "errors"):
        value = body.get(key)
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        if value:
            code = body.get("code")
            return f"{code}: {value}" if isinstance(code, str) and code and key == "message" else str(value)
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    for header in ("X-Ratelimit-Retry", "X-Ratelimit-Reset", "Retry-After"):
        value = response.headers.get(header)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                continue
    return None


@overload
def _max_time(current: datetime, values: Iterable[datetime | None]) -> datetime: ...
@overload
def _max_time(current: None, values: Iterable[datetime | None]) -> datetime | None: ...
@overload
def _max_time(current: datetime | None, values: Iterable[datetime | None]) -> datetime | None: ...
def _max_time(current: datetime | None, values: Iterable[datetime | None]) -> datetime | None:
    for value in values:
        if value is not None and (current is None or value > current):
            current = value
    return current


def _wm(watermark: datetime | None) -> dict[str, Any]:
    return {"wm": watermark.isoformat()} if watermark else {}


def _parse_wm(cursor: Mapping[str, Any] | None) -> datetime | None:
    value = (cursor or {}).get("wm")
    return datetime.fromisoformat(value) if value else None
