"""The Yandex Market sandbox: the official contract on both sides, incremental changes, real HTTP, scale."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from integrations.base import AuthError, ContentUpdate, PriceUpdate, PromotionItem, StockUpdate, WriteStatus
from integrations.limiter import FakeClock, LocalLimiter
from integrations.sandbox import credentials
from integrations.sandbox import yandex_market as ym_sandbox
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import ContractChecker, RecordingTransport
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.yandex_market.client import YandexMarketClient
from integrations.yandex_market.tests.conftest import ym_config

MakeClient = Callable[..., YandexMarketClient]


def test_every_exchange_of_a_full_read_and_all_writes_follows_the_official_spec(
    make_client: MakeClient, recording: RecordingTransport, world: SandboxWorld
) -> None:
    client = make_client(listings_page_size=15, orders_page_size=20, reviews_page_size=10, questions_page_size=5)
    since = world.now - timedelta(days=90)
    client.check_auth()
    warehouses = [w for page in client.iter_warehouses() for w in page.items]
    for read in (client.iter_listings, client.iter_prices, client.iter_stocks):
        assert [x for page in read() for x in page.items]
    for stream in (client.iter_orders, client.iter_returns, client.iter_reviews, client.iter_questions,
                   client.iter_finance):
        assert [x for page in stream(since) for x in page.items]
    promotions = [p for page in client.iter_promotions() for p in page.items]
    for promotion in promotions:
        list(client.iter_promotion_offers(promotion.external_id))
    world.faults.reject_offer_ids = {"PRL-00003"}
    client.update_prices([PriceUpdate("p1", "PRL-00003", "PRL-00003", Decimal("10.5")),
                          PriceUpdate("p2", "PRL-00004", "PRL-00004", Decimal("1499.90"), min_price=Decimal("1200"))])
    seller = next(w.external_id for w in warehouses if w.kind == "seller")
    client.update_stocks([StockUpdate("s1", "PRL-00003", "PRL-00003", seller, 3),
                          StockUpdate("s2", "PRL-00004", "PRL-00004", seller, 5)])
    client.update_listing_content([ContentUpdate("c1", "PRL-00004", "PRL-00004", title="Новое название")])
    review = next(r for page in client.iter_reviews(since) for r in page.items)
    client.answer_review("r1", review.external_id, "Спасибо за отзыв!")
    question = next(q for page in client.iter_questions(since) for q in page.items)
    client.answer_question("q1", question.external_id, "Да.")
    items = [PromotionItem("j1", "PRL-00004", action_price=Decimal("100")), PromotionItem("j2", "PRL-00002")]
    client.join_promotion("#21001", items)
    client.leave_promotion("#21001", items)
    with pytest.raises(AuthError, match="401"):
        make_client(ym_config(api_key="wrong")).check_auth()

    checker = ContractChecker.for_marketplace("yandex_market")
    violations = [v for request, response in recording.exchanges for v in checker.check_exchange(request, response)]
    operations = {checker.operation_key(request) for request, _ in recording.exchanges}

    assert violations == []
    assert len(operations) >= 21, operations
    assert {response.status_code for _, response in recording.exchanges} >= {200, 400, 401}


def test_advance_creates_and_changes_orders_that_an_incremental_read_picks_up(
    client: YandexMarketClient, world: SandboxWorld
) -> None:
    since = world.now - timedelta(days=90)
    first = list(client.iter_orders(since))
    before = {o.external_id: o for page in first for o in page.items}
    watermark = first[-1].watermark
    assert watermark is not None
    old_now = world.now

    world.advance(180)
    changed = {o.external_id: o for page in client.iter_orders(watermark) for o in page.items}

    new = [o for o in changed.values() if o.external_id not in before]
    moved = [o for o in changed.values() if o.external_id in before
             and (o.raw_status, o.raw_substatus) != (before[o.external_id].raw_status,
                                                     before[o.external_id].raw_substatus)]
    assert len(new) >= 2 and all(old_now < o.ordered_at <= world.now for o in new)
    assert moved and any(o.status == "cancelled" for o in moved)
    assert all(o.updated_at is not None and o.updated_at >= watermark for o in changed.values())
    assert all(old_now < o.updated_at <= world.now for o in new + moved if o.updated_at)
    # Nothing unchanged comes back, except orders sitting exactly on the watermark (inclusive bound).
    unchanged = [o for o in changed.values() if o not in new and o not in moved]
    assert all(o.updated_at == watermark for o in unchanged)


def test_advance_adds_returns_reviews_questions_and_finance_after_the_watermark(
    client: YandexMarketClient, world: SandboxWorld
) -> None:
    since = world.now - timedelta(days=90)
    marks = {}
    for name in ("iter_returns", "iter_reviews", "iter_questions", "iter_finance"):
        pages = list(getattr(client, name)(since))
        marks[name] = ({x for p in pages for x in p.items}, pages[-1].watermark)
    old_now = world.now

    world.advance(120)

    for name, (seen, watermark) in marks.items():
        later = [x for page in getattr(client, name)(watermark) for x in page.items]
        fresh = [x for x in later if x not in seen]
        assert fresh, name
    reviews = [r for page in client.iter_reviews(marks["iter_reviews"][1]) for r in page.items]
    assert any(r.published_at > old_now and not r.is_answered for r in reviews)


def test_the_same_seed_gives_the_same_world() -> None:
    def first_page(seed: int) -> list[tuple[str, str, Decimal]]:
        world = SandboxWorld(SandboxConfig(seed=seed, products=30, orders=60))
        client = YandexMarketClient(ym_config(), transport=SandboxTransport(SandboxApp(world)), clock=FakeClock(),
                                    limiter=LocalLimiter())
        page = next(client.iter_orders(world.now - timedelta(days=30)))
        return [(o.external_id, o.raw_status, o.total_amount) for o in page.items]

    assert first_page(5) == first_page(5)
    assert first_page(5) != first_page(6)


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    running = SandboxServer(SandboxApp(SandboxWorld(SandboxConfig(seed=3, products=30, orders=80))),
                            host="127.0.0.1").start()
    try:
        yield running
    finally:
        running.stop()


def test_over_real_http_with_markets_clock_in_the_date_header(server: SandboxServer) -> None:
    clock = FakeClock()
    client = YandexMarketClient(ym_config(base_url=server.base_url("yandex_market")), clock=clock,
                                limiter=LocalLimiter())
    server.app.world.faults.rate_limit_next = 1
    server.app.world.faults.retry_after_seconds = 3
    try:
        listings = [dto for page in client.iter_listings() for dto in page.items]
        orders = [o for page in client.iter_orders(server.app.world.now - timedelta(days=50)) for o in page.items]
        result = client.update_prices([PriceUpdate("k", "PRL-00001", "PRL-00001", Decimal("2490.50"))])
    finally:
        client.close()

    assert len(listings) == 30 and orders
    assert clock.sleeps == [3.0]  # X-RateLimit-Resource-Until minus the sandbox's own Date
    assert result[0].status == WriteStatus.APPLIED
    response = httpx.post(server.base_url("yandex_market") + "/v2/auth/token", headers={"Api-Key": "nope"})
    assert response.status_code == 401 and response.json()["status"] == "ERROR"


def test_builds_150000_orders_in_seconds_and_pages_without_scanning() -> None:
    world = SandboxWorld(SandboxConfig(seed=1, products=500, orders=150_000))
    started = time.perf_counter()
    state = world.state("yandex_market", ym_sandbox.build_state)
    built = time.perf_counter() - started
    assert len(state.order_keys) == 150_000
    assert built < 30, f"state took {built:.1f}s"

    transport = SandboxTransport(SandboxApp(world))
    body = {"dates": {"updateDateFrom": (world.now - timedelta(days=20)).isoformat(),
                      "updateDateTo": (world.now - timedelta(days=19)).isoformat()}}
    request = httpx.Request("POST", f"http://s/yandex_market/v1/businesses/{credentials.YM_BUSINESS_ID}/orders",
                            params={"limit": 50}, headers={"Api-Key": credentials.YM_API_KEY}, json=body)
    started = time.perf_counter()
    response = transport.handle_request(request)
    assert response.status_code == 200 and len(response.json()["orders"]) == 50
    assert time.perf_counter() - started < 2
