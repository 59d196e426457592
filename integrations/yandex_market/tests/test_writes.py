"""Writes through the sandbox: batches, per-item refusals, and what a read shows afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from integrations.base import (
    ContentUpdate,
    PriceUpdate,
    PromotionItem,
    StockUpdate,
    WriteResult,
    WriteStatus,
)
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.world import SandboxWorld
from integrations.yandex_market.client import YandexMarketClient
from integrations.yandex_market.tests.conftest import requests_to

MakeClient = Callable[..., YandexMarketClient]


def by_key(results: list[WriteResult]) -> dict[str, WriteResult]:
    return {r.key: r for r in results}


def price(offer: str, amount: str, key: str | None = None, old_price: Decimal | None = None) -> PriceUpdate:
    return PriceUpdate(key or f"price:{offer}", offer, offer, Decimal(amount), old_price=old_price)


def test_prices_are_written_exactly_and_read_back(client: YandexMarketClient, recording: RecordingTransport) -> None:
    results = client.update_prices([
        price("PRL-00002", "1234.56"),
        price("PRL-00003", "19999.99", old_price=Decimal("24999")),
        price("PRL-00004", "0.3"),
    ])

    assert [r.status for r in results] == [WriteStatus.APPLIED] * 3
    sent = next(json.loads(r.content) for r, _ in recording.exchanges if r.url.path.endswith("/offer-prices/updates"))
    assert b'"value": 1234.56' in next(r.content for r, _ in recording.exchanges
                                       if r.url.path.endswith("/offer-prices/updates"))
    assert sent["offers"][1]["price"] == {"value": 19999.99, "currencyId": "RUR", "discountBase": 24999}
    prices = {p.offer_id: p for page in client.iter_prices() for p in page.items}
    assert prices["PRL-00002"].price == Decimal("1234.56")
    assert prices["PRL-00003"].price == Decimal("19999.99") and prices["PRL-00003"].old_price == Decimal("24999")
    assert prices["PRL-00004"].price == Decimal("0.3")


def test_a_refused_offer_is_rejected_with_markets_message_and_the_rest_applied(
    client: YandexMarketClient, world: SandboxWorld, recording: RecordingTransport
) -> None:
    world.faults.reject_offer_ids = {"PRL-00005"}
    before = {p.offer_id: p.price for page in client.iter_prices() for p in page.items}

    results = by_key(client.update_prices([
        price("PRL-00004", "777.00"), price("PRL-00005", "888.00"), price("PRL-00006", "999.90"),
    ]))

    assert results["price:PRL-00005"].status == WriteStatus.REJECTED
    assert "заблокирована" in results["price:PRL-00005"].message
    assert "PRL-00005" in results["price:PRL-00005"].message
    assert results["price:PRL-00004"].status == results["price:PRL-00006"].status == WriteStatus.APPLIED
    assert requests_to(recording, "POST", "/offer-prices/updates") == 2  # refused batch, then the rest
    after = {p.offer_id: p.price for page in client.iter_prices() for p in page.items}
    assert after["PRL-00004"] == Decimal("777.00") and after["PRL-00006"] == Decimal("999.90")
    assert after["PRL-00005"] == before["PRL-00005"]


def test_price_batches_hold_at_most_the_batch_size_and_unique_offers(
    make_client: MakeClient, recording: RecordingTransport
) -> None:
    client = make_client(price_batch_size=2)
    updates = [price(f"PRL-{i:05d}", f"{100 + i}.00") for i in range(1, 6)]
    updates.append(price("PRL-00001", "555.00", key="again"))  # the same offer twice: a separate request

    results = client.update_prices(updates)

    assert [r.key for r in results] == [u.key for u in updates]
    assert all(r.status == WriteStatus.APPLIED for r in results)
    sent = [json.loads(r.content)["offers"] for r, _ in recording.exchanges
            if r.url.path.endswith("/offer-prices/updates")]
    assert [len(batch) for batch in sent] == [2, 2, 2]
    assert all(len({o["offerId"] for o in batch}) == len(batch) for batch in sent)
    prices = {p.offer_id: p.price for page in client.iter_prices() for p in page.items}
    assert prices["PRL-00001"] == Decimal("555.00")  # the later update wins


def test_stocks_go_to_the_campaign_owning_the_warehouse_and_read_back(
    client: YandexMarketClient, world: SandboxWorld, recording: RecordingTransport
) -> None:
    world.faults.reject_offer_ids = {"PRL-00009"}

    results = by_key(client.update_stocks([
        StockUpdate("fbs", "PRL-00007", "PRL-00007", "50101", 17),
        StockUpdate("dbs", "PRL-00007", "PRL-00007", "50103", 4),
        StockUpdate("fby", "PRL-00007", "PRL-00007", "147", 9),
        StockUpdate("unknown", "PRL-00007", "PRL-00007", "999", 1),
        StockUpdate("refused", "PRL-00009", "PRL-00009", "50101", 2),
    ]))

    assert results["fbs"].status == results["dbs"].status == WriteStatus.APPLIED
    assert results["fby"].status == WriteStatus.REJECTED and "FBY" in results["fby"].message
    assert results["unknown"].status == WriteStatus.REJECTED and "unknown warehouse" in results["unknown"].message
    assert results["refused"].status == WriteStatus.REJECTED and "PRL-00009" in results["refused"].message
    paths = {r.url.path for r, _ in recording.exchanges if r.method == "PUT"}
    assert paths == {"/yandex_market/v2/campaigns/800101/offers/stocks",
                     "/yandex_market/v2/campaigns/800103/offers/stocks"}
    stocks = {(s.offer_id, s.warehouse_external_id): s for page in client.iter_stocks() for s in page.items}
    fbs, dbs = stocks[("PRL-00007", "50101")], stocks[("PRL-00007", "50103")]
    assert (fbs.present - fbs.reserved, dbs.present - dbs.reserved) == (17, 4)  # sellable = what was set


def test_content_refusals_arrive_per_offer_with_http_200(client: YandexMarketClient, world: SandboxWorld) -> None:
    world.faults.reject_offer_ids = {"PRL-00011"}

    results = by_key(client.update_listing_content([
        ContentUpdate("ok", "PRL-00010", "PRL-00010", title="Кружка «Север», 350 мл", description="Новая партия."),
        ContentUpdate("refused", "PRL-00011", "PRL-00011", title="Другое название"),
        ContentUpdate("empty", "PRL-00012", "PRL-00012"),
    ]))

    assert results["ok"].status == WriteStatus.APPLIED
    assert results["refused"].status == WriteStatus.REJECTED and "модератора" in results["refused"].message
    assert results["empty"].status == WriteStatus.REJECTED
    listings = {dto.external_id: dto for page in client.iter_listings() for dto in page.items}
    assert listings["PRL-00010"].title == "Кружка «Север», 350 мл"
    assert listings["PRL-00010"].description == "Новая партия."
    assert listings["PRL-00011"].title != "Другое название"


def test_answering_a_review_marks_it_answered(client: YandexMarketClient, world: SandboxWorld) -> None:
    since = world.config.start - timedelta(days=150)
    review = next(r for page in client.iter_reviews(since) for r in page.items if not r.is_answered)

    result = client.answer_review("answer-1", review.external_id, "Спасибо! Передали замечание на производство.")

    assert result.status == WriteStatus.APPLIED and result.remote_ref
    again = {r.external_id: r for page in client.iter_reviews(since) for r in page.items}
    assert again[review.external_id].is_answered


def test_answering_an_unknown_review_is_rejected_not_raised(
    client: YandexMarketClient, recording: RecordingTransport
) -> None:
    result = client.answer_review("answer-2", "1", "Спасибо!")

    assert result.status == WriteStatus.REJECTED and "не найден" in result.message
    assert requests_to(recording, "POST", "/comments/update") == 1


def test_answering_a_question_marks_it_answered(client: YandexMarketClient, world: SandboxWorld) -> None:
    since = world.config.start - timedelta(days=59)
    question = next(q for page in client.iter_questions(since) for q in page.items if not q.is_answered)

    result = client.answer_question("q-1", question.external_id, "Да, можно стирать при 30 °C.")

    assert result.status == WriteStatus.APPLIED and result.remote_ref
    again = {q.external_id: q for page in client.iter_questions(since) for q in page.items}
    assert again[question.external_id].is_answered


def test_joining_and_leaving_a_promo(client: YandexMarketClient, recording: RecordingTransport) -> None:
    offers = [o for page in client.iter_promotion_offers("#21001") for o in page.items]
    eligible = [o for o in offers if o.status == "eligible"][:2]
    assert eligible and all(o.max_action_price for o in eligible)
    items = [PromotionItem(f"join:{o.offer_key}", o.offer_key, action_price=o.max_action_price) for o in eligible]
    too_dear = PromotionItem("too-dear", eligible[0].offer_key, action_price=Decimal("999999"))
    not_eligible = PromotionItem("not-eligible", "PRL-00002")  # every 3rd offer only

    joined = by_key(client.join_promotion("#21001", [*items, too_dear, not_eligible]))

    assert all(joined[i.key].status == WriteStatus.APPLIED for i in items)
    assert joined["too-dear"].status == WriteStatus.REJECTED
    assert joined["too-dear"].message.startswith("PROMO_PRICE_BIGGER_THAN_MAX")
    assert joined["not-eligible"].status == WriteStatus.REJECTED
    assert "OFFER_NOT_ELIGIBLE_FOR_PROMO" in joined["not-eligible"].message
    sent = next(json.loads(r.content) for r, _ in recording.exchanges if r.url.path.endswith("/promos/offers/update"))
    params = sent["offers"][0]["params"]["discountParams"]
    assert isinstance(params["promoPrice"], int) and isinstance(params["price"], int)  # whole roubles
    after = {o.offer_key: o for page in client.iter_promotion_offers("#21001") for o in page.items}
    assert all(after[i.offer_key].status == "participating" for i in items)

    left = client.leave_promotion("#21001", items)

    assert all(r.status == WriteStatus.APPLIED for r in left)
    final = {o.offer_key: o for page in client.iter_promotion_offers("#21001") for o in page.items}
    assert all(final[i.offer_key].status == "eligible" for i in items)


def test_every_write_answers_synchronously(client: YandexMarketClient) -> None:
    assert client.fetch_write_results("anything") == []
