"""Reading every stream from the Ozon sandbox: paging to the end, resuming, incremental windows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from integrations.base import Page
from integrations.ozon import client as ozon_client
from integrations.ozon.client import OzonClient
from integrations.sandbox import ozon as fake
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.contract import ContractChecker, RecordingTransport
from integrations.sandbox.world import SandboxWorld

# The official swagger gives the v4 FBS list's since/to a `pattern` of " YYYY-MM-DDThh:mm:ssZ"
# (a placeholder with a leading space, not a regular expression): no real timestamp matches it.
SPEC_PLACEHOLDER_PATTERN = "does not match ' YYYY-MM-DDThh:mm:ssZ'"


def read_all(pages: Iterator[Page[Any]]) -> tuple[list[Page[Any]], list[Any]]:
    collected = list(pages)
    return collected, [item for page in collected for item in page.items]


def since_of(world: SandboxWorld) -> datetime:
    return world.config.start - timedelta(days=90)


def test_listings_page_to_the_end_when_the_total_is_a_multiple_of_the_page(
    client: OzonClient, world: SandboxWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ozon_client, "PRODUCTS_PAGE", 20)  # 40 products: 20 + 20 + an empty last page
    pages, listings = read_all(client.iter_listings())
    assert [len(p.items) for p in pages] == [20, 20, 0]
    assert [p.done for p in pages] == [False, False, True]
    assert [x.offer_id for x in listings] == [item.article for item in world.catalog]
    first = listings[0]
    assert first.title == world.catalog[0].name
    assert first.description == world.catalog[0].description
    assert first.brand == world.catalog[0].brand
    assert first.barcodes == (world.catalog[0].barcode,)
    assert first.images[0] == world.catalog[0].images[0] and len(first.images) == 2
    assert first.marketplace_sku == str(fake.SKU_BASE)
    failed = [x for x in listings if x.errors]
    assert failed and all(x.status == "failed_moderation" for x in failed)
    assert "Цвет товара" in failed[0].errors[0]
    assert any(x.archived for x in listings)


def test_prices_and_stocks_page_to_the_end_on_a_short_last_page(
    client: OzonClient, world: SandboxWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ozon_client, "PRODUCTS_PAGE", 15)  # 15 + 15 + 10
    pages, prices = read_all(client.iter_prices())
    assert [len(p.items) for p in pages] == [15, 15, 10] and pages[-1].done
    assert len({p.offer_id for p in prices}) == 40
    assert prices[1].price == world.catalog[1].base_price
    pages, stocks = read_all(client.iter_stocks())
    assert pages[-1].done
    fbo = [s for s in stocks if s.warehouse_external_id == "fbo"]
    seller = [s for s in stocks if s.warehouse_external_id != "fbo"]
    assert len(fbo) == 20 and all(s.warehouse_name for s in fbo)
    assert {s.warehouse_external_id for s in seller} == {str(w[0]) for w in fake.SELLER_WAREHOUSES}
    assert all(s.present >= s.reserved for s in stocks)


def test_warehouses(client: OzonClient) -> None:
    pages, warehouses = read_all(client.iter_warehouses())
    assert pages[-1].done
    assert [w.name for w in warehouses] == [w[1] for w in fake.SELLER_WAREHOUSES]
    assert all(w.kind == "seller" for w in warehouses)


def test_orders_of_every_scheme_and_status_are_read(client: OzonClient, world: SandboxWorld) -> None:
    pages, orders = read_all(client.iter_orders(since_of(world)))
    assert pages[-1].done and not any(p.done for p in pages[:-1])
    assert len(orders) == len({o.external_id for o in orders}) == world.config.orders
    assert {o.scheme for o in orders} == {"FBS", "DBS", "FBO"}
    raw = {(o.scheme, o.raw_status) for o in orders}
    for scheme_code, _, statuses in fake.PATHS:
        scheme = {fake.FBS: "FBS", fake.RFBS: "DBS", fake.FBO: "FBO"}[scheme_code]
        assert {(scheme, s) for s in statuses} <= raw
    assert all(o.status != "unknown" for o in orders)
    assert pages[-1].watermark == max(o.ordered_at for o in orders)
    sample = next(o for o in orders if o.scheme == "FBS")
    assert sample.lines and sample.lines[0].commission is not None and sample.warehouse_external_id
    assert sample.total_amount == sum(line.price * line.quantity for line in sample.lines)


def test_order_cursor_resumes_after_a_saved_page(
    make_client: Any, world: SandboxWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ozon_client, "POSTINGS_PAGE", 10)
    since = since_of(world)
    full_pages, everything = read_all(make_client().iter_orders(since))
    expected = sorted(o.external_id for o in everything)
    # Interrupt once inside the FBS part and once inside the FBO part, then resume from the saved cursor.
    fbo_start = next(n for n, p in enumerate(full_pages) if p.cursor.get("part") == "fbo")
    for stop_after in (3, fbo_start + 1):
        interrupted = make_client().iter_orders(since)
        done_pages = [next(interrupted) for _ in range(stop_after)]
        seen = [o.external_id for p in done_pages for o in p.items]
        rest_pages, rest = read_all(make_client().iter_orders(since, cursor=done_pages[-1].cursor))
        assert sorted(seen + [o.external_id for o in rest]) == expected
        assert not set(seen) & {o.external_id for o in rest}
        assert rest_pages[-1].watermark == full_pages[-1].watermark


def test_listing_cursor_resumes(make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ozon_client, "PRODUCTS_PAGE", 15)
    run = make_client().iter_listings()
    first = next(run)
    rest = [x.offer_id for page in make_client().iter_listings(cursor=first.cursor) for x in page.items]
    assert [x.offer_id for x in first.items] + rest == [f"PRL-{i:05d}" for i in range(1, 41)]


def test_empty_results_end_cleanly(client: OzonClient, world: SandboxWorld) -> None:
    future = world.now + timedelta(days=30)
    for stream in (client.iter_returns, client.iter_questions, client.iter_reviews):
        pages = list(stream(future))
        assert pages[-1].done and not [i for p in pages for i in p.items]


def test_returns_reviews_questions_finance_and_promotions(client: OzonClient, world: SandboxWorld) -> None:
    since = since_of(world)
    pages, returns = read_all(client.iter_returns(since))
    assert pages[-1].done and returns
    assert {r.kind for r in returns} == {"return", "cancellation"}
    assert pages[-1].watermark == max(r.updated_at for r in returns if r.updated_at)
    _, reviews = read_all(client.iter_reviews(since))
    assert {r.is_answered for r in reviews} == {True, False}
    assert all(r.published_at >= since for r in reviews)
    assert reviews == sorted(reviews, key=lambda r: r.published_at, reverse=True)
    pages, questions = read_all(client.iter_questions(since))
    assert len(pages) > 1  # ten questions a page at most (the spec's maxItems)
    assert len({q.external_id for q in questions}) == len(questions)
    assert {q.is_answered for q in questions} == {True, False}
    pages, operations = read_all(client.iter_finance(since))
    assert pages[-1].done and operations
    assert len({op.external_id for op in operations}) == len(operations)
    delivered = [op for op in operations if op.operation_type == "OperationAgentDeliveredToCustomer"]
    assert delivered and all(op.amount == op.sale_amount + sum(f.amount for f in op.fees) for op in delivered)
    assert {f.kind for op in delivered for f in op.fees} == {"commission", "logistics"}
    _, promotions = read_all(client.iter_promotions())
    assert len(promotions) == len(fake.ACTIONS) and any(p.is_participating for p in promotions)
    _, offers = read_all(client.iter_promotion_offers(promotions[0].external_id))
    assert {o.status for o in offers} == {"eligible", "participating"}
    assert all(o.max_action_price and o.base_price for o in offers)


def test_advance_new_and_changed_orders_are_picked_up_from_the_watermark(
    client: OzonClient, world: SandboxWorld, app: SandboxApp
) -> None:
    first_pages, first = read_all(client.iter_orders(since_of(world)))
    watermark = first_pages[-1].watermark
    assert watermark is not None
    before = {o.external_id: o.raw_status for o in first}
    old = world.now
    world.advance(6 * 60)
    state: fake.OzonState = world.state("ozon", fake.build_state)
    new_ts, old_ts = int(world.now.timestamp()), int(old.timestamp())
    expected_new, expected_changed = set(), set()
    for i in range(state.visible_orders(new_ts)):
        posting = fake._order_numbers(i)[2]
        _, _, status, changed_at, _ = state.order_status(i, new_ts)
        if state.created(i) > old_ts:
            expected_new.add(posting)
        elif old_ts < changed_at <= new_ts:
            expected_changed.add((posting, status))
    assert expected_new and expected_changed

    pages, again = read_all(client.iter_orders(watermark))
    seen = {o.external_id: o.raw_status for o in again}
    assert expected_new <= set(seen) and not expected_new & set(before)
    for posting, status in expected_changed:
        assert seen[posting] == status != before[posting]
    assert pages[-1].watermark is not None and pages[-1].watermark > watermark


def test_advance_brings_new_reviews_questions_returns_and_finance(client: OzonClient, world: SandboxWorld) -> None:
    since = since_of(world)
    marks = {}
    for name in ("reviews", "questions", "returns", "finance"):
        pages = list(getattr(client, f"iter_{name}")(since))
        marks[name] = pages[-1].watermark
    world.advance(3 * 24 * 60)
    for name, mark in marks.items():
        fresh = [i for p in getattr(client, f"iter_{name}")(mark) for i in p.items]
        assert fresh, name


def test_every_exchange_of_a_full_read_and_all_writes_conforms_to_the_spec(
    client: OzonClient, world: SandboxWorld, recorder: RecordingTransport
) -> None:
    from decimal import Decimal

    from integrations.base import ContentUpdate, PriceUpdate, PromotionItem, StockUpdate

    since = since_of(world)
    client.check_auth()
    for stream in (client.iter_warehouses(), client.iter_listings(), client.iter_prices(), client.iter_stocks(),
                   client.iter_orders(since), client.iter_returns(since), client.iter_reviews(since),
                   client.iter_questions(since), client.iter_finance(since)):
        read_all(stream)
    promotions = [p for page in client.iter_promotions() for p in page.items]
    offers = [o for page in client.iter_promotion_offers(promotions[0].external_id) for o in page.items]
    listing = next(x for page in client.iter_listings() for x in page.items)
    review = next(r for page in client.iter_reviews(since) for r in page.items)
    question = next(q for page in client.iter_questions(since) for q in page.items)
    client.update_prices([PriceUpdate("p", listing.offer_id, listing.external_id, Decimal("999.90"))])
    client.update_stocks([StockUpdate("s", listing.offer_id, listing.external_id, "1020000045671", 3)])
    accepted = client.update_listing_content([ContentUpdate("c", listing.offer_id, listing.external_id, title="Т")])
    client.fetch_write_results(accepted[0].remote_ref)
    client.answer_review("r", review.external_id, "Спасибо!")
    client.answer_question("q", question.external_id, "Да, можно.", question.sku)
    eligible = next(o for o in offers if o.status == "eligible")
    joined = client.join_promotion(promotions[0].external_id,
                                   [PromotionItem("j", eligible.offer_key, action_price=eligible.max_action_price)])
    left = client.leave_promotion(promotions[0].external_id, [PromotionItem("l", eligible.offer_key)])
    assert joined[0].status == left[0].status == "applied"

    checker = ContractChecker.for_marketplace("ozon")
    violations, operations = [], set()
    for request, response in recorder.exchanges:
        operations.add(checker.operation_key(request))
        violations += [v for v in checker.check_exchange(request, response) if SPEC_PLACEHOLDER_PATTERN not in v]
    assert violations == []
    assert None not in operations and len(operations) == 25


def test_product_details_carry_every_field_the_spec_lists_and_still_parse(
    client: OzonClient, recorder: RecordingTransport
) -> None:
    import json

    from integrations.sandbox.contract_specs import specs_dir

    spec = json.loads((specs_dir() / "ozon" / "swagger.json").read_text())
    listed = set(spec["components"]["schemas"]["v3GetProductInfoListResponseItem"]["properties"])
    assert {"color_image", "images360", "model_info", "price_indexes", "promotions", "availabilities"} <= listed

    _, listings = read_all(client.iter_listings())

    answers = [json.loads(response.content) for request, response in recorder.exchanges
               if request.url.path.endswith("/v3/product/info/list")]
    items = [item for answer in answers for item in answer["items"]]
    assert len(items) == 40 and all(listed <= set(item) for item in items), listed - set(items[0])
    assert {"in_stock", "hidden"} <= {a["availability"] for item in items for a in item["availabilities"]}
    assert any(item["color_image"] for item in items) and any(item["images360"] for item in items)
    checker = ContractChecker.for_marketplace("ozon")
    assert [v for request, response in recorder.exchanges for v in checker.check_exchange(request, response)
            if SPEC_PLACEHOLDER_PATTERN not in v] == []
    # The adapter reads what it needs and is not thrown by the rest.
    assert len(listings) == 40 and all(x.title and x.marketplace_sku for x in listings)
    assert sum(x.archived for x in listings) == sum(
        any(a["availability"] == "hidden" and any(r["id"] == 2 for r in a["reasons"]) for a in item["availabilities"])
        for item in items)
