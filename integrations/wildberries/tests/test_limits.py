"""WB's rate-limit accounting: a 4xx answer of a marketplace method costs 10 requests, and a Basic
token has lower limits than a Personal one (the `acc` claim of the JWT says which it is). First the
sandbox (it must count as the specs say), then the adapter's limiter against it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from integrations.base import StockUpdate, WriteStatus
from integrations.limiter import FakeClock, LocalLimiter, SystemClock
from integrations.sandbox import wildberries as wb_sandbox
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.credentials import WB_BASIC_TOKEN, WB_TOKEN
from integrations.sandbox.world import SandboxWorld
from integrations.wildberries import limits
from integrations.wildberries.client import WildberriesClient, token_type

from .conftest import SANDBOX_URL, account


def _http(sandbox_app: SandboxApp, token: str = WB_TOKEN) -> httpx.Client:
    return httpx.Client(transport=SandboxTransport(sandbox_app), base_url=SANDBOX_URL,
                        headers={"Authorization": token})


def test_the_token_type_is_read_from_the_acc_claim_of_the_jwt() -> None:
    assert token_type(WB_TOKEN) == limits.TokenType.PERSONAL
    assert token_type(WB_BASIC_TOKEN) == limits.TokenType.BASIC
    assert token_type("a.eyJleHAiOjE4MDAwMDAwMDB9.c") == limits.TokenType.PERSONAL  # before token types
    assert token_type("not-a-jwt") == limits.TokenType.PERSONAL


# ---- the sandbox counts as the specs say -----------------------------------------------------------


def test_sandbox_counts_a_4xx_of_a_marketplace_method_as_ten_requests(
    sandbox_app: SandboxApp, sandbox_world: SandboxWorld
) -> None:
    sandbox_world.config.limits_enabled = True
    http = _http(sandbox_app)
    # Seller stocks: 300 a minute, bursts of 20. Two refused writes spend the 20.
    for _ in range(2):
        assert http.put("/api/v3/stocks/1001001", json={"stocks": []}).status_code == 400
    refused = http.post("/api/v3/stocks/1001001", json={"chrtIds": []})
    assert refused.status_code == 429 and int(refused.headers["X-Ratelimit-Retry"]) >= 1
    # Another method group keeps its own bucket, and content methods charge a 4xx as one request.
    for _ in range(5):  # cards list: bursts of 5
        assert http.post("/content/v2/get/cards/list", json={"settings": {"cursor": {"limit": 500}}}).status_code == 400
    assert http.post("/content/v2/get/cards/list", json={"settings": {"cursor": {"limit": 5}}}).status_code == 429
    assert http.get("/api/v3/warehouses").status_code == 200


def test_sandbox_gives_a_basic_token_its_lower_limits_and_refuses_what_it_may_not_call(
    sandbox_app: SandboxApp, sandbox_world: SandboxWorld
) -> None:
    sandbox_world.config.limits_enabled = True
    basic, personal = _http(sandbox_app, WB_BASIC_TOKEN), _http(sandbox_app)
    params = {"dateFrom": "2026-01-01", "flag": 0}
    # Statistics orders: Basic 1 request per 3 hours, Personal 1 a minute with bursts of 10.
    assert basic.get("/api/v1/supplier/orders", params=params).status_code == 200
    limited = basic.get("/api/v1/supplier/orders", params=params)
    assert limited.status_code == 429 and int(limited.headers["X-Ratelimit-Retry"]) > 3 * 3600 - 60
    assert [personal.get("/api/v1/supplier/orders", params=params).status_code for _ in range(3)] == [200] * 3
    # The WB warehouses stock report lists no Basic token in x-token-types.
    refused = basic.post("/api/analytics/v1/stocks-report/wb-warehouses", json={"limit": 10})
    assert refused.status_code == 403 and refused.json()["detail"] == "base token is not allowed"


# ---- the adapter's limiter ----------------------------------------------------------------------


def _unknown_size(quantity: int = 1) -> StockUpdate:
    """A size WB does not know: the stock write answers 409."""
    return StockUpdate(key=f"x{quantity}", offer_id="x", listing_external_id="1", warehouse_external_id="1001001",
                       quantity=quantity, variant_id="999")


def _known_size(state: wb_sandbox.WBState) -> StockUpdate:
    card = state.cards[0]
    return StockUpdate(key="ok", offer_id=card.article, listing_external_id=str(card.nm_id),
                       warehouse_external_id="1001001", quantity=5, variant_id=str(card.sizes[0]["chrtID"]))


def test_the_adapter_charges_a_4xx_ten_tokens_so_the_next_request_waits(
    make_client: Callable[..., WildberriesClient], clock: FakeClock, wb_state: wb_sandbox.WBState
) -> None:
    client = make_client()
    # The client's bucket (limits.rules_for): bursts of 15 of WB's 20, 4.5 a second of WB's 5:
    # 15 -> 5 -> -5, wait for 6 tokens -> -9.
    for quantity in range(3):
        assert client.update_stocks([_unknown_size(quantity)])[0].status == WriteStatus.REJECTED
    assert clock.sleeps == [pytest.approx(6 / 4.5)]
    assert client.update_stocks([_known_size(wb_state)])[0].status == WriteStatus.APPLIED
    assert clock.sleeps == [pytest.approx(6 / 4.5), pytest.approx(10 / 4.5)]  # 10 tokens short


def test_refused_writes_never_run_into_the_sandboxs_limit(
    sandbox_world: SandboxWorld, recorder: RecordingTransport, wb_state: wb_sandbox.WBState
) -> None:
    """In real time against the sandbox with its limits on: without the 10-token charge the read
    after three refused writes is answered 429."""
    sandbox_world.config.limits_enabled = True
    client = WildberriesClient(account(), transport=recorder, clock=SystemClock(), limiter=LocalLimiter(),
                               max_retries=2)
    try:
        for quantity in range(3):
            assert client.update_stocks([_unknown_size(quantity)])[0].status == WriteStatus.REJECTED
        assert client.update_stocks([_known_size(wb_state)])[0].status == WriteStatus.APPLIED
    finally:
        client.close()
    statuses = [response.status_code for _, response in recorder.exchanges]
    assert statuses == [409, 409, 409, 204] and client.http.retries == 0


def _basic_client(make_client: Callable[..., WildberriesClient], **overrides: Any) -> WildberriesClient:
    return make_client(account(token=WB_BASIC_TOKEN), **overrides)


def test_a_basic_token_is_held_to_the_basic_limits(
    make_client: Callable[..., WildberriesClient], clock: FakeClock
) -> None:
    personal = make_client(prices_page_size=20)
    list(personal.iter_prices())  # three pages: within the Personal bursts of 5
    assert clock.sleeps == []
    basic = _basic_client(make_client, prices_page_size=20)
    list(basic.iter_prices())
    # 4 an hour, bursts of 1, kept 10% under: a request every 1000 s.
    assert clock.sleeps == [pytest.approx(1000.0), pytest.approx(1000.0)]


def test_a_basic_token_reads_seller_stocks_without_the_report_it_may_not_call(
    make_client: Callable[..., WildberriesClient], recorder: RecordingTransport, wb_state: wb_sandbox.WBState
) -> None:
    stocks = [s for page in _basic_client(make_client).iter_stocks() for s in page.items]
    assert stocks and all(not s.warehouse_external_id.startswith("wb:") for s in stocks)
    assert all(response.status_code == 200 for _, response in recorder.exchanges)
    assert {s.variant_id for s in stocks} == {str(chrt) for chrt in wb_state.by_chrt}
