"""Reads through the in-process sandbox: paging, cursors, watermarks, money, enums, malformed bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, timedelta
from decimal import Decimal

import pytest

from integrations.base import PermanentError
from integrations.sandbox import yandex_market as ym_sandbox
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.world import SandboxWorld
from integrations.yandex_market.client import YandexMarketClient
from integrations.yandex_market.tests.conftest import requests_to

MakeClient = Callable[..., YandexMarketClient]


def sandbox_state(world: SandboxWorld) -> ym_sandbox.YMState:
    state: ym_sandbox.YMState = world.state("yandex_market", ym_sandbox.build_state)
    return state


def test_listings_page_to_the_end_when_the_total_is_an_exact_multiple_of_the_page(
    make_client: MakeClient, recording: RecordingTransport
) -> None:
    # 40 offers: 39 outside the archive in three full pages (no fourth request), then the archive's one.
    client = make_client(listings_page_size=13)
    pages = list(client.iter_listings())

    assert [len(p.items) for p in pages] == [13, 13, 13, 1]
    assert [p.done for p in pages] == [False, False, False, True]
    assert requests_to(recording, "POST", "/offer-mappings") == 4
    assert [json.loads(r.content) for r, _ in recording.exchanges] == [{}, {}, {}, {"archived": True}]
    listings = [item for page in pages for item in page.items]
    assert len({dto.external_id for dto in listings}) == 40
    first = next(dto for dto in listings if dto.external_id == "PRL-00001")
    assert first.offer_id == "PRL-00001" and first.marketplace_sku == "101000000"
    assert first.title and first.barcodes and first.images and first.brand


def test_listing_without_a_market_card_has_no_sku_and_archived_offers_are_flagged(client: YandexMarketClient) -> None:
    listings = {dto.external_id: dto for page in client.iter_listings() for dto in page.items}

    assert listings["PRL-00017"].marketplace_sku == ""  # every 17th offer has no card yet
    assert listings["PRL-00017"].status == "NO_CARD_NEED_CONTENT"
    assert listings["PRL-00023"].archived is True
    assert listings["PRL-00001"].archived is False


def test_cursor_of_a_saved_page_resumes_after_it(make_client: MakeClient) -> None:
    full = [dto.external_id for page in make_client(listings_page_size=7).iter_listings() for dto in page.items]
    first_pages = make_client(listings_page_size=7).iter_listings()
    next(first_pages)
    saved = next(first_pages).cursor  # after page 2, as the sync engine stores it

    resumed = [dto.external_id for page in make_client(listings_page_size=7).iter_listings(saved)
               for dto in page.items]

    assert resumed == full[14:]


def test_orders_resume_from_a_cursor_inside_a_date_window(make_client: MakeClient, world: SandboxWorld) -> None:
    since = world.now - timedelta(days=75)
    full = [o.external_id for page in make_client(orders_page_size=10).iter_orders(since) for o in page.items]
    consumed = 0
    saved = None
    for page in make_client(orders_page_size=10).iter_orders(since):
        consumed += len(page.items)
        if page.cursor.get("page_token") and consumed > 10:  # inside a window, not at its start
            saved = page.cursor
            break
    assert saved is not None and saved.get("window_from")

    resumed = [o.external_id for page in make_client(orders_page_size=10).iter_orders(since, saved)
               for o in page.items]

    assert resumed == full[consumed:]


def test_orders_walk_30_day_windows_to_now_with_every_scheme_and_status(
    client: YandexMarketClient, recording: RecordingTransport, world: SandboxWorld
) -> None:
    since = world.now - timedelta(days=90)
    pages = list(client.iter_orders(since))
    orders = [o for page in pages for o in page.items]

    windows = {request.content for request, _ in recording.exchanges if request.url.path.endswith("/orders")}
    assert len(windows) == 4  # 90 days in windows of at most 30 (pages of one window share the body)
    assert pages[-1].done and not any(p.done for p in pages[:-1])
    assert {o.scheme for o in orders} == {"FBO", "FBS", "DBS", "EXPRESS"}
    assert {o.status for o in orders} >= {"new", "processing", "ready_to_ship", "in_delivery", "delivered",
                                          "cancelled", "returned"}
    assert {o.raw_status for o in orders} >= {"PLACING", "RESERVED", "UNPAID", "PENDING", "PROCESSING", "DELIVERY",
                                              "PICKUP", "DELIVERED", "CANCELLED", "PARTIALLY_RETURNED", "RETURNED"}
    assert pages[-1].watermark == max(o.updated_at for o in orders if o.updated_at)
    assert all(o.ordered_at.tzinfo is not None and o.ordered_at.utcoffset() == timedelta(0) for o in orders)


def test_an_empty_stream_is_one_final_empty_page(client: YandexMarketClient, world: SandboxWorld) -> None:
    pages = list(client.iter_orders(world.now + timedelta(days=1)))

    assert len(pages) == 1 and pages[0].items == [] and pages[0].done and pages[0].watermark is None


def test_order_money_is_exact(client: YandexMarketClient, world: SandboxWorld) -> None:
    orders = [o for page in client.iter_orders(world.now - timedelta(days=40)) for o in page.items]
    state = sandbox_state(world)
    checked = 0
    for dto in orders:
        source = ym_sandbox._order(world, state, int(dto.external_id))
        assert source is not None
        for line, item in zip(dto.lines, source["items"], strict=True):
            assert line.price == item["unit"]  # what the buyer pays per unit, cashback included
            assert isinstance(line.price, Decimal) and line.currency == "RUB"
        assert dto.total_amount == sum(i["unit"] * i["count"] for i in source["items"])
        checked += 1
    assert checked > 10
    assert any(line.price != line.price.to_integral_value() for o in orders for line in o.lines)


def test_unknown_order_status_is_kept_raw_and_mapped_to_unknown(
    client: YandexMarketClient, world: SandboxWorld
) -> None:
    state = sandbox_state(world)
    order_id, order_ts = state.order_keys[-1][1], state.order_keys[-1][0]
    order = ym_sandbox._order(world, state, order_id)
    assert order is not None
    ym_sandbox._save_order(state, {**order, "status": "AWAITING_TELEPORTATION"}, order_ts)

    orders = {o.external_id: o for page in client.iter_orders(world.now - timedelta(days=2)) for o in page.items}

    assert orders[str(order_id)].status == "unknown"
    assert orders[str(order_id)].raw_status == "AWAITING_TELEPORTATION"


def test_prices_and_stocks_parse_exactly(client: YandexMarketClient, world: SandboxWorld) -> None:
    prices = {p.offer_id: p for page in client.iter_prices() for p in page.items}
    stocks = [s for page in client.iter_stocks() for s in page.items]

    assert prices["PRL-00001"].price == world.catalog[0].base_price
    assert prices["PRL-00001"].old_price == (world.catalog[0].base_price * Decimal("1.25")).quantize(Decimal("1"))
    assert prices["PRL-00001"].discount_percent == 20
    assert "PRL-00029" not in prices  # an offer with no price yet is skipped, not invented
    assert {s.warehouse_external_id for s in stocks} == {"50101", "50103", "147", "172", "300"}
    market = next(s for s in stocks if s.warehouse_external_id == "147")
    assert market.warehouse_name == "Яндекс Маркет Софьино"
    assert all(s.present >= 0 and s.reserved >= 0 for s in stocks)
    assert "PRL-00023" not in {s.offer_id for s in stocks}  # archived offers have no stock rows


def test_warehouses_are_seller_and_market_ones(client: YandexMarketClient) -> None:
    warehouses = [w for page in client.iter_warehouses() for w in page.items]

    kinds = {w.external_id: w.kind for w in warehouses}
    assert kinds == {"50101": "seller", "50103": "seller", "147": "marketplace", "172": "marketplace",
                     "300": "marketplace"}


def test_returns_reviews_questions_promotions_and_finance(client: YandexMarketClient, world: SandboxWorld) -> None:
    since = world.now - timedelta(days=90)
    returns = [r for page in client.iter_returns(since) for r in page.items]
    reviews = [r for page in client.iter_reviews(since) for r in page.items]
    questions = [q for page in client.iter_questions(since) for q in page.items]
    promotions = [p for page in client.iter_promotions() for p in page.items]
    finance = [f for page in client.iter_finance(since) for f in page.items]

    assert {r.kind for r in returns} == {"return", "unredeemed"}
    assert all(r.offer_id.startswith("PRL-") and r.quantity >= 1 for r in returns)
    assert any(r.reason for r in returns if r.kind == "return")
    assert {r.is_answered for r in reviews} == {True, False}
    assert all(1 <= (r.rating or 0) <= 5 and r.text for r in reviews)
    assert {q.is_answered for q in questions} == {True, False}
    assert any("?" in q.text for q in questions)
    assert {p.kind for p in promotions} >= {"DIRECT_DISCOUNT", "MARKET_PROMOCODE"}
    assert any(p.is_participating for p in promotions)
    offers = [o for page in client.iter_promotion_offers("#21001") for o in page.items]
    assert {o.status for o in offers} == {"eligible", "participating"}
    sold = [f for f in finance if f.sale_amount > 0]
    assert sold and all(f.fees and all(fee.amount < 0 for fee in f.fees) for f in sold)
    for op in sold:
        assert {fee.kind for fee in op.fees} <= {"commission", "logistics", "acquiring", "storage", "advertising",
                                                 "other"}


def test_finance_net_is_sale_minus_services_plus_subsidies(client: YandexMarketClient, world: SandboxWorld) -> None:
    state = sandbox_state(world)
    finance = [f for page in client.iter_finance(world.now - timedelta(days=90)) for f in page.items]
    op = next(f for f in finance if f.sale_amount > 0)
    source = ym_sandbox._order(world, state, int(op.order_external_id))
    assert source is not None
    stats = ym_sandbox._stats_json(source)
    services = sum((c["actual"] for c in stats["commissions"]), Decimal(0))
    subsidies = sum((s["amount"] for s in stats.get("subsidies", [])), Decimal(0))

    assert op.sale_amount == sum(i["unit"] * i["count"] for i in source["items"])
    assert op.amount == op.sale_amount - services + subsidies


def test_malformed_body_is_retried_and_the_read_succeeds(
    client: YandexMarketClient, world: SandboxWorld, clock: object
) -> None:
    world.faults.malformed_next = 1

    listings = [dto for page in client.iter_listings() for dto in page.items]

    assert len(listings) == 40
    assert client.http.retries == 1


def test_a_response_of_the_wrong_shape_is_a_permanent_error_naming_the_operation(
    client: YandexMarketClient, world: SandboxWorld, app: SandboxApp
) -> None:
    sandbox_state(world).prices["PRL-00002"] = {"value": "не число", "currencyId": "RUR"}

    with pytest.raises(PermanentError, match="offer prices: unexpected response shape"):
        list(client.iter_prices())
    assert client.http.retries == 0


def test_times_are_utc(client: YandexMarketClient, world: SandboxWorld) -> None:
    reviews = [r for page in client.iter_reviews(world.now - timedelta(days=30)) for r in page.items]
    assert reviews and all(r.published_at.tzinfo == UTC for r in reviews)


def test_a_listings_cursor_saved_in_the_archive_part_resumes_there(
    make_client: MakeClient, world: SandboxWorld
) -> None:
    call = make_client(listings_page_size=5)
    state = sandbox_state(world)
    state.archive.update({f"PRL-{n:05d}": True for n in range(1, 9)})  # 9 archived offers: two pages
    pages = list(call.iter_listings())
    saved = next(p.cursor for p in pages if p.cursor.get("archived") and p.cursor.get("page_token"))

    resumed = [dto.external_id for page in make_client(listings_page_size=5).iter_listings(saved)
               for dto in page.items]

    archived = [dto.external_id for page in pages for dto in page.items if dto.archived]
    assert len(archived) == 9 and resumed == archived[5:]
    assert len({dto.external_id for page in pages for dto in page.items}) == 40
