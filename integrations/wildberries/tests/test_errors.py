"""Error classes, retries and waits: sandbox faults, plus hand-written WB answers for shapes the sandbox never
sends (an httpx.MockTransport stands in for Wildberries, never for our own code)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from integrations.base import AuthError, PermanentError, RateLimitedError
from integrations.limiter import FakeClock, LocalLimiter
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.world import SandboxWorld
from integrations.wildberries.client import WBRequestError, WildberriesClient, token_expiry
from integrations.wildberries.mapping import assembly_status

from .conftest import account


def test_refused_token_raises_auth_error_naming_the_account_without_the_key(make_client, sandbox_app) -> None:  # type: ignore[no-untyped-def]
    secret = "eyJhbGciOiJFUzI1NiJ9.c2VjcmV0.not-the-sandbox-signature"
    client = make_client(account(token=secret, name="Магазин на WB"))
    with pytest.raises(AuthError) as caught:
        client.check_auth()
    assert "Магазин на WB" in caught.value.message and caught.value.status == 401
    assert secret not in str(caught.value) and "c2VjcmV0" not in str(caught.value)
    assert client.http.retries == 0 and sandbox_app.requests_seen == 1


def test_rate_limit_waits_exactly_what_wb_asked_on_the_fake_clock(
    client: WildberriesClient, clock: FakeClock, sandbox_world: SandboxWorld
) -> None:
    sandbox_world.faults.rate_limit_next = 2
    sandbox_world.faults.retry_after_seconds = 7
    pages = list(client.iter_prices())
    assert sum(len(p.items) for p in pages) == 40
    assert clock.sleeps == [7.0, 7.0]  # X-Ratelimit-Retry, no real sleeping
    assert client.http.retries == 2


def test_rate_limit_error_carries_retry_after_when_retries_run_out(make_client, sandbox_world) -> None:  # type: ignore[no-untyped-def]
    sandbox_world.faults.rate_limit_next = 5
    sandbox_world.faults.retry_after_seconds = 3
    with pytest.raises(RateLimitedError) as caught:
        make_client(max_retries=1).check_auth()
    assert caught.value.retry_after == 3.0 and caught.value.status == 429


def test_server_errors_are_retried_then_succeed(client: WildberriesClient, sandbox_world) -> None:  # type: ignore[no-untyped-def]
    sandbox_world.faults.server_error_next = 2
    assert len(next(client.iter_warehouses()).items) == 2
    assert client.http.retries == 2


def test_client_errors_are_not_retried_and_carry_wbs_message(make_client, sandbox_app: SandboxApp) -> None:  # type: ignore[no-untyped-def]
    client = make_client(prices_page_size=5000)  # WB allows at most 1000
    with pytest.raises(WBRequestError) as caught:
        list(client.iter_prices())
    assert caught.value.status == 400 and "limit must be 1..1000" in caught.value.message
    assert client.http.retries == 0 and sandbox_app.requests_seen == 1


def test_truncated_json_is_retried(client: WildberriesClient, sandbox_world) -> None:  # type: ignore[no-untyped-def]
    sandbox_world.faults.malformed_next = 1
    assert len(next(client.iter_listings()).items) == 40
    assert client.http.retries == 1


def test_sandbox_enforces_documented_limits_when_enabled(make_client, sandbox_world) -> None:  # type: ignore[no-untyped-def]
    sandbox_world.config.limits_enabled = True
    client = make_client(max_retries=0)
    for _ in range(3):  # /ping: 3 requests per 30 s
        client.check_auth()
    with pytest.raises(RateLimitedError) as caught:
        client.check_auth()
    assert caught.value.retry_after and caught.value.retry_after > 0


# ---- hand-written WB answers ----------------------------------------------------------------------


class Replies(list[Any]):
    """Successive answers of one route."""


def _mock_client(routes: dict[str, Any]) -> WildberriesClient:
    def answer(request: httpx.Request) -> httpx.Response:
        body = routes[f"{request.method} {request.url.path}"]
        if isinstance(body, Replies):
            body = body.pop(0)
        return httpx.Response(
            200,
            content=body if isinstance(body, bytes) else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )

    config = account(base_url="")
    return WildberriesClient(
        config,
        transport=httpx.MockTransport(answer),
        clock=FakeClock(1_790_000_000),
        limiter=LocalLimiter(),
        max_retries=0,
    )


def test_official_hosts_are_used_without_a_base_url() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"TS": "2026-11-01T12:00:00+03:00", "Status": "OK"})

    client = WildberriesClient(
        account(base_url=""), transport=httpx.MockTransport(answer), clock=FakeClock(), limiter=LocalLimiter()
    )
    client.check_auth()
    assert seen == ["https://common-api.wildberries.ru/ping"]


def test_an_unexpected_shape_is_a_permanent_error_naming_the_operation() -> None:
    client = _mock_client({"POST /content/v2/get/cards/list": {"cards": "oops", "cursor": {}}})
    with pytest.raises(PermanentError, match="cards list: unexpected response shape"):
        list(client.iter_listings())


def test_money_is_parsed_exactly_from_kopecks_floats_and_strings() -> None:
    created = "2026-10-31T09:00:00Z"
    task = {
        "id": 11,
        "rid": "r1",
        "article": "PRL-1",
        "nmId": 5,
        "chrtId": 6,
        "createdAt": created,
        "price": 101499,
        "currencyCode": 933,
        "warehouseId": 1,
        "deliveryType": "fbs",
    }
    statistics = [
        {
            "date": "2026-10-31T12:00:00",
            "lastChangeDate": "2026-10-31T12:30:00",
            "nmId": 5,
            "warehouseType": "Склад WB",
            "supplierArticle": "PRL-1",
            "totalPrice": 1999.9,
            "priceWithDisc": 1274.15,
            "finishedPrice": 1101.5,
            "srid": "s1",
            "isCancel": False,
        }
    ]
    client = _mock_client(
        {
            "GET /api/v3/orders/new": {"orders": [{**task, "salePrice": 120000}]},
            "GET /api/v3/orders": {"next": 11, "orders": [task]},
            "POST /api/v3/orders/status": {
                "orders": [{"id": 11, "supplierStatus": "confirm", "wbStatus": "teleported"}]
            },
            "GET /api/v3/dbs/orders/new": {"orders": []},
            "GET /api/v3/dbs/orders": {"next": 0, "orders": []},
            "GET /api/v1/supplier/orders": b"[]",
        }
    )
    client.orders_page_size = 5
    orders = [o for page in client.iter_orders(datetime(2026, 10, 30, tzinfo=UTC)) for o in page.items]
    fbs = orders[0]
    assert fbs.total_amount == Decimal("1014.99") and fbs.currency == "BYN"
    # Buyer paid `price`; the seller's price after the seller's discount is `salePrice` of /orders/new.
    assert (fbs.buyer_total, fbs.seller_total, fbs.srid) == (Decimal("1014.99"), Decimal("1200.00"), "r1")
    assert (fbs.status, fbs.raw_status, fbs.raw_substatus) == ("unknown", "teleported", "confirm")
    client = _mock_client(
        {
            "GET /api/v3/orders/new": {"orders": []},
            "GET /api/v3/orders": {"next": 0, "orders": []},
            "GET /api/v3/dbs/orders/new": {"orders": []},
            "GET /api/v3/dbs/orders": {"next": 0, "orders": []},
            "GET /api/v1/supplier/orders": Replies([statistics]),  # an answer under 80,000 rows is the end
        }
    )
    fbo = [o for page in client.iter_orders(datetime(2026, 10, 30, tzinfo=UTC)) for o in page.items]
    assert fbo[0].total_amount == Decimal("1274.15") and fbo[0].lines[0].price == Decimal("1274.15")
    assert fbo[0].updated_at == datetime(2026, 10, 31, 9, 30, tzinfo=UTC)  # Moscow time converted to UTC
    # FBW: what the buyer paid is finishedPrice, the seller's price priceWithDisc; srid is the key.
    assert (fbo[0].buyer_total, fbo[0].seller_total, fbo[0].srid) == (Decimal("1101.5"), Decimal("1274.15"), "s1")


def test_unknown_statuses_are_kept_raw_and_mapped_to_unknown() -> None:
    assert assembly_status("new", "waiting") == "new"
    assert assembly_status("complete", "sold") == "delivered"
    assert assembly_status("receive", "some_new_wb_status") == "unknown"
    assert assembly_status("cancel", "waiting") == "cancelled"


def test_token_expiry_is_read_from_the_jwt_locally() -> None:
    assert token_expiry("not-a-jwt") is None
    assert token_expiry("a.eyJleHAiOjE4MDAwMDAwMDB9.c") == datetime.fromtimestamp(1_800_000_000, UTC)
    assert token_expiry("a.eyJleHAiOjE4MDAwMDAwMDB9.c") - datetime.fromtimestamp(0, UTC) > timedelta(days=1)
