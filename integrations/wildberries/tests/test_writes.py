"""Writes through the in-process sandbox: batching, per-item errors, async uploads, read-back, contract."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from integrations.base import ContentUpdate, PriceUpdate, PromotionItem, StockUpdate, WriteStatus
from integrations.sandbox import wildberries as wb_sandbox
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.contract import ContractChecker, RecordingTransport
from integrations.sandbox.world import SandboxWorld
from integrations.wildberries import limits
from integrations.wildberries.client import LEAVE_PROMOTION_UNSUPPORTED, WildberriesClient, price_payload


def _card(state: wb_sandbox.WBState, article: str) -> wb_sandbox.Card:
    return next(c for c in state.cards if c.article == article)


def _price(card: wb_sandbox.Card, price: str) -> PriceUpdate:
    nm = str(card.nm_id)
    return PriceUpdate(key=nm, offer_id=card.article, listing_external_id=nm, price=Decimal(price))


def test_price_payload_turns_the_buyer_price_into_wb_list_price_and_discount() -> None:
    update = PriceUpdate(
        key="1", offer_id="A", listing_external_id="123", price=Decimal("850"), old_price=Decimal("1000")
    )
    assert price_payload(update) == {"nmID": 123, "price": 1000, "discount": 15}
    update = PriceUpdate(key="1", offer_id="A", listing_external_id="123", price=Decimal("1499.90"))
    assert price_payload(update) == {"nmID": 123, "price": 1500, "discount": 0}  # WB takes whole roubles
    with pytest.raises(ValueError, match="nmID"):
        price_payload(PriceUpdate(key="1", offer_id="A", listing_external_id="PRL-1", price=Decimal("1")))


def test_price_upload_is_accepted_then_resolved_and_read_back(
    client: WildberriesClient, wb_state, sandbox_world: SandboxWorld
) -> None:  # type: ignore[no-untyped-def]
    ok, refused = _card(wb_state, "PRL-00002"), _card(wb_state, "PRL-00003")
    sandbox_world.faults.reject_offer_ids = {"PRL-00003"}
    results = client.update_prices([_price(ok, "2100"), _price(refused, "2200")])
    assert [r.status for r in results] == [WriteStatus.ACCEPTED, WriteStatus.ACCEPTED]
    assert results[0].remote_ref == results[1].remote_ref
    outcome = {r.key: r for r in client.fetch_write_results(results[0].remote_ref) or []}
    assert outcome[str(ok.nm_id)].status == WriteStatus.APPLIED
    assert outcome[str(refused.nm_id)].status == WriteStatus.REJECTED
    assert outcome[str(refused.nm_id)].message == wb_sandbox.REJECT_PRICE
    prices = {p.listing_external_id: p for page in client.iter_prices() for p in page.items}
    assert prices[str(ok.nm_id)].price == Decimal("2100")
    assert prices[str(refused.nm_id)].price != Decimal("2200")


def test_an_upload_still_in_the_buffer_has_no_results_yet(
    client: WildberriesClient, wb_state, sandbox_world: SandboxWorld
) -> None:  # type: ignore[no-untyped-def]
    wb_state.upload_delay = timedelta(minutes=10)
    card = _card(wb_state, "PRL-00004")
    first = client.update_prices([_price(card, "1999")])[0]
    again = client.update_prices([_price(card, "1999")])[0]  # the same upload again: WB answers 208
    assert again.status == WriteStatus.ACCEPTED and again.remote_ref == first.remote_ref
    assert "duplicate" in again.message
    assert client.fetch_write_results(first.remote_ref) is None
    sandbox_world.advance(15)
    assert [r.status for r in client.fetch_write_results(first.remote_ref) or []] == [WriteStatus.APPLIED]


def test_prices_are_sent_in_batches_of_the_platform_maximum(
    client: WildberriesClient, wb_state, recorder, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(limits, "MAX_PRICE_UPLOAD", 15)
    updates = [_price(card, str(1000 + card.index)) for card in wb_state.cards]
    updates.append(PriceUpdate(key="bad", offer_id="X", listing_external_id="not-a-number", price=Decimal("5")))
    results = client.update_prices(updates)
    assert len(results) == 41 and results[-1].status == WriteStatus.REJECTED and results[-1].key == "bad"
    assert len({r.remote_ref for r in results[:-1]}) == 3  # 40 items, 15 per upload
    uploads = [r for r, _ in recorder.exchanges if r.url.path.endswith("/api/v2/upload/task")]
    assert len(uploads) == 3


def test_stock_write_applies_good_sizes_and_rejects_refused_ones(
    client: WildberriesClient, wb_state, sandbox_world: SandboxWorld
) -> None:  # type: ignore[no-untyped-def]
    good, bad = _card(wb_state, "PRL-00005"), _card(wb_state, "PRL-00006")
    sandbox_world.faults.reject_offer_ids = {"PRL-00006"}

    def update(card: wb_sandbox.Card, quantity: int) -> StockUpdate:
        return StockUpdate(
            key=card.article,
            offer_id=card.article,
            listing_external_id=str(card.nm_id),
            warehouse_external_id="1001001",
            quantity=quantity,
            variant_id=str(card.sizes[0]["chrtID"]),
        )

    fbw = StockUpdate(key="fbw", offer_id="x", listing_external_id="1", warehouse_external_id="wb:507", quantity=1)
    results = client.update_stocks([update(good, 42), update(bad, 7), fbw])
    assert [r.status for r in results] == [WriteStatus.APPLIED, WriteStatus.REJECTED, WriteStatus.REJECTED]
    assert wb_sandbox.REJECT_STOCK[0] in results[1].message
    stocks = {
        (s.listing_external_id, s.warehouse_external_id): s.present for page in client.iter_stocks() for s in page.items
    }
    assert stocks[(str(good.nm_id), "1001001")] == 42


def test_content_update_sends_the_whole_card_and_reads_back(
    client: WildberriesClient, wb_state, recorder, sandbox_world: SandboxWorld
) -> None:  # type: ignore[no-untyped-def]
    card, refused = _card(wb_state, "PRL-00007"), _card(wb_state, "PRL-00008")
    sandbox_world.faults.reject_offer_ids = {"PRL-00008"}
    results = client.update_listing_content(
        [
            ContentUpdate(key="a", offer_id=card.article, listing_external_id=str(card.nm_id), title="Новое имя"),
            ContentUpdate(key="b", offer_id=refused.article, listing_external_id=str(refused.nm_id), title="Другое"),
            ContentUpdate(key="c", offer_id="?", listing_external_id="999", description="нет такой"),
        ]
    )
    assert [r.status for r in results] == [WriteStatus.APPLIED, WriteStatus.REJECTED, WriteStatus.REJECTED]
    assert results[1].message == wb_sandbox.REJECT_CARD
    sent = next(r for r, _ in recorder.exchanges if r.url.path.endswith("/content/v2/cards/update"))
    assert b'"sizes"' in sent.content and b'"vendorCode"' in sent.content  # WB overwrites the whole card
    listings = {i.external_id: i for page in client.iter_listings() for i in page.items}
    assert listings[str(card.nm_id)].title == "Новое имя"
    assert listings[str(card.nm_id)].description == card.description


def test_answers_mark_reviews_and_questions_answered(client: WildberriesClient, sandbox_world) -> None:  # type: ignore[no-untyped-def]
    since = sandbox_world.now - timedelta(days=90)
    review = next(r for page in client.iter_reviews(since) for r in page.items if not r.is_answered)
    question = next(q for page in client.iter_questions(since) for q in page.items if not q.is_answered)
    assert client.answer_review("r1", review.external_id, "Спасибо, что выбрали нас!").status == WriteStatus.APPLIED
    assert (
        client.answer_question("q1", question.external_id, "Да, можно стирать при 30°.").status == WriteStatus.APPLIED
    )
    reviews = {r.external_id: r for page in client.iter_reviews(since) for r in page.items}
    assert reviews[review.external_id].answer_text == "Спасибо, что выбрали нас!"
    questions = {q.external_id: q for page in client.iter_questions(since) for q in page.items}
    assert questions[question.external_id].is_answered
    missing = client.answer_question("q2", "NoSuchQuestion000000", "Текст")
    assert missing.status == WriteStatus.REJECTED and "Вопрос не найден" in missing.message
    short = client.answer_review("r2", review.external_id, "!")
    assert short.status == WriteStatus.REJECTED and "between 2 and 5000" in short.message


def test_joining_a_promotion_makes_goods_participating_and_leaving_is_refused_locally(
    client: WildberriesClient, wb_state, sandbox_app: SandboxApp
) -> None:  # type: ignore[no-untyped-def]
    eligible = [o for page in client.iter_promotion_offers("1002") for o in page.items if o.status == "eligible"]
    target = eligible[0].offer_key
    not_eligible = next(str(c.nm_id) for c in wb_state.cards if (c.index + 1002) % 3)
    results = client.join_promotion(
        "1002", [PromotionItem(key="j1", offer_key=target), PromotionItem(key="j2", offer_key=not_eligible)]
    )
    assert {r.status for r in results} == {WriteStatus.ACCEPTED}
    outcome = {r.key: r for r in client.fetch_write_results(results[0].remote_ref) or []}
    assert outcome[target].status == WriteStatus.APPLIED
    assert outcome[not_eligible].status == WriteStatus.REJECTED and "not eligible" in outcome[not_eligible].message
    offers = {o.offer_key: o.status for page in client.iter_promotion_offers("1002") for o in page.items}
    assert offers[target] == "participating"
    seen = sandbox_app.requests_seen
    left = client.leave_promotion("1002", [PromotionItem(key="l1", offer_key=target)])
    assert left[0].status == WriteStatus.REJECTED and left[0].message == LEAVE_PROMOTION_UNSUPPORTED
    assert sandbox_app.requests_seen == seen  # nothing was sent


def test_every_write_conforms_to_the_official_specs(
    client: WildberriesClient, wb_state, recorder: RecordingTransport, sandbox_world
) -> None:  # type: ignore[no-untyped-def]
    sandbox_world.faults.reject_offer_ids = {"PRL-00010"}
    cards = wb_state.cards[:12]
    prices = client.update_prices([_price(c, "1500") for c in cards])
    client.fetch_write_results(prices[0].remote_ref)
    client.update_stocks(
        [
            StockUpdate(
                key=c.article,
                offer_id=c.article,
                listing_external_id=str(c.nm_id),
                warehouse_external_id="1001001",
                quantity=3,
                variant_id=str(c.sizes[0]["chrtID"]),
            )
            for c in cards
        ]
    )
    client.update_listing_content(
        [ContentUpdate(key="t", offer_id=cards[0].article, listing_external_id=str(cards[0].nm_id), title="Кружка")]
    )
    since = sandbox_world.now - timedelta(days=90)
    review = next(r for page in client.iter_reviews(since) for r in page.items)
    question = next(q for page in client.iter_questions(since) for q in page.items)
    client.answer_review("r", review.external_id, "Спасибо!")
    client.answer_question("q", question.external_id, "Да.")
    offer = next(o for page in client.iter_promotion_offers("1001") for o in page.items)
    joined = client.join_promotion("1001", [PromotionItem(key="p", offer_key=offer.offer_key)])
    client.fetch_write_results(joined[0].remote_ref)
    checker = ContractChecker.for_marketplace("wildberries")
    violations = [v for request, response in recorder.exchanges for v in checker.check_exchange(request, response)]
    assert violations == []
    operations = {checker.operation_key(r) for r, _ in recorder.exchanges}
    assert {
        "PUT /api/v3/stocks/{warehouseId}",
        "POST /api/v2/upload/task",
        "PATCH /api/v1/questions",
        "POST /content/v2/cards/update",
        "POST /api/v1/calendar/promotions/upload",
    } <= operations
