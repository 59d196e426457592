"""Error classes, retries, rate-limit waits (fake clock, no real sleeps), and real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from integrations.base import AuthError, PermanentError, RateLimitedError, TransientError
from integrations.limiter import FakeClock, LocalLimiter
from integrations.ozon import mapping
from integrations.ozon import schemas as s
from integrations.ozon.client import OzonClient
from integrations.ozon.tests.conftest import ozon_config
from integrations.payloads import parse_python
from integrations.sandbox import credentials
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxWorld


def test_wrong_api_key_is_an_auth_error_naming_the_account_without_the_key(make_client: Any) -> None:
    secret = "wrong-key-5f0c1e-do-not-log"
    client = make_client(ozon_config(api_key=secret))
    with pytest.raises(AuthError) as caught:
        client.check_auth()
    message = str(caught.value)
    assert "Ozon «Главный магазин»" in message and "Invalid Api-Key" in message
    assert secret not in message and secret not in repr(caught.value.args)
    assert client.http.retries == 0


def test_missing_client_id_is_an_auth_error(make_client: Any) -> None:
    with pytest.raises(AuthError, match="Главный магазин"):
        make_client(ozon_config(client_id="")).check_auth()


def test_check_auth_returns_the_key_expiry(client: OzonClient, world: SandboxWorld) -> None:
    expires = client.check_auth()
    assert expires == world.config.start + timedelta(days=150)
    assert expires is not None and expires.utcoffset() == timedelta(0)


def test_server_errors_are_retried_then_succeed(client: OzonClient, world: SandboxWorld, clock: FakeClock) -> None:
    world.faults.server_error_next = 2
    assert client.check_auth() is not None
    assert client.http.retries == 2
    assert len(clock.sleeps) == 2 and all(0 <= wait <= 1.0 for wait in clock.sleeps)  # jittered backoff, fake


def test_server_errors_beyond_the_retry_budget_raise_transient(make_client: Any, world: SandboxWorld) -> None:
    world.faults.server_error_next = 10
    client = make_client(max_retries=2)
    with pytest.raises(TransientError) as caught:
        client.check_auth()
    assert caught.value.status == 500 and "Internal error" in caught.value.message
    assert client.http.retries == 2


def test_rate_limit_waits_exactly_what_the_server_asked(
    client: OzonClient, world: SandboxWorld, clock: FakeClock
) -> None:
    world.faults.rate_limit_next = 2
    world.faults.retry_after_seconds = 7
    assert list(client.iter_warehouses())[-1].done
    assert clock.sleeps == [7.0, 7.0]


def test_rate_limit_without_a_header_waits_a_second(make_client: Any, clock: FakeClock) -> None:
    answers = iter([
        httpx.Response(429, json={"code": 8, "message": "You have reached request rate limit per second"}),
        httpx.Response(200, json={"expires_at": "2027-04-01T00:00:00Z", "roles": []}),
    ])
    client = make_client(transport=httpx.MockTransport(lambda request: next(answers)))
    client.check_auth()
    assert clock.sleeps == [1.0]


def test_rate_limit_exhausted_raises_with_the_wait(make_client: Any, world: SandboxWorld) -> None:
    world.faults.rate_limit_next = 5
    world.faults.retry_after_seconds = 3
    with pytest.raises(RateLimitedError) as caught:
        make_client(max_retries=1).check_auth()
    assert caught.value.retry_after == 3.0 and caught.value.status == 429


def test_circle_is_open_backs_off_for_a_minute(make_client: Any, clock: FakeClock) -> None:
    answers = iter([
        httpx.Response(503, json={"code": 14, "message": "Circle is open"}),
        httpx.Response(200, json={"expires_at": "2027-04-01T00:00:00Z", "roles": []}),
    ])
    make_client(transport=httpx.MockTransport(lambda request: next(answers))).check_auth()
    assert clock.sleeps == [60.0]


def test_client_errors_are_permanent_and_not_retried(client: OzonClient) -> None:
    with pytest.raises(PermanentError) as caught:
        client._call("POST /v4/posting/fbs/list", s.FbsPostingListResponse, {"filter": {}, "limit": 10})
    assert caught.value.status == 400 and "filter.since and filter.to are required" in caught.value.message
    assert not isinstance(caught.value, AuthError)
    assert client.http.retries == 0


def test_obsolete_method_answers_410(client: OzonClient) -> None:
    with pytest.raises(PermanentError) as caught:
        client._call("POST /v3/posting/fbs/list", s.FbsPostingListResponse, {"limit": 10})
    assert caught.value.status == 410 and "obsolete" in caught.value.message


def test_a_malformed_body_is_retried(client: OzonClient, world: SandboxWorld) -> None:
    world.faults.malformed_next = 1
    pages = list(client.iter_listings())
    assert pages[-1].done and sum(len(p.items) for p in pages) == 40
    assert client.http.retries == 1


def test_a_body_that_breaks_the_schema_is_a_permanent_error_naming_the_operation(make_client: Any) -> None:
    broken = {"result": {"items": [{"offer_id": "PRL-00001"}], "last_id": "1", "total": 1}}  # no product_id
    client = make_client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=broken)))
    with pytest.raises(PermanentError) as caught:
        next(client.iter_listings())
    assert "POST /v3/product/list" in caught.value.message and "product_id" in caught.value.message
    assert client.http.retries == 0


def test_client_side_limit_spaces_requests_on_the_shared_bucket(make_client: Any, clock: FakeClock) -> None:
    client = make_client()
    client.http.limits_enabled = True
    for _ in range(95):
        client._call("POST /v1/roles", s.RolesResponse)
    # 5 at once (the burst), then 90 more at 45 per second: two seconds of (fake) waiting, and no
    # second ever holds more than Ozon's 50.
    assert 1.95 <= sum(clock.sleeps) <= 2.05


def test_sandbox_enforces_ozon_limits_when_asked() -> None:
    world = SandboxWorld()
    world.config.limits_enabled = True
    transport = httpx.MockTransport(SandboxApp(world).handle)
    headers = {"Client-Id": credentials.OZON_CLIENT_ID, "Api-Key": credentials.OZON_API_KEY}
    with httpx.Client(transport=transport, base_url="http://sandbox.test") as http:
        codes = [http.post("/ozon/v1/roles", headers=headers).status_code for _ in range(51)]
        limited = http.post("/ozon/v1/roles", headers=headers)
    assert codes[:50] == [200] * 50 and codes[50] == 429
    assert limited.json() == {"code": 8, "message": "You have reached request rate limit per second", "details": []}


def test_money_is_exact_and_unknown_statuses_are_kept() -> None:
    body = json.loads(
        '{"items": [{"product_id": 1, "offer_id": "A", "price": {"price": 1499.9, "old_price": 0.30000000000000004,'
        ' "min_price": 12345678901234567.89, "currency_code": "RUR"}}]}',
        parse_float=Decimal,
    )
    price = mapping.price(parse_python(s.PriceListResponse, body).items[0])
    assert price.price == Decimal("1499.9") and price.old_price == Decimal("0.30000000000000004")
    assert price.min_price == Decimal("12345678901234567.89") and price.currency == "RUB"
    posting = parse_python(s.FbsPosting, {
        "posting_number": "1-1-1", "status": "awaiting_teleport", "in_process_at": "2026-11-01T09:00:00Z",
        "tpl_integration_type": "drone", "products": [
            {"sku": 5, "offer_id": "A", "quantity": 3, "price": {"amount": "0.100000", "currency": "RUB"}},
        ],
    })
    order = mapping.fbs_order(posting)
    assert (order.status, order.raw_status, order.scheme) == ("unknown", "awaiting_teleport", "FBS")
    assert order.total_amount == Decimal("0.3") and order.ordered_at.tzinfo is not None


@pytest.fixture
def server(app: SandboxApp) -> Iterator[SandboxServer]:
    running = SandboxServer(app).start()
    yield running
    running.stop()


def test_over_real_http_on_loopback(server: SandboxServer, world: SandboxWorld) -> None:
    clock = FakeClock()
    client = OzonClient(ozon_config(base_url=server.base_url("ozon")), clock=clock, limiter=LocalLimiter(),
                        max_retries=2)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        listings = [x for page in client.iter_listings() for x in page.items]
        assert len(listings) == 40 and listings[0].title == world.catalog[0].name
        orders = [o for page in client.iter_orders(world.config.start - timedelta(days=90)) for o in page.items]
        assert len(orders) == world.config.orders
        world.faults.rate_limit_next = 1
        world.faults.retry_after_seconds = 4
        clock.sleeps.clear()  # the client-side limiter's own spacing of the reads above
        assert client.check_auth() is not None and clock.sleeps[-1] == 4.0 and sum(clock.sleeps) < 4.1
        with pytest.raises(AuthError):
            OzonClient(ozon_config(base_url=server.base_url("ozon"), api_key="nope"), clock=clock,
                       limiter=LocalLimiter()).check_auth()
    finally:
        client.close()
