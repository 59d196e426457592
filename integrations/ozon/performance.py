"""Ozon advertising statistics per product and day from the Ozon Performance API, a service apart
from the Seller API with its own host and credentials.

Source: Ozon Performance API OpenAPI document 2.0 (docs.ozon.ru/api/performance, as vendored with the
public Go client QuoVadis86/go-ozon-performance `swagger.json`, 2026-08); the excerpt this adapter and
the sandbox are checked against is `integrations/specs/ozon/performance.json` (see SOURCES.md there).

- Auth: POST /api/client/token {client_id, client_secret, grant_type: "client_credentials"} →
  {access_token, expires_in (seconds, ~1800), token_type: "Bearer"}; every other call sends
  `Authorization: Bearer <token>`; a new token is fetched when it is about to expire or a call
  answers 401. The credentials (seller cabinet → Settings → API keys → Performance API) are kept
  encrypted on the Ozon account beside the Seller API key; without them the ads stream is "not
  available for this account".
- Campaigns: GET /api/client/campaign?advObjectType=SKU → {list[]{id, title, state, advObjectType,
  paymentType, …}}: the pay-per-click product campaigns, whose spend is per product.
- Statistics: POST /api/client/statistics/products/sku {campaignIds[], dateFrom, dateTo} →
  {rows[]{campaignId, date, sku, views, clicks, orders, expense, sales, …}} (numbers and money as
  strings, roubles). Synchronous JSON, and it "does not consume the Performance API's limits"; its
  `dateFrom` may not be earlier than the day before, so each run reads yesterday and today
  (the stream runs several times a day so yesterday's final figures are read on the day after).
- Limits: 100,000 requests a day per account (tag Limits); the report exports' own limits do not
  apply to the methods above.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import Field, ValidationError

from core.money import MoneyParseError, to_decimal
from integrations.base import (
    AccountConfig,
    AdStatDTO,
    MarketplaceError,
    NotAvailableError,
    Page,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from integrations.http import HttpCore, describe_validation
from integrations.limiter import Clock, Limiter, LimitRule
from integrations.payloads import parse_json, payload

M = TypeVar("M")

BASE_URL = "https://api-performance.ozon.ru"
# "Общий лимит запросов в сутки — 100 000" (tag Limits), with a small burst.
DAILY = LimitRule(rate=100_000, period=86_400.0, burst=5)
CAMPAIGNS_PER_REQUEST = 10  # as the statistics reports take them ("Лимит на количество кампаний в отчёте — 10")
TOKEN_MARGIN = 60.0  # seconds before its expiry a token is replaced
CENT = Decimal("0.01")
NO_CREDENTIALS = "Ozon Performance API credentials (client id and secret) are not set for this account"


@payload
class Token:
    access_token: str
    expires_in: int = 1800
    token_type: str = "Bearer"


@payload
class Campaign:  # extcampaignCampaignInList
    id: str | int  # uint64 as a string in the spec
    title: str = ""
    state: str = ""
    advObjectType: str = ""
    paymentType: str = ""


@payload
class CampaignList:  # extcampaignCampaignsList
    items: list[Campaign] = Field(default_factory=list, alias="list")


# The spec gives uint64 counts and money as strings; numbers are taken too, in case the API sends them.
Number = str | int | float


@payload
class SkuRow:  # SearchPromoProductsSKUStatisticsResponseRow
    campaignId: str | int
    date: str
    sku: str | int
    views: Number = "0"
    clicks: Number = "0"
    orders: Number = "0"
    expense: Number = "0"
    sales: Number = "0"


@payload
class SkuRows:  # extstatisticsSearchPromoProductsSKUStatisticsResponse
    rows: list[SkuRow] = Field(default_factory=list)


@payload
class ErrorBody:  # rpcStatus
    error: str = ""


class PerformanceClient:
    """The few Performance API calls the ads stream needs, with its own bearer token."""

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
        self.client_id = config.secrets.get("performance_client_id", "")
        self._secret = config.secrets.get("performance_client_secret", "")
        self.base_url = (config.base_url or BASE_URL).rstrip("/")
        self.http = HttpCore(config, classify=self._classify, transport=transport, clock=clock, limiter=limiter,
                             max_retries=max_retries)
        self._limit_key = f"ozon-performance:{self.client_id or config.account_id or config.name}"
        self._token = ""
        self._token_until = 0.0

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self._secret)

    def close(self) -> None:
        self.http.close()

    def _classify(self, response: httpx.Response) -> MarketplaceError | None:
        status = response.status_code
        if status < 400:
            return None
        try:
            message = parse_json(ErrorBody, response.content).error
        except (ValueError, ValidationError):
            message = response.text[:200]
        if self._secret:
            message = message.replace(self._secret, "***")
        where = f"Ozon Performance {response.request.method} {response.request.url.path}" if response.request else ""
        if status == 429:
            header = response.headers.get("Retry-After", "")
            wait = float(header) if header.strip().isdigit() else 1.0
            return RateLimitedError(f"{where}: rate limited ({message})", status=status, retry_after=wait)
        if status in (401, 403):
            # The Performance credentials or token were refused: the Seller API account is not at fault.
            return NotAvailableError(f"{where}: HTTP {status}: {message}", status=status, code="auth")
        if status >= 500 or status == 408:
            return TransientError(f"{where}: HTTP {status}: {message}", status=status)
        return PermanentError(f"{where}: HTTP {status}: {message}", status=status)

    def _request(self, model: type[M], operation: str, method: str, path: str, *, headers: Mapping[str, str],
                 params: Mapping[str, Any] | None = None, body: Any = None) -> M:
        try:
            value, _ = self.http.request_json(
                method, self.base_url + path, decode=functools.partial(parse_json, model),
                limit_key=self._limit_key, rule=DAILY, headers=headers, params=params, json_body=body,
            )
        except ValidationError as exc:
            raise PermanentError(
                f"Ozon Performance {operation}: unexpected response shape ({describe_validation(exc)})"
            ) from None
        return value

    def token(self) -> str:
        """POST /api/client/token, kept until shortly before it expires."""
        now = self.http.clock.now()
        if self._token and now < self._token_until:
            return self._token
        if not self.configured:
            raise NotAvailableError(NO_CREDENTIALS, code="no_credentials")
        answer = self._request(Token, "token", "POST", "/api/client/token", headers={}, body={
            "client_id": self.client_id, "client_secret": self._secret, "grant_type": "client_credentials",
        })
        self._token = answer.access_token
        self._token_until = now + max(0.0, answer.expires_in - TOKEN_MARGIN)
        return self._token

    def _authorized(self, model: type[M], operation: str, method: str, path: str, **kwargs: Any) -> M:
        token = self.token()
        try:
            return self._request(model, operation, method, path, headers={"Authorization": f"Bearer {token}"},
                                 **kwargs)
        except NotAvailableError as exc:
            if exc.status != 401:
                raise
            self._token = ""  # expired before its time: one new token, one more try
            return self._request(model, operation, method, path,
                                 headers={"Authorization": f"Bearer {self.token()}"}, **kwargs)

    def campaigns(self) -> list[Campaign]:
        """GET /api/client/campaign?advObjectType=SKU: the pay-per-click product campaigns."""
        return self._authorized(CampaignList, "campaigns", "GET", "/api/client/campaign",
                                params={"advObjectType": "SKU"}).items

    def product_stats(self, campaign_ids: Sequence[str], begin: date, end: date) -> list[SkuRow]:
        """POST /api/client/statistics/products/sku for up to CAMPAIGNS_PER_REQUEST campaigns."""
        body = {"campaignIds": list(campaign_ids), "dateFrom": begin.isoformat(), "dateTo": end.isoformat()}
        return self._authorized(SkuRows, "product statistics", "POST", "/api/client/statistics/products/sku",
                                body=body).rows


def _count(value: Number) -> int:
    try:
        return int(to_decimal(value if value != "" else "0"))
    except (MoneyParseError, ArithmeticError):
        return 0


def _money(value: Number) -> Decimal:
    try:
        return to_decimal(value if value != "" else "0").quantize(CENT)
    except (MoneyParseError, ArithmeticError):
        return Decimal(0)


def stat_items(rows: Sequence[SkuRow], names: Mapping[str, str]) -> list[AdStatDTO]:
    """One DTO per (day, campaign, sku); rows repeated for one key are summed."""
    merged: dict[tuple[str, str, str], AdStatDTO] = {}
    for row in rows:
        campaign_id, sku = str(row.campaignId), str(row.sku)
        key = (row.date[:10], campaign_id, sku)
        item = AdStatDTO(
            day=date.fromisoformat(row.date[:10]), campaign_id=campaign_id, item_ref=sku,
            spend=_money(row.expense), views=_count(row.views), clicks=_count(row.clicks), orders=_count(row.orders),
            ordered_amount=_money(row.sales), campaign_name=names.get(campaign_id, ""),
        )
        if key in merged:
            old = merged[key]
            item = AdStatDTO(item.day, item.campaign_id, item.item_ref, old.spend + item.spend,
                             old.views + item.views, old.clicks + item.clicks, old.orders + item.orders,
                             old.ordered_amount + item.ordered_amount, item.currency, item.campaign_name)
        merged[key] = item
    return [merged[key] for key in sorted(merged)]


def iter_ad_stats(client: PerformanceClient, begin: date, end: date, cursor: dict[str, Any] | None = None
                  ) -> Iterator[Page[AdStatDTO]]:
    """Pages of up to CAMPAIGNS_PER_REQUEST campaigns' product statistics from `begin` to `end`
    (today), of which only the last two days can be asked for. Cursor: {"done": n}."""
    done = int((cursor or {}).get("done", 0))
    begin = max(begin, end - timedelta(days=1))
    campaigns = client.campaigns()
    names = {str(c.id): c.title for c in campaigns}
    ids = sorted(names, key=lambda x: (len(x), x))
    chunks = [ids[i:i + CAMPAIGNS_PER_REQUEST] for i in range(0, len(ids), CAMPAIGNS_PER_REQUEST)]
    if not chunks or begin > end:
        yield Page([], {"done": 0}, done=True)
        return
    for number, chunk in enumerate(chunks):
        if number < done:
            continue
        rows = client.product_stats(chunk, begin, end)
        yield Page(stat_items(rows, names), {"done": number + 1}, done=number + 1 == len(chunks))
