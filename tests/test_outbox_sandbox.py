"""Proofs of the outbox against the sandbox marketplaces, through the real adapters.

Each test runs for Ozon, Wildberries and Yandex Market: the services write changes, the drain
pushes them through the adapter into the sandbox (in process; one test over real loopback HTTP
through the Celery task), the sandbox's write requests are counted, and the next read of the
marketplace confirms the rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.utils import timezone

from catalog.models import Listing, Product
from integrations import outbox
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount, OutboxChange
from integrations.registry import get_client
from integrations.sandbox import credentials
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from pricing import services as pricing
from pricing.models import Price

pytestmark = pytest.mark.django_db
Status = OutboxChange.Status

MARKETPLACES = ["ozon", "wildberries", "yandex_market"]
# The path of each marketplace's price write (how the sandbox's write requests are counted).
PRICE_WRITE = {
    "ozon": "/v1/product/import/prices",
    "wildberries": "/api/v2/upload/task",
    "yandex_market": "/offer-prices/updates",
}


@pytest.fixture(params=MARKETPLACES)
def marketplace(request) -> str:
    return request.param


class Sandbox:
    """One sandbox world, an account connected to it, and a recording of every exchange."""

    def __init__(self, marketplace: str, base_url: str = "http://sandbox.test") -> None:
        self.marketplace = marketplace
        self.world = SandboxWorld(SandboxConfig(seed=7, products=12, orders=5))
        self.app = SandboxApp(self.world)
        self.recording = RecordingTransport(SandboxTransport(self.app))
        self.clock = FakeClock()
        self.account = connect_account(marketplace, f"{base_url}/{marketplace}")

    def client(self, **kwargs: Any):
        return get_client(self.account, transport=self.recording, clock=self.clock, limiter=LocalLimiter(), **kwargs)

    def price_writes(self) -> list[tuple[httpx.Request, httpx.Response]]:
        return [
            (req, resp)
            for req, resp in self.recording.exchanges
            if req.method in ("POST", "PUT") and req.url.path.endswith(PRICE_WRITE[self.marketplace])
        ]

    def applied_price_writes(self) -> int:
        """Write requests the sandbox carried out (faults are answered before the handler runs)."""
        return sum(1 for _, resp in self.price_writes() if resp.status_code < 300)

    def push(self, client=None, now=None) -> outbox.PushSummary:
        client = client or self.client()
        try:
            return outbox.push_account(self.account, client=client, now=now)
        finally:
            client.close()

    def settle(self, rows: list[OutboxChange], now=None) -> None:
        """Accepted uploads (WB) are resolved by later pushes as the marketplace processes them."""
        for _ in range(5):
            if not OutboxChange.objects.filter(pk__in=[r.pk for r in rows], status=Status.SENT).exists():
                return
            self.world.advance(1)
            self.push(now=now)


def connect_account(marketplace: str, base_url: str) -> MarketplaceAccount:
    account = MarketplaceAccount(marketplace=marketplace, name=f"sandbox-{marketplace}", base_url=base_url)
    if marketplace == "ozon":
        account.client_id = credentials.OZON_CLIENT_ID
        account.set_credentials({"api_key": credentials.OZON_API_KEY})
    elif marketplace == "wildberries":
        account.set_credentials({"token": credentials.WB_TOKEN})
    else:
        account.business_id = str(credentials.YM_BUSINESS_ID)
        account.campaign_ids = [str(c) for c in credentials.YM_CAMPAIGNS]
        account.set_credentials({"api_key": credentials.YM_API_KEY})
    account.save()
    return account


def _pages(iterator: Iterator[Any]) -> list[Any]:
    return [item for page in iterator for item in page.items]


def seed_listings(sandbox: Sandbox, count: int = 4) -> list[Listing]:
    """Our side of the catalogue as the pull sync would leave it: listings and their current prices."""
    client = sandbox.client()
    try:
        dtos = sorted(_pages(client.iter_listings()), key=lambda d: d.offer_id)[:count]
        prices = {p.listing_external_id: p for p in _pages(client.iter_prices())}
    finally:
        client.close()
    listings = []
    for dto in dtos:
        product, _ = Product.objects.get_or_create(article=dto.offer_id, defaults={"name": dto.title})
        listing = Listing.objects.create(
            account=sandbox.account, external_id=dto.external_id, offer_id=dto.offer_id,
            marketplace_sku=dto.marketplace_sku, title=dto.title, product=product, variants=dto.variants,
        )
        price = prices[dto.external_id]
        Price.objects.create(
            listing=listing, price=price.price, old_price=price.old_price, min_price=price.min_price,
            discount_percent=price.discount_percent, currency=price.currency,
        )
        listings.append(listing)
    return listings


def next_price(listing: Listing) -> Decimal:
    """A higher price the marketplace can store exactly (WB keeps whole roubles before its discount)."""
    current = Price.objects.get(listing=listing)
    discount = current.discount_percent or 0
    step = (100 - discount) // math.gcd(100, 100 - discount)
    return Decimal((int(current.price) // step + 2) * step)


def read_back(sandbox: Sandbox) -> dict[str, Decimal]:
    client = sandbox.client()
    try:
        return {outbox.price_key(p.listing_external_id): p.price for p in _pages(client.iter_prices())}
    finally:
        client.close()


def test_a_rejected_item_carries_the_message_and_the_others_are_applied_and_confirmed(marketplace):
    sandbox = Sandbox(marketplace)
    listings = seed_listings(sandbox, 3)
    sandbox.world.faults.reject_offer_ids = {listings[1].offer_id}
    rows = [pricing.change_price(listing, next_price(listing), user=None, force=True) for listing in listings]

    sandbox.push()
    sandbox.settle(rows)

    stored = [OutboxChange.objects.get(pk=r.pk) for r in rows]
    assert [r.status for r in stored] == [Status.APPLIED, Status.REJECTED, Status.APPLIED]
    assert stored[1].error_message  # the marketplace's own words
    assert sandbox.applied_price_writes() == 1  # one batch for all three items

    observed = read_back(sandbox)
    assert outbox.confirm_from_readback(sandbox.account, OutboxChange.Kind.PRICE, observed) == 2
    assert [bool(OutboxChange.objects.get(pk=r.pk).confirmed_at) for r in rows] == [True, False, True]


def test_coalescing_sends_only_the_newest_value(marketplace):
    sandbox = Sandbox(marketplace)
    [listing] = seed_listings(sandbox, 1)
    base = next_price(listing)
    step = base - Price.objects.get(listing=listing).price
    for n in range(3):
        pricing.change_price(listing, base + n * step, user=None, force=True)

    sandbox.push()
    rows = list(OutboxChange.objects.filter(listing=listing).order_by("id"))
    sandbox.settle(rows)

    assert [r.status for r in OutboxChange.objects.filter(listing=listing).order_by("id")] == [
        Status.SUPERSEDED, Status.SUPERSEDED, Status.APPLIED
    ]
    assert sandbox.applied_price_writes() == 1
    assert read_back(sandbox)[outbox.price_key(listing.external_id)] == base + 2 * step


@pytest.mark.parametrize("fault", ["server_error_next", "rate_limit_next"])
def test_transient_faults_end_with_every_row_applied_once(marketplace, fault):
    sandbox = Sandbox(marketplace)
    listings = seed_listings(sandbox, 3)
    rows = [pricing.change_price(listing, next_price(listing), user=None, force=True) for listing in listings]
    setattr(sandbox.world.faults, fault, 2)

    sandbox.push()  # the adapter's own retries ride out two faults (fake clock: no real sleeps)
    sandbox.settle(rows)

    assert {OutboxChange.objects.get(pk=r.pk).status for r in rows} == {Status.APPLIED}
    writes = sandbox.price_writes()
    assert sum(1 for _, resp in writes if resp.status_code >= 400) == 2
    assert sandbox.applied_price_writes() == 1  # no duplicate write
    if fault == "rate_limit_next":
        assert sandbox.clock.sleeps and max(sandbox.clock.sleeps) >= sandbox.world.faults.retry_after_seconds


def test_a_fault_outlasting_the_adapter_retries_is_retried_by_the_outbox(marketplace):
    sandbox = Sandbox(marketplace)
    listings = seed_listings(sandbox, 2)
    rows = [pricing.change_price(listing, next_price(listing), user=None, force=True) for listing in listings]
    sandbox.world.faults.server_error_next = 1
    now = timezone.now()

    sandbox.push(sandbox.client(max_retries=0), now=now)
    assert {OutboxChange.objects.get(pk=r.pk).status for r in rows} == {Status.PENDING}
    assert sandbox.applied_price_writes() == 0

    later = now + timedelta(hours=1)
    sandbox.push(now=later)
    sandbox.settle(rows, now=later)
    assert {OutboxChange.objects.get(pk=r.pk).status for r in rows} == {Status.APPLIED}
    assert OutboxChange.objects.get(pk=rows[0].pk).attempts == 2
    assert sandbox.applied_price_writes() == 1


def test_a_crash_between_claim_and_result_is_recovered_by_the_sweep(marketplace):
    sandbox = Sandbox(marketplace)
    listings = seed_listings(sandbox, 2)
    rows = [pricing.change_price(listing, next_price(listing), user=None, force=True) for listing in listings]
    now = timezone.now()
    outbox.claim(sandbox.account.pk, (OutboxChange.Kind.PRICE,), limit=100, now=now)  # the worker dies here

    sandbox.push(now=now)  # a second worker leaves the leased rows alone
    assert sandbox.applied_price_writes() == 0

    after_lease = now + outbox.lease_duration() + timedelta(seconds=1)
    assert outbox.sweep(now=after_lease) == [(sandbox.account.pk, marketplace)]
    sandbox.push(now=after_lease)
    sandbox.settle(rows, now=after_lease)
    assert {OutboxChange.objects.get(pk=r.pk).status for r in rows} == {Status.APPLIED}
    assert sandbox.applied_price_writes() == 1
    assert outbox.confirm_from_readback(sandbox.account, OutboxChange.Kind.PRICE, read_back(sandbox)) == 2


def test_a_failed_row_can_be_retried(marketplace, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    sandbox = Sandbox(marketplace)
    [listing] = seed_listings(sandbox, 1)
    row = pricing.change_price(listing, next_price(listing), user=None, force=True)
    sandbox.world.faults.server_error_next = 1

    sandbox.push(sandbox.client(max_retries=0))
    failed = OutboxChange.objects.get(pk=row.pk)
    assert failed.status == Status.FAILED and "gave up after 1 attempts" in failed.error_message

    outbox.retry_change(failed)
    sandbox.push()
    sandbox.settle([row])
    assert OutboxChange.objects.get(pk=row.pk).status == Status.APPLIED
    assert sandbox.applied_price_writes() == 1


def test_a_price_change_is_pushed_after_commit_by_the_task_over_real_http(
    marketplace, django_capture_on_commit_callbacks
):
    from config.celery import app

    server = SandboxServer(SandboxApp(SandboxWorld(SandboxConfig(seed=7, products=12, orders=5)))).start()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        sandbox = Sandbox(marketplace)
        sandbox.app = server.app
        sandbox.world = server.app.world
        sandbox.recording = RecordingTransport(httpx.HTTPTransport())
        sandbox.account.base_url = server.base_url(marketplace)
        sandbox.account.save()
        [listing] = seed_listings(sandbox, 1)
        price = next_price(listing)

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            row = pricing.change_price(listing, price, user=None, force=True)
            assert OutboxChange.objects.get(pk=row.pk).status == Status.PENDING  # nothing sent before commit
        assert len(callbacks) == 1

        sandbox.settle([row])
        assert OutboxChange.objects.get(pk=row.pk).status == Status.APPLIED
        assert read_back(sandbox)[outbox.price_key(listing.external_id)] == price
    finally:
        app.conf.task_always_eager = eager
        server.stop()


def test_stock_and_answers_are_pushed_and_confirmed_by_the_next_read(marketplace):
    from catalog.models import Warehouse
    from catalog.services import set_stock
    from reviews.models import Review
    from reviews.services import answer_review

    sandbox = Sandbox(marketplace)
    # A card with one size: set_stock needs no size named (WB keeps stock per size).
    listing = next(x for x in seed_listings(sandbox, 12) if len(x.variants) <= 1)
    client = sandbox.client()
    try:
        stocked = {s.warehouse_external_id for s in _pages(client.iter_stocks())
                   if s.listing_external_id == listing.external_id}
        seller = next(w for w in _pages(client.iter_warehouses())
                      if w.kind == "seller" and w.is_active and w.external_id in stocked)
        since = sandbox.world.now - timedelta(days=365)
        unanswered = next(r for r in _pages(client.iter_reviews(since)) if not r.is_answered)
    finally:
        client.close()
    warehouse = Warehouse.objects.create(
        account=sandbox.account, external_id=seller.external_id, name=seller.name, kind=Warehouse.Kind.SELLER
    )
    review = Review.objects.create(
        account=sandbox.account, external_id=unanswered.external_id, published_at=unanswered.published_at,
        rating=unanswered.rating, author=unanswered.author, offer_id=unanswered.offer_id, sku=unanswered.sku,
    )
    stock = set_stock(listing, warehouse, 17, None)
    answer = answer_review(review, "Спасибо за отзыв! Рады, что товар понравился.", None)

    sandbox.push()
    sandbox.settle([stock, answer.outbox])
    assert OutboxChange.objects.get(pk=stock.pk).status == Status.APPLIED
    assert OutboxChange.objects.get(pk=answer.outbox.pk).status == Status.APPLIED

    client = sandbox.client()
    try:
        # set_stock sets what can be sold: the read's on-hand count minus what orders have reserved.
        stocks = {outbox.stock_key(s.listing_external_id, s.warehouse_external_id, s.variant_id):
                  s.present - s.reserved for s in _pages(client.iter_stocks())}
        answers = {r.external_id: r.answer_text for r in _pages(client.iter_reviews(since)) if r.is_answered}
    finally:
        client.close()
    assert outbox.confirm_from_readback(sandbox.account, OutboxChange.Kind.STOCK, stocks) == 1
    assert outbox.confirm_from_readback(sandbox.account, OutboxChange.Kind.REVIEW_ANSWER, answers) == 1


def test_a_stock_push_is_confirmed_by_the_next_stocks_sync(marketplace):
    """End to end through the pull engine: push a stock change, sync the stocks stream, the row is confirmed."""
    from catalog.models import Warehouse
    from catalog.services import set_stock
    from integrations.sync.engine import run_stream

    sandbox = Sandbox(marketplace)
    listing = next(x for x in seed_listings(sandbox, 12) if len(x.variants) <= 1)
    client = sandbox.client()
    try:
        stocked = {s.warehouse_external_id for s in _pages(client.iter_stocks())
                   if s.listing_external_id == listing.external_id}
        seller = next(w for w in _pages(client.iter_warehouses())
                      if w.kind == "seller" and w.is_active and w.external_id in stocked)
    finally:
        client.close()
    warehouse = Warehouse.objects.create(
        account=sandbox.account, external_id=seller.external_id, name=seller.name, kind=Warehouse.Kind.SELLER
    )
    change = set_stock(listing, warehouse, 23, None)
    sandbox.push()
    sandbox.settle([change])
    assert OutboxChange.objects.get(pk=change.pk).confirmed_at is None

    client = sandbox.client()
    try:
        run_stream(sandbox.account, "stocks", client=client, heartbeat=False)
    finally:
        client.close()
    confirmed = OutboxChange.objects.get(pk=change.pk)
    assert confirmed.status == Status.APPLIED
    assert confirmed.confirmed_at is not None


def test_a_stock_push_to_one_size_is_stored_and_confirmed_per_size():
    """WB keeps stock per size (chrtId): a push to one size of a card with several sizes lands on
    that size only, the stocks sync stores every size apart, and the read-back confirms the push."""
    from catalog.models import StockLevel, Warehouse
    from catalog.services import set_stock
    from catalog.stock_selectors import stock_by_size
    from integrations.sync.engine import run_stream

    sandbox = Sandbox("wildberries")
    listing = next(x for x in seed_listings(sandbox, 12) if len(x.variants) == 3)
    small, medium, large = (str(v["id"]) for v in listing.variants)
    warehouse = Warehouse.objects.create(
        account=sandbox.account, external_id="1001001", name="Склад продавца Подольск", kind=Warehouse.Kind.SELLER
    )
    client = sandbox.client()
    try:
        run_stream(sandbox.account, "stocks", client=client, heartbeat=False)
    finally:
        client.close()
    before = dict(StockLevel.objects.filter(listing=listing, warehouse=warehouse).values_list("variant_id", "present"))
    assert set(before) == {small, medium, large}

    change = set_stock(listing, warehouse, before[medium] + 7, None, variant_id=medium)
    sandbox.push()
    assert OutboxChange.objects.get(pk=change.pk).status == Status.APPLIED
    client = sandbox.client()
    try:
        run_stream(sandbox.account, "stocks", client=client, heartbeat=False)
    finally:
        client.close()

    after = dict(StockLevel.objects.filter(listing=listing, warehouse=warehouse).values_list("variant_id", "present"))
    assert after == {**before, medium: before[medium] + 7}
    assert OutboxChange.objects.get(pk=change.pk).confirmed_at is not None
    # What a screen shows: each size of the card by name, in the card's order, on each warehouse.
    rows = [r for r in stock_by_size([listing])[listing.pk] if r.warehouse_id == warehouse.pk]
    assert [(r.size, r.available) for r in rows] == [("S", after[small]), ("M", after[medium]), ("L", after[large])]
