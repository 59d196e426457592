"""The Yandex Market sandbox behaves as the official spec says (issue 9): default page sizes per
operation, the campaigns list's page/pageSize, archived offers, the bestseller minimum dropped when
a price update omits it, 403 for a method the Api-Key's accesses do not cover, NUL in review text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from integrations.base import MarketplaceError
from integrations.sandbox import credentials
from integrations.sandbox import yandex_market as ym_sandbox
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import ContractChecker
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.yandex_market.client import YandexMarketClient
from integrations.yandex_market.tests.conftest import requests_to

BUSINESS = f"/v2/businesses/{credentials.YM_BUSINESS_ID}"
FBY = 800102

Call = Callable[..., httpx.Response]


def caller(world: SandboxWorld) -> tuple[Call, list[tuple[httpx.Request, httpx.Response]]]:
    transport = SandboxTransport(SandboxApp(world))
    exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def call(method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        request = httpx.Request(method, f"http://sandbox.test/yandex_market{path}", params=params,
                                headers={"Api-Key": credentials.YM_API_KEY}, json=body)
        response = transport.handle_request(request)
        response.read()
        exchanges.append((request, response))
        return response

    return call, exchanges


@pytest.fixture(scope="module")
def big_world() -> SandboxWorld:
    return SandboxWorld(SandboxConfig(seed=5, products=600, orders=900))


def test_without_limit_each_operation_answers_its_documented_default_page(big_world: SandboxWorld) -> None:
    call, exchanges = caller(big_world)
    now = big_world.now.date()
    sizes = {
        # PageLimit500Truncate / PageLimit200 / PageLimit100Truncate / PageLimit50 / PageLimit30: `default`.
        "offer-prices": len(call("POST", f"{BUSINESS}/offer-prices", {}).json()["result"]["offers"]),
        "offers/stocks": sum(len(w["offers"]) for w in call("POST", f"/v2/campaigns/{FBY}/offers/stocks", {})
                             .json()["result"]["warehouses"]),
        "stats/orders": len(call("POST", f"/v2/campaigns/{FBY}/stats/orders",
                                 {"updateFrom": "2026-08-01", "updateTo": now.isoformat()}).json()["result"]["orders"]),
        "goods-feedback": len(call("POST", f"{BUSINESS}/goods-feedback", {}).json()["result"]["feedbacks"]),
        "goods-questions": len(call("POST", f"/v1/businesses/{credentials.YM_BUSINESS_ID}/goods-questions", {})
                               .json()["result"]["questions"]),
        "offer-mappings": len(call("POST", f"{BUSINESS}/offer-mappings", {}).json()["result"]["offerMappings"]),
        "promos/offers": len(call("POST", f"{BUSINESS}/promos/offers", {"promoId": "#21002"})
                             .json()["result"]["offers"]),
        "warehouses": len(call("POST", f"{BUSINESS}/warehouses", {}).json()["result"]["warehouses"]),
    }

    assert sizes == {"offer-prices": 250, "offers/stocks": 100, "stats/orders": 100, "goods-feedback": 25,
                     "goods-questions": 25, "offer-mappings": 50, "promos/offers": 250, "warehouses": 2}
    checker = ContractChecker.for_marketplace("yandex_market")
    assert [v for request, response in exchanges for v in checker.check_exchange(request, response)] == []


def test_a_limit_above_the_maximum_is_cut_down_where_the_spec_says_truncate(big_world: SandboxWorld) -> None:
    call, _ = caller(big_world)

    truncated = call("POST", f"{BUSINESS}/offer-prices", {}, limit=1000)  # PageLimit500Truncate
    refused = call("POST", f"/v2/campaigns/{FBY}/offers/stocks", {}, limit=1000)  # PageLimit200: no truncation

    assert truncated.status_code == 200 and len(truncated.json()["result"]["offers"]) == 500
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "BAD_REQUEST"


def test_campaigns_answer_page_and_page_size_as_well_as_page_tokens(world: SandboxWorld) -> None:
    call, exchanges = caller(world)

    everything = call("GET", "/v2/campaigns").json()  # the limit has no default: the whole list
    second = call("GET", "/v2/campaigns", page=2, pageSize=1).json()
    first_by_token = call("GET", "/v2/campaigns", limit=2).json()
    rest = call("GET", "/v2/campaigns", limit=2, page_token=first_by_token["paging"]["nextPageToken"]).json()

    ids = [c["id"] for c in everything["campaigns"]]
    assert len(ids) == 3 and "nextPageToken" not in everything.get("paging", {})
    assert [c["id"] for c in second["campaigns"]] == ids[1:2]
    assert second["pager"] == {"total": 3, "from": 2, "to": 2, "currentPage": 2, "pagesCount": 3, "pageSize": 1}
    assert [c["id"] for c in first_by_token["campaigns"] + rest["campaigns"]] == ids
    checker = ContractChecker.for_marketplace("yandex_market")
    assert [v for request, response in exchanges for v in checker.check_exchange(request, response)] == []


def test_the_adapter_pages_campaigns_to_the_end(make_client: Callable[..., YandexMarketClient], recording) -> None:
    client = make_client(campaigns_page_size=1)

    stores = [w for page in client.iter_warehouses() for w in page.items]

    assert client._campaign_ids() == [str(c) for c in sorted(credentials.YM_CAMPAIGNS)]
    assert requests_to(recording, "GET", "/v2/campaigns") == 3
    assert stores


# ---- archived offers (GetOfferMappingsRequest.archived) -------------------------------------------


def offer_ids(response: httpx.Response) -> list[str]:
    return [row["offer"]["offerId"] for row in response.json()["result"]["offerMappings"]]


def test_offer_mappings_leave_archived_offers_out_unless_asked_for_them(world: SandboxWorld) -> None:
    call, exchanges = caller(world)

    active = offer_ids(call("POST", f"{BUSINESS}/offer-mappings", {}, limit=100))
    explicit = offer_ids(call("POST", f"{BUSINESS}/offer-mappings", {"archived": False}, limit=100))
    archived = call("POST", f"{BUSINESS}/offer-mappings", {"archived": True}, limit=100).json()["result"]

    assert len(active) == 39 and "PRL-00023" not in active and explicit == active  # 40 offers, every 23rd archived
    assert [row["offer"]["offerId"] for row in archived["offerMappings"]] == ["PRL-00023"]
    assert archived["offerMappings"][0]["offer"]["archived"] is True
    checker = ContractChecker.for_marketplace("yandex_market")
    assert [v for request, response in exchanges for v in checker.check_exchange(request, response)] == []


def test_an_offer_archived_later_moves_to_the_archive_and_back(world: SandboxWorld) -> None:
    call, exchanges = caller(world)
    warehouses = call("POST", f"/v2/campaigns/{FBY}/offers/stocks", {}, limit=200).json()["result"]["warehouses"]
    fby_stock = {o["offerId"]: next(s["count"] for s in o["stocks"] if s["type"] == "FIT")
                 for w in warehouses for o in w["offers"]}
    empty = next(offer for offer, count in sorted(fby_stock.items()) if count == 0)
    stocked = next(offer for offer, count in sorted(fby_stock.items()) if count > 0)

    answer = call("POST", f"{BUSINESS}/offer-mappings/archive", {"offerIds": [empty, stocked]}).json()

    assert answer["result"] == {"notArchivedOffers": [{"offerId": stocked, "error": "OFFER_HAS_STOCKS"}]}
    assert empty not in offer_ids(call("POST", f"{BUSINESS}/offer-mappings", {}, limit=100))
    assert sorted(offer_ids(call("POST", f"{BUSINESS}/offer-mappings", {"archived": True}))) == sorted(
        [empty, "PRL-00023"])
    assert empty not in fby_offers(call)  # stocks of archived offers need archived: true as well

    call("POST", f"{BUSINESS}/offer-mappings/unarchive", {"offerIds": [empty]})

    assert empty in offer_ids(call("POST", f"{BUSINESS}/offer-mappings", {}, limit=100))
    checker = ContractChecker.for_marketplace("yandex_market")
    assert [v for request, response in exchanges for v in checker.check_exchange(request, response)] == []


def fby_offers(call: Call) -> set[str]:
    warehouses = call("POST", f"/v2/campaigns/{FBY}/offers/stocks", {}, limit=200).json()["result"]["warehouses"]
    return {o["offerId"] for w in warehouses for o in w["offers"]}


# ---- prices: minimumForBestseller -------------------------------------------------------------------


def test_a_price_update_without_the_bestseller_minimum_deletes_it(world: SandboxWorld) -> None:
    call, exchanges = caller(world)

    def price(offer: str) -> dict[str, Any]:
        offers = call("POST", f"{BUSINESS}/offer-prices", {"offerIds": [offer]}).json()["result"]["offers"]
        return dict(offers[0]["price"])

    seeded = price("PRL-00002")  # the seller set one in the cabinet (every third offer)
    call("POST", f"{BUSINESS}/offer-prices/updates",
         {"offers": [{"offerId": "PRL-00002", "price": {"value": 5000, "currencyId": "RUR"}},
                     {"offerId": "PRL-00005", "price": {"value": 5000, "currencyId": "RUR",
                                                        "minimumForBestseller": seeded["minimumForBestseller"]}}]})

    assert seeded["minimumForBestseller"] > 0
    assert "minimumForBestseller" not in price("PRL-00002")  # UpdateBusinessPricesDTO: omitted -> deleted
    assert price("PRL-00005")["minimumForBestseller"] == seeded["minimumForBestseller"]
    checker = ContractChecker.for_marketplace("yandex_market")
    assert [v for request, response in exchanges for v in checker.check_exchange(request, response)] == []


# ---- orders changing status weeks after creation ------------------------------------------------------


def test_an_order_created_40_days_ago_changes_status_and_the_change_read_by_update_time_returns_it(
    client: YandexMarketClient, world: SandboxWorld
) -> None:
    since = world.now - timedelta(days=90)
    first = list(client.iter_orders(since))
    old_open = [o for page in first for o in page.items
                if world.now - o.ordered_at > timedelta(days=40) and o.raw_status not in ym_sandbox.TERMINAL]
    assert old_open, "the sandbox has orders still on their way 40+ days after creation"

    world.advance(60)
    changed = {o.external_id: o for page in client.iter_orders(first[-1].watermark) for o in page.items}

    for order in old_open:
        assert changed[order.external_id].raw_status == "DELIVERED"
        assert changed[order.external_id].ordered_at == order.ordered_at


# ---- faults: an Api-Key without the access a method needs; NUL in a review ---------------------------


def test_a_method_outside_the_api_keys_accesses_answers_403_with_markets_error_body(world: SandboxWorld) -> None:
    world.faults.update({"ym_api_key_scopes": ["PRICING", "OFFERS_AND_CARDS_MANAGEMENT_READ_ONLY"]})
    call, exchanges = caller(world)

    token = call("POST", "/v2/auth/token").json()["result"]["apiKey"]
    prices = call("POST", f"{BUSINESS}/offer-prices", {})
    feedback = call("POST", f"{BUSINESS}/goods-feedback", {})
    stock_write = call("PUT", "/v2/campaigns/800101/offers/stocks", {"skus": [{"sku": "PRL-00001",
                                                                               "items": [{"count": 1}]}]})

    assert token["authScopes"] == ["PRICING", "OFFERS_AND_CARDS_MANAGEMENT_READ_ONLY"]
    assert prices.status_code == 200
    assert (feedback.status_code, stock_write.status_code) == (403, 403)
    body = feedback.json()
    assert body["status"] == "ERROR" and body["errors"][0]["code"] == "FORBIDDEN"
    assert "getGoodsFeedbacks" in body["errors"][0]["message"] and "COMMUNICATION" in body["errors"][0]["message"]
    checker = ContractChecker.for_marketplace("yandex_market")
    assert [v for request, response in exchanges for v in checker.check_exchange(request, response)] == []


def test_the_403_reaches_the_adapter_as_an_error_naming_the_method_and_markets_message(
    make_client: Callable[..., YandexMarketClient], world: SandboxWorld
) -> None:
    world.faults.ym_api_key_scopes = ["INVENTORY_AND_ORDER_PROCESSING"]
    client = make_client()

    orders = [o for page in client.iter_orders(world.now - timedelta(days=3)) for o in page.items]
    with pytest.raises(MarketplaceError) as refused:
        list(client.iter_reviews(world.now - timedelta(days=3)))

    assert orders
    assert refused.value.status == 403 and "goods-feedback" in refused.value.message
    assert "do not allow getGoodsFeedbacks" in refused.value.message


def test_the_nul_fault_puts_u0000_inside_some_review_texts(
    make_client: Callable[..., YandexMarketClient], world: SandboxWorld
) -> None:
    call, _ = caller(world)
    clean = call("POST", f"{BUSINESS}/goods-feedback", {}, limit=50).content
    world.faults.update({"nul_in_texts": True})

    raw = call("POST", f"{BUSINESS}/goods-feedback", {}, limit=50)
    reviews = [r for page in make_client().iter_reviews(world.now - timedelta(days=150)) for r in page.items]

    assert b"\\u0000" not in clean and b"\\u0000" in raw.content
    texts = [f["description"]["comment"] for f in raw.json()["result"]["feedbacks"]]
    assert 0 < sum("\x00" in t for t in texts) < len(texts)  # some reviews, not all
    assert reviews and not any("\x00" in r.text for r in reviews)  # the HTTP core strips it at the boundary
