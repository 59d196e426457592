"""Ozon's per-item write limits (issue 9, point 8): a price 10 times an hour, a stock pair once in
30 seconds. Over the limit Ozon answers TOO_MANY_REQUESTS for that item inside an HTTP 200: the
item is deferred, never rejected, and the outbox holds back what would go over the limit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations import outbox
from integrations.base import PriceUpdate, StockUpdate, WriteStatus
from integrations.models import OutboxChange
from integrations.ozon import limits
from integrations.ozon.client import OzonClient
from integrations.sandbox import ozon as fake
from integrations.sandbox.world import SandboxWorld
from pricing import services as pricing
from pricing.models import Price
from tests.test_outbox_sandbox import Sandbox, read_back, seed_listings

Status = OutboxChange.Status
FBS_WAREHOUSE = str(fake.FBS_WAREHOUSES[0][0])


def price_of(n: int) -> PriceUpdate:
    return PriceUpdate(f"p{n}", "PRL-00002", str(fake.PRODUCT_ID_BASE + 1), Decimal(1000 + n))


def test_the_sandbox_answers_too_many_requests_per_item_and_the_adapter_defers_it(
    client: OzonClient, world: SandboxWorld
) -> None:
    for n in range(limits.PRICE_PER_ITEM.count):
        assert client.update_prices([price_of(n)])[0].status == WriteStatus.APPLIED
    other = PriceUpdate("other", "PRL-00003", str(fake.PRODUCT_ID_BASE + 2), Decimal("990"))
    over, untouched = client.update_prices([price_of(10), other])
    assert over.status == WriteStatus.DEFERRED and "TOO_MANY_REQUESTS" in over.message
    assert over.retry_after == 360  # an hour shared by ten changes
    assert untouched.status == WriteStatus.APPLIED  # the limit is per item

    stock = StockUpdate("s", "PRL-00002", str(fake.PRODUCT_ID_BASE + 1), FBS_WAREHOUSE, 5)
    assert client.update_stocks([stock])[0].status == WriteStatus.APPLIED
    again = client.update_stocks([StockUpdate("s", "PRL-00002", stock.listing_external_id, FBS_WAREHOUSE, 6)])[0]
    assert again.status == WriteStatus.DEFERRED and again.retry_after == 30

    world.advance(60)  # an hour on, the price has room again; the stock pair long since
    assert client.update_prices([price_of(11)])[0].status == WriteStatus.APPLIED
    assert client.update_stocks([StockUpdate("s", "PRL-00002", stock.listing_external_id, FBS_WAREHOUSE, 6)])[
        0].status == WriteStatus.APPLIED


@pytest.mark.django_db
def test_a_too_many_requests_answer_leaves_the_change_pending_until_the_item_may_change_again() -> None:
    sandbox = Sandbox("ozon")
    [listing] = seed_listings(sandbox, 1)
    # Another tool of the seller already changed this price ten times this hour.
    direct = sandbox.client()
    for n in range(limits.PRICE_PER_ITEM.count):
        direct.update_prices([PriceUpdate(f"d{n}", listing.offer_id, listing.external_id, Decimal(2000 + n))])
    row = pricing.change_price(listing, Decimal("2500"), user=None, force=True)
    now = timezone.now()

    summary = sandbox.push(now=now)

    waiting = OutboxChange.objects.get(pk=row.pk)
    assert waiting.status == Status.PENDING and "TOO_MANY_REQUESTS" in waiting.error_message
    assert waiting.attempts == 0  # waiting for the limit is not a failed attempt
    assert waiting.next_attempt_at >= now + timedelta(seconds=360)
    assert summary.statuses == {"deferred": 1}

    sandbox.world.advance(60)
    sandbox.push(now=waiting.next_attempt_at)
    assert OutboxChange.objects.get(pk=row.pk).status == Status.APPLIED
    assert read_back(sandbox)[outbox.price_key(listing.external_id)] == Decimal("2500")


@pytest.mark.django_db
def test_the_outbox_holds_back_the_eleventh_price_change_of_an_hour_and_sends_it_when_allowed() -> None:
    sandbox = Sandbox("ozon")
    [listing] = seed_listings(sandbox, 1)
    start = timezone.now()
    base = Price.objects.get(listing=listing).price
    for n in range(limits.PRICE_PER_ITEM.count):
        pricing.change_price(listing, base + n + 1, user=None, force=True)
        sandbox.push(now=start + timedelta(minutes=n))
        sandbox.world.advance(1)
    assert sandbox.applied_price_writes() == 10
    assert set(OutboxChange.objects.filter(listing=listing).values_list("status", flat=True)) == {Status.APPLIED}

    eleventh = pricing.change_price(listing, base + 100, user=None, force=True)
    sandbox.push(now=start + timedelta(minutes=15))

    held = OutboxChange.objects.get(pk=eleventh.pk)
    assert sandbox.applied_price_writes() == 10 and len(sandbox.price_writes()) == 10  # not even asked
    assert held.status == Status.PENDING and held.attempts == 0 and "10 changes of an item in 1 h" in held.error_message
    assert held.next_attempt_at == start + timedelta(hours=1)  # the first of the ten leaves the window

    sandbox.push(now=start + timedelta(minutes=59))
    assert len(sandbox.price_writes()) == 10
    sandbox.world.advance(60)
    sandbox.push(now=start + timedelta(hours=1, seconds=1))
    assert OutboxChange.objects.get(pk=eleventh.pk).status == Status.APPLIED
    assert read_back(sandbox)[outbox.price_key(listing.external_id)] == base + 100


@pytest.mark.django_db
def test_a_stock_pair_changed_twice_in_thirty_seconds_waits_for_the_second_push() -> None:
    from catalog import services as catalog
    from catalog.models import Warehouse

    sandbox = Sandbox("ozon")
    [listing] = seed_listings(sandbox, 1)
    warehouse = Warehouse.objects.create(account=sandbox.account, external_id=FBS_WAREHOUSE, name="Подольск")
    start = timezone.now()
    first = catalog.set_stock(listing, warehouse, 4, None)
    sandbox.push(now=start)
    second = catalog.set_stock(listing, warehouse, 9, None)
    sandbox.push(now=start + timedelta(seconds=10))

    held = OutboxChange.objects.get(pk=second.pk)
    assert OutboxChange.objects.get(pk=first.pk).status == Status.APPLIED
    assert held.status == Status.PENDING and held.next_attempt_at == start + timedelta(seconds=30)
    stock_writes = [r for r, _ in sandbox.recording.exchanges if r.url.path.endswith("/v2/products/stocks")]
    assert len(stock_writes) == 1

    sandbox.world.advance(1)
    sandbox.push(now=start + timedelta(seconds=31))
    assert OutboxChange.objects.get(pk=second.pk).status == Status.APPLIED


@pytest.mark.django_db
def test_a_batch_of_held_back_items_does_not_stop_the_claim_of_the_items_behind_it() -> None:
    from tests.outbox_support import make_account

    account = make_account()
    now = timezone.now()

    def price_row(target: str, price: str) -> OutboxChange:
        return outbox.record_change(account, OutboxChange.Kind.PRICE, target,
                                    {"price": price, "offer_id": f"A-{target}", "listing_external_id": target})

    for n in range(limits.PRICE_PER_ITEM.count):  # item 1 went out ten times in the last hour
        sent = price_row("1", f"{100 + n}.00")
        OutboxChange.objects.filter(pk=sent.pk).update(status=Status.APPLIED, sent_at=now - timedelta(minutes=n))
    busy, free = price_row("1", "200.00"), price_row("2", "300.00")

    batch = outbox.claim(account.pk, (OutboxChange.Kind.PRICE,), limit=1, now=now, item_limit=limits.PRICE_PER_ITEM)

    assert [row.pk for row in batch.rows] == [free.pk]
    held = OutboxChange.objects.get(pk=busy.pk)
    assert held.status == Status.PENDING and held.next_attempt_at == now - timedelta(minutes=9) + timedelta(hours=1)
