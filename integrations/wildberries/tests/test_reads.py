"""Reads through the in-process sandbox: paging to the end, resume, incremental orders, money, contract."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from integrations.base import PermanentError
from integrations.sandbox.contract import ContractChecker, RecordingTransport
from integrations.sandbox.credentials import WB_TOKEN_EXPIRES_AT
from integrations.sandbox.world import SandboxWorld
from integrations.wildberries.client import WildberriesClient


def _all(pages):  # type: ignore[no-untyped-def]
    return [item for page in pages for item in page.items]


def test_check_auth_returns_the_token_expiry_from_the_jwt(client: WildberriesClient) -> None:
    assert client.check_auth() == WB_TOKEN_EXPIRES_AT


def test_listings_page_to_the_end_when_the_total_is_an_exact_multiple_of_the_page(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(cards_page_size=20)  # 40 cards: 20 + 20 + an empty page that ends the list
    pages = list(client.iter_listings())
    assert [len(p.items) for p in pages] == [20, 20, 0]
    assert [p.done for p in pages] == [False, False, True]
    assert pages[2].cursor["nmID"] == pages[1].cursor["nmID"]  # an empty page keeps the resume point
    listings = _all(pages)
    assert len({item.external_id for item in listings}) == 40
    first = next(item for item in listings if item.offer_id == "PRL-00001")
    assert first.title.startswith("Футболка")  # clothing has three sizes with their chrtIDs and barcodes
    assert [v["size"] for v in first.variants] == ["S", "M", "L"]
    assert first.barcodes[0] == "4600000000015"


def test_listing_cursor_resumes_after_a_saved_page(make_client) -> None:  # type: ignore[no-untyped-def]
    full = _all(make_client(cards_page_size=15).iter_listings())
    pages = make_client(cards_page_size=15).iter_listings()
    next(pages)
    saved = next(pages).cursor
    rest = _all(make_client(cards_page_size=15).iter_listings(saved))
    assert [i.external_id for i in rest] == [i.external_id for i in full[30:]]


@pytest.mark.parametrize(
    ("fault", "problem"),
    [("wb_cards_stuck_cursor_next", "cursor did not move"), ("wb_cards_empty_page_next", "empty page")],
)
def test_card_paging_that_goes_nowhere_stops_with_an_error(  # type: ignore[no-untyped-def]
    make_client, recorder, sandbox_world: SandboxWorld, fault: str, problem: str
) -> None:
    sandbox_world.faults.update({fault: 50})  # the fault outlasts any sane number of pages
    pages = make_client(cards_page_size=15).iter_listings()
    first = next(pages)
    assert len(first.items) == 15
    with pytest.raises(PermanentError, match=problem) as caught:
        next(pages)
    assert "cards list" in caught.value.message and len(recorder.exchanges) == 2
    # Stock reads page through the same cards list and stop the same way.
    with pytest.raises(PermanentError, match=problem):
        list(make_client(cards_page_size=15).iter_stocks())


def test_prices_offset_paging_and_exact_money(make_client, wb_state) -> None:  # type: ignore[no-untyped-def]
    pages = list(make_client(prices_page_size=20).iter_prices())
    assert [len(p.items) for p in pages] == [20, 20, 0]
    prices = {p.listing_external_id: p for p in _all(pages)}
    nm_id, (list_price, _) = next((nm, v) for nm, v in wb_state.prices.items() if v[1] == 15)
    price = prices[str(nm_id)]
    assert price.old_price == Decimal(list_price)
    assert price.discount_percent == 15
    assert price.price == (Decimal(list_price) * Decimal("0.85")).quantize(Decimal("0.01"))
    assert isinstance(price.price, Decimal)


def test_stocks_are_read_per_size_and_warehouse_including_wb_warehouses(make_client, wb_state) -> None:  # type: ignore[no-untyped-def]
    pages = list(make_client(cards_page_size=20, stock_group_size=20).iter_stocks())
    assert [p.done for p in pages] == [False, False, True]  # two groups of 20 cards, then the empty end
    stocks = _all(pages)
    keys = [(s.listing_external_id, s.warehouse_external_id, s.variant_id) for s in stocks]
    assert len(keys) == len(set(keys))  # one row per listing, warehouse and size
    card = next(c for c in wb_state.cards if len(c.sizes) == 3)
    seller = {
        s.variant_id: s.present
        for s in stocks
        if s.listing_external_id == str(card.nm_id) and s.warehouse_external_id == "1001001"
    }
    # Each size keeps its own stock (chrtId), never a card total.
    assert seller == {str(s["chrtID"]): (s["chrtID"] * 2_654_435_761 + 1001001) % 61 for s in card.sizes}
    wb_rows = [s for s in stocks if s.warehouse_external_id.startswith("wb:")]
    assert {s.warehouse_name for s in wb_rows} >= {"Коледино", "Казань"}
    sizes_at_wb = {s.variant_id for s in wb_rows if s.listing_external_id == str(card.nm_id)}
    assert sizes_at_wb == {str(s["chrtID"]) for s in card.sizes}
    assert all(s.variant_id for s in stocks)


def test_orders_of_every_scheme_and_status_with_exact_money(client: WildberriesClient, sandbox_world) -> None:  # type: ignore[no-untyped-def]
    since = sandbox_world.now - timedelta(days=90)
    pages = list(client.iter_orders(since))
    assert pages[-1].done and pages[-1].cursor["phase"] == "fbo"
    orders = _all(pages)
    schemes = Counter(o.scheme for o in orders)
    assert set(schemes) == {"FBS", "DBS", "FBO"}
    statuses = {o.status for o in orders}
    assert {"processing", "in_delivery", "delivered", "cancelled"} <= statuses
    fbs = next(o for o in orders if o.scheme == "FBS")
    assert fbs.currency == "RUB" and fbs.total_amount == fbs.lines[0].price
    assert fbs.total_amount.as_tuple().exponent == -2  # kopecks / 100, not a float
    fbo = [o for o in orders if o.scheme == "FBO"]
    assert fbo and all(o.ordered_at.tzinfo is not None for o in fbo)
    assert len({o.external_id for o in orders}) == len(orders)
    assert pages[-1].watermark == max(o.updated_at for o in orders if o.updated_at)


def test_advance_brings_new_and_changed_orders_after_the_watermark(make_client, sandbox_world: SandboxWorld) -> None:  # type: ignore[no-untyped-def]
    first_pages = list(make_client().iter_orders(sandbox_world.now - timedelta(days=90)))
    before = {o.external_id: o.status for o in _all(first_pages)}
    watermark = first_pages[-1].watermark
    old_now = sandbox_world.now
    sandbox_world.advance(3 * 24 * 60)
    client = make_client()
    client.http.clock.current = sandbox_world.now.timestamp()
    after = _all(client.iter_orders(watermark))
    new = [o for o in after if o.external_id not in before]
    changed = [o for o in after if o.external_id in before and before[o.external_id] != o.status]
    placed_since = [o for o in new if o.ordered_at > old_now]
    assert {o.scheme for o in placed_since} >= {"FBS", "FBO"}
    # WB lists DBS tasks only when new or completed, so an older one first shows up once it completes.
    assert all(o.ordered_at > old_now or o.scheme == "DBS" for o in new)
    assert changed  # status progress and cancellations of earlier orders
    assert all(o.updated_at and o.updated_at <= sandbox_world.now for o in after)


def test_reviews_and_questions_answered_and_not_and_an_empty_result(client: WildberriesClient, sandbox_world) -> None:  # type: ignore[no-untyped-def]
    since = sandbox_world.now - timedelta(days=90)
    reviews = _all(client.iter_reviews(since))
    assert {r.is_answered for r in reviews} == {True, False}
    assert all(1 <= (r.rating or 0) <= 5 and r.offer_id.startswith("PRL-") for r in reviews)
    questions = _all(client.iter_questions(since))
    assert {q.is_answered for q in questions} == {True, False}
    future = sandbox_world.now + timedelta(days=1)
    empty = list(client.iter_reviews(future))
    assert _all(empty) == [] and empty[-1].done and empty[-1].watermark == future


def test_feedback_paging_resumes_from_a_saved_cursor(make_client, sandbox_world) -> None:  # type: ignore[no-untyped-def]
    since = sandbox_world.now - timedelta(days=90)
    full = [r.external_id for r in _all(make_client(feedbacks_page_size=7).iter_reviews(since))]
    pages = make_client(feedbacks_page_size=7).iter_reviews(since)
    saved = next(pages).cursor
    rest = [r.external_id for r in _all(make_client(feedbacks_page_size=7).iter_reviews(since, saved))]
    assert rest == full[7:]


def test_returns_promotions_and_finance(client: WildberriesClient, sandbox_world) -> None:  # type: ignore[no-untyped-def]
    since = sandbox_world.now - timedelta(days=90)
    returns = _all(client.iter_returns(since))
    assert returns and all(r.order_external_id and r.amount is not None for r in returns)
    promotions = _all(client.iter_promotions())
    assert {p.kind for p in promotions} == {"regular", "auto"}
    regular = next(p for p in promotions if p.external_id == "1001")
    assert regular.is_participating and regular.title == "Чёрная пятница"
    offers = _all(client.iter_promotion_offers("1001"))
    assert {o.status for o in offers} == {"participating", "eligible"}
    assert _all(client.iter_promotion_offers("1004")) == []  # automatic promotions list no goods
    finance = _all(client.iter_finance(since))
    sale = next(f for f in finance if f.operation_type == "Продажа")
    commission = next(fee for fee in sale.fees if fee.kind == "commission")
    acquiring = next(fee for fee in sale.fees if fee.kind == "acquiring")
    assert sale.amount == sale.sale_amount + commission.amount + acquiring.amount  # exact Decimal arithmetic
    assert _all(client.iter_finance(sandbox_world.now + timedelta(days=2))) == []  # 204: no report rows


def test_finance_paging_by_rrd_id_to_the_end(make_client, sandbox_world) -> None:  # type: ignore[no-untyped-def]
    since = sandbox_world.now - timedelta(days=90)
    full = [f.external_id for f in _all(make_client().iter_finance(since))]
    pages = list(make_client(finance_page_size=len(full) // 2).iter_finance(since))
    assert [f.external_id for f in _all(pages)] == full
    assert pages[-1].done and len(pages) >= 3


def test_every_read_conforms_to_the_official_specs(
    client: WildberriesClient, recorder: RecordingTransport, sandbox_world
) -> None:  # type: ignore[no-untyped-def]
    since = sandbox_world.now - timedelta(days=90)
    client.check_auth()
    for stream in (
        client.iter_warehouses(),
        client.iter_listings(),
        client.iter_prices(),
        client.iter_stocks(),
        client.iter_orders(since),
        client.iter_returns(since),
        client.iter_reviews(since),
        client.iter_questions(since),
        client.iter_promotions(),
        client.iter_promotion_offers("1002"),
        client.iter_promotion_offers("1004"),
        client.iter_finance(since),
    ):
        list(stream)
    checker = ContractChecker.for_marketplace("wildberries")
    violations = [v for request, response in recorder.exchanges for v in checker.check_exchange(request, response)]
    operations = {checker.operation_key(request) for request, _ in recorder.exchanges}
    assert violations == []
    assert None not in operations and len(operations) >= 19


def test_a_large_statistics_answer_is_handed_on_in_slices_and_resumes_at_its_date(  # type: ignore[no-untyped-def]
    make_client, sandbox_world: SandboxWorld
) -> None:
    since = sandbox_world.now - timedelta(days=90)
    whole = [o for o in _all(make_client().iter_orders(since)) if o.scheme == "FBO"]
    pages = [p for p in make_client(statistics_slice_rows=7).iter_orders(since) if p.cursor["phase"] == "fbo"]
    sliced = [o for p in pages for o in p.items]
    assert [o.external_id for o in sliced] == [o.external_id for o in whole]
    assert len(pages) > 3 and all(len(p.items) <= 7 for p in pages)
    # One answer: every slice but the last keeps the dateFrom it was asked with, so a run stopped
    # between slices asks for the whole answer again (the upserts make that harmless). The answer
    # is shorter than WB's cap, so it is the end: no second request (1 a minute) for nothing new.
    dates = [p.cursor["dateFrom"] for p in pages]
    assert dates[0] == dates[-2] != dates[-1] and pages[-1].done and [p.done for p in pages].count(True) == 1
    resumed = _all(make_client(statistics_slice_rows=7).iter_orders(since, pages[1].cursor))
    assert {o.external_id for o in resumed} == {o.external_id for o in whole}
