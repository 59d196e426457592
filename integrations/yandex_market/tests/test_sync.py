"""Yandex Market through the sync engine and the outbox into PostgreSQL (issue 9): archived offers,
the bestseller minimum kept across price updates, old orders followed to their final status."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from catalog.models import Listing
from integrations import outbox
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount
from integrations.registry import get_client
from integrations.sandbox import credentials
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.sync import engine
from orders.ingest import FINAL_STATUSES
from orders.models import Order
from pricing import services as pricing
from pricing.models import Price

pytestmark = pytest.mark.django_db

BUSINESS = f"/v2/businesses/{credentials.YM_BUSINESS_ID}"


class Sandbox:
    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self.transport = SandboxTransport(SandboxApp(world))
        self.account = MarketplaceAccount(marketplace="yandex_market", name="Маркет", base_url="http://s/yandex_market",
                                          business_id=str(credentials.YM_BUSINESS_ID))
        self.account.set_credentials({"api_key": credentials.YM_API_KEY})
        self.account.save()
        self.clock = FakeClock()

    def client(self) -> Any:
        return get_client(self.account, transport=self.transport, clock=self.clock, limiter=LocalLimiter())

    def sync(self, stream: str, **kwargs: Any) -> Any:
        return engine.run_stream(self.account, stream, client=self.client(), heartbeat=False, **kwargs)

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        request = httpx.Request(method, f"http://s/yandex_market{path}", params=params, json=body,
                                headers={"Api-Key": credentials.YM_API_KEY})
        response = self.transport.handle_request(request)
        response.read()
        return response


@pytest.fixture
def sandbox() -> Sandbox:
    start = datetime.now(UTC).replace(microsecond=0)  # the engine's first-read lookback covers the history
    return Sandbox(SandboxWorld(SandboxConfig(seed=11, products=40, orders=120, start=start)))




def test_archived_offers_are_synced_and_an_offer_archived_later_shows_as_archived_not_gone(
    sandbox: Sandbox,
) -> None:
    sandbox.sync("listings")
    listings = Listing.objects.filter(account=sandbox.account)
    assert listings.count() == 40
    assert list(listings.filter(archived=True).values_list("offer_id", flat=True)) == ["PRL-00023"]
    fby = sandbox.call("POST", "/v2/campaigns/800102/offers/stocks", {}, limit=200).json()["result"]["warehouses"]
    no_fby_stock = sorted(o["offerId"] for w in fby for o in w["offers"]
                          if all(s["count"] == 0 for s in o["stocks"] if s["type"] == "FIT"))[0]

    archived = sandbox.call("POST", f"{BUSINESS}/offer-mappings/archive", {"offerIds": [no_fby_stock]})
    assert archived.status_code == 200 and archived.json()["result"] == {}
    run = sandbox.sync("listings")

    listing = listings.get(offer_id=no_fby_stock)
    assert listing.archived is True and listing.missing_since is None
    assert run.updated == 1 and listings.filter(missing_since__isnull=False).count() == 0

    sandbox.call("POST", f"{BUSINESS}/offer-mappings/unarchive", {"offerIds": [no_fby_stock]})
    sandbox.sync("listings")
    assert listings.get(offer_id=no_fby_stock).archived is False


def test_a_price_change_keeps_the_bestseller_minimum_set_before(sandbox: Sandbox) -> None:
    sandbox.sync("listings")
    sandbox.sync("prices")
    prices = Price.objects.filter(listing__account=sandbox.account)
    price = prices.filter(min_price__isnull=False).order_by("listing__offer_id").first()
    assert price is not None and price.min_price < price.price
    minimum, offer = price.min_price, price.listing.offer_id
    without = prices.filter(min_price__isnull=True).order_by("listing__offer_id").first()
    assert without is not None

    # A new price without a minimum (the screens' bulk change), and one with a new minimum.
    pricing.change_price(price.listing, price.price + 100, user=None, force=True)
    pricing.change_price(without.listing, without.price + 100, user=None, min_price=without.price - 50, force=True)
    summary = push(sandbox)
    sandbox.sync("prices")

    assert summary.statuses["applied"] == 2, summary.statuses
    answer = sandbox.call("POST", f"{BUSINESS}/offer-prices", {"offerIds": [offer]}).json()["result"]["offers"][0]
    assert _decimal(answer["price"].get("minimumForBestseller")) == minimum
    assert prices.get(listing__offer_id=offer).min_price == minimum
    assert prices.get(pk=without.pk).min_price == without.price - 50
    assert prices.get(pk=without.pk).price == without.price + 100


def test_a_price_cut_below_the_bestseller_minimum_drops_it_like_the_guard_on_a_new_one(sandbox: Sandbox) -> None:
    sandbox.sync("listings")
    sandbox.sync("prices")
    price = Price.objects.filter(listing__account=sandbox.account, min_price__isnull=False).order_by("pk").first()
    assert price is not None

    change = pricing.change_price(price.listing, price.min_price - 1, user=None, force=True)
    summary = push(sandbox)

    assert change.payload["min_price"] is None and summary.statuses["applied"] == 1
    offer = price.listing.offer_id
    answer = sandbox.call("POST", f"{BUSINESS}/offer-prices", {"offerIds": [offer]}).json()["result"]["offers"][0]
    assert _decimal(answer["price"]["value"]) == price.min_price - 1
    assert "minimumForBestseller" not in answer["price"]


def test_an_order_created_40_days_ago_is_followed_to_its_final_status_by_the_normal_orders_sync(
    sandbox: Sandbox,
) -> None:
    recording = RecordingTransport(sandbox.transport)
    sandbox.transport = recording  # type: ignore[assignment]
    sandbox.sync("listings")
    sandbox.sync("orders")
    orders = Order.objects.filter(account=sandbox.account)
    now = sandbox.world.now
    old_open = list(orders.filter(ordered_at__lt=now - timedelta(days=40)).exclude(status__in=FINAL_STATUSES))
    assert old_open, "the sandbox has orders still on their way 40+ days after creation"
    recording.clear()

    sandbox.world.advance(60)
    run = sandbox.sync("orders")

    for order in old_open:
        order.refresh_from_db()
        assert order.status == "delivered" and order.raw_status == "DELIVERED"
        assert order.status_changes.filter(to_status="delivered").count() == 1
    # Read by the change read alone: every request was the orders list by update time, none by id.
    bodies = [json.loads(r.content) for r, _ in recording.exchanges if r.url.path.endswith("/orders")]
    assert bodies and all(set(b) <= {"dates"} and set(b["dates"]) == {"updateDateFrom", "updateDateTo"}
                          for b in bodies)
    assert run.updated >= len(old_open)


def push(sandbox: Sandbox) -> outbox.PushSummary:
    return outbox.push_account(sandbox.account, client=sandbox.client())


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
