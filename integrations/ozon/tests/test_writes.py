"""Writes to the Ozon sandbox: batching, per-item answers, asynchronous tasks, and read-backs."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from integrations.base import ContentUpdate, PriceUpdate, PromotionItem, StockUpdate, WriteStatus
from integrations.limiter import FakeClock, LocalLimiter
from integrations.ozon.client import OzonClient
from integrations.ozon.tests.conftest import ozon_config
from integrations.sandbox import ozon as fake
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld

FBS_WAREHOUSE = str(fake.FBS_WAREHOUSES[0][0])


def listings(client: OzonClient) -> dict[str, Any]:
    return {x.offer_id: x for page in client.iter_listings() for x in page.items}


def sent_bodies(recorder: RecordingTransport, path: str) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r, _ in recorder.exchanges if r.url.path.endswith(path)]


def test_prices_are_written_as_exact_strings_and_read_back(client: OzonClient, recorder: RecordingTransport) -> None:
    items = listings(client)
    a, b = items["PRL-00002"], items["PRL-00005"]
    results = client.update_prices([
        PriceUpdate("row-1", a.offer_id, a.external_id, Decimal("1234.57"), old_price=Decimal("1500.00")),
        PriceUpdate("row-2", b.offer_id, b.external_id, Decimal("99.9"), discount_percent=10),
    ])
    assert [(r.key, r.status) for r in results] == [("row-1", "applied"), ("row-2", "applied")]
    body = sent_bodies(recorder, "/v1/product/import/prices")[-1]
    assert body["prices"][0] == {"offer_id": "PRL-00002", "price": "1234.57", "old_price": "1500.00",
                                 "currency_code": "RUB"}
    assert body["prices"][1]["old_price"] == "111"  # the discount travels as a strikethrough price
    prices = {p.offer_id: p for page in client.iter_prices() for p in page.items}
    assert prices["PRL-00002"].price == Decimal("1234.57") and prices["PRL-00002"].old_price == Decimal("1500")
    assert prices["PRL-00005"].discount_percent == 10


def test_per_item_price_errors_arrive_with_http_200(client: OzonClient, world: SandboxWorld) -> None:
    world.faults.reject_offer_ids = {"PRL-00003"}
    items = listings(client)
    results = client.update_prices([
        PriceUpdate("ok", "PRL-00002", items["PRL-00002"].external_id, Decimal("700")),
        PriceUpdate("refused", "PRL-00003", items["PRL-00003"].external_id, Decimal("700")),
        PriceUpdate("unknown", "NO-SUCH", "1", Decimal("700")),
        PriceUpdate("bad", "PRL-00004", items["PRL-00004"].external_id, Decimal("700"), old_price=Decimal("600")),
    ])
    assert [r.status for r in results] == ["applied", "rejected", "rejected", "rejected"]
    assert results[1].message.startswith("PRICE_CHANGE_BLOCKED: Цена не обновлена")
    assert "NOT_FOUND" in results[2].message and "OLD_PRICE_LESS_THAN_PRICE" in results[3].message


def test_price_writes_are_chunked_to_1000_with_one_result_per_item() -> None:
    world = SandboxWorld(SandboxConfig(seed=3, products=1100, orders=10))
    recorder = RecordingTransport(SandboxTransport(SandboxApp(world)))
    client = OzonClient(ozon_config(), transport=recorder, clock=FakeClock(), limiter=LocalLimiter())
    updates = [PriceUpdate(f"k{i}", item.article, str(fake.PRODUCT_ID_BASE + i), Decimal("500"))
               for i, item in enumerate(world.catalog)]
    updates.append(PriceUpdate("again", "PRL-00001", str(fake.PRODUCT_ID_BASE), Decimal("501")))  # same article
    results = client.update_prices(updates)
    assert [r.key for r in results] == [u.key for u in updates]
    assert all(r.status == WriteStatus.APPLIED for r in results)
    assert [len(b["prices"]) for b in sent_bodies(recorder, "/v1/product/import/prices")] == [1000, 101]


def test_stocks_are_written_per_warehouse_chunked_and_read_back(
    client: OzonClient, world: SandboxWorld, recorder: RecordingTransport
) -> None:
    world.faults.reject_offer_ids = {"PRL-00007"}
    items = listings(client)
    updates = [StockUpdate(f"s{n}", offer, items[offer].external_id, FBS_WAREHOUSE, 10 + n)
               for n, offer in enumerate(sorted(items))]
    updates += [StockUpdate(f"w{n}", offer, items[offer].external_id, str(fake.FBS_WAREHOUSES[1][0]), 3)
                for n, offer in enumerate(sorted(items))]
    updates += [StockUpdate(f"r{n}", offer, items[offer].external_id, str(fake.RFBS_WAREHOUSE[0]), 1)
                for n, offer in enumerate(sorted(items))]
    updates += [
        StockUpdate("nowhere", "PRL-00001", items["PRL-00001"].external_id, "999", 1),
        StockUpdate("fbo", "PRL-00001", items["PRL-00001"].external_id, "fbo", 1),
    ]
    results = client.update_stocks(updates)
    by_key = {r.key: r for r in results}
    assert len(results) == len(updates) == 122
    assert [len(b["stocks"]) for b in sent_bodies(recorder, "/v2/products/stocks")] == [100, 21]
    assert by_key["s6"].status == "rejected" and "PRODUCT_IS_NOT_CREATED" in by_key["s6"].message
    assert by_key["nowhere"].status == "rejected" and "WAREHOUSE_NOT_FOUND" in by_key["nowhere"].message
    assert by_key["fbo"].status == "rejected" and "FBO" in by_key["fbo"].message
    assert by_key["s0"].status == "applied"
    stocks = {(s.offer_id, s.warehouse_external_id): s for page in client.iter_stocks() for s in page.items}
    first = stocks[("PRL-00002", FBS_WAREHOUSE)]
    # Ozon takes the sellable quantity; what it reports as present includes the reserved units.
    assert first.present - first.reserved == 11


def test_content_update_is_accepted_then_resolved_by_the_task(client: OzonClient, world: SandboxWorld) -> None:
    world.faults.reject_offer_ids = {"PRL-00009"}
    items = listings(client)
    results = client.update_listing_content([
        ContentUpdate("t", "PRL-00008", items["PRL-00008"].external_id, title="Кружка «Север», 350 мл",
                      description="Новое описание: фарфор, можно в посудомойку."),
        ContentUpdate("r", "PRL-00009", items["PRL-00009"].external_id, title="Запрещённое слово"),
        ContentUpdate("n", "PRL-00010", items["PRL-00010"].external_id),
    ])
    assert [r.status for r in results] == ["accepted", "accepted", "applied"]
    assert results[0].remote_ref and results[0].remote_ref == results[1].remote_ref
    assert client.fetch_write_results(results[0].remote_ref) is None  # still in Ozon's queue
    outcome = {r.key: r for r in client.fetch_write_results(results[0].remote_ref) or []}
    assert outcome["PRL-00008"].status == "applied"
    assert outcome["PRL-00009"].status == "rejected" and "FORBIDDEN_WORDS" in outcome["PRL-00009"].message
    after = listings(client)["PRL-00008"]
    assert after.title == "Кружка «Север», 350 мл"
    assert after.description == "Новое описание: фарфор, можно в посудомойку."


def test_answers_mark_reviews_and_questions_answered(client: OzonClient, world: SandboxWorld) -> None:
    since = world.config.start - timedelta(days=200)
    review = next(r for page in client.iter_reviews(since) for r in page.items if not r.is_answered)
    question = next(q for page in client.iter_questions(since) for q in page.items if not q.is_answered)
    answered = client.answer_review("a1", review.external_id, "Спасибо за отзыв, рады, что понравилось!")
    assert answered.status == "applied" and answered.remote_ref
    assert client.answer_question("a2", question.external_id, "Да, подходит.", question.sku).status == "applied"
    again = {r.external_id: r for page in client.iter_reviews(since) for r in page.items}
    assert again[review.external_id].is_answered and again[review.external_id].raw_status == "PROCESSED"
    questions = {q.external_id: q for page in client.iter_questions(since) for q in page.items}
    assert questions[question.external_id].is_answered


def test_answer_refusals_are_per_item_and_not_retried(client: OzonClient, world: SandboxWorld) -> None:
    since = world.config.start - timedelta(days=200)
    question = next(q for page in client.iter_questions(since) for q in page.items)
    too_short = client.answer_question("q", question.external_id, "Д", question.sku)
    assert too_short.status == "rejected" and "from 2 to 3000" in too_short.message
    assert client.answer_question("q", question.external_id, "Да, конечно.", "").status == "rejected"
    missing = client.answer_review("r", "01960001-0000-0007-0000-00000000ffff", "Спасибо!")
    assert missing.status == "rejected" and "review not found" in missing.message
    assert client.http.retries == 0


def test_promotion_join_and_leave_change_participation(client: OzonClient, world: SandboxWorld) -> None:
    world.faults.reject_offer_ids = {"PRL-00005"}
    action = next(p for page in client.iter_promotions() for p in page.items)
    offers = {o.offer_key: o for page in client.iter_promotion_offers(action.external_id) for o in page.items}
    eligible = [o for o in offers.values() if o.status == "eligible"]
    participating = next(o for o in offers.values() if o.status == "participating")
    blocked, good, too_dear, unpriced, outsider = eligible[:5]
    assert blocked.offer_key == str(fake.PRODUCT_ID_BASE + 4)  # PRL-00005
    results = client.join_promotion(action.external_id, [
        PromotionItem("j1", good.offer_key, action_price=good.max_action_price),
        PromotionItem("j2", blocked.offer_key, action_price=blocked.max_action_price),
        PromotionItem("j3", too_dear.offer_key, action_price=(too_dear.max_action_price or 0) + 1),
        PromotionItem("j4", unpriced.offer_key),
    ])
    assert [r.status for r in results] == ["applied", "rejected", "rejected", "rejected"]
    assert "заблокирован" in results[1].message and "не больше" in results[2].message
    assert "promotion price" in results[3].message
    left = client.leave_promotion(action.external_id, [
        PromotionItem("l1", participating.offer_key), PromotionItem("l2", outsider.offer_key),
    ])
    assert [r.status for r in left] == ["applied", "rejected"] and left[1].message == "Товар не участвует в акции"
    after = {o.offer_key: o for page in client.iter_promotion_offers(action.external_id) for o in page.items}
    assert after[good.offer_key].status == "participating"
    assert after[good.offer_key].action_price == good.max_action_price
    assert after[participating.offer_key].status == "eligible"
