"""The pull-sync engine against an in-memory marketplace: idempotence, resume, leases, linking,
status machine, read-back scheduling. Real PostgreSQL (COPY, ON CONFLICT, partial unique index)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from analytics.models import FeeLine, FinanceOperation
from catalog.models import Listing, Product, StockLevel, Warehouse
from integrations.base import TransientError
from integrations.models import MarketplaceAccount, SyncRun, SyncState
from integrations.sync import engine, leases
from integrations.sync.schedule import due_streams
from integrations.sync.streams import STREAM_ORDER
from orders.models import Order, OrderLine, OrderStatusChange, Return
from pricing.models import Price, Promotion, PromotionOffer
from reviews.models import Question, Review
from tests.sync_fakes import FakeMarketplace

pytestmark = pytest.mark.django_db

TABLES = [
    Warehouse, Listing, Product, Price, StockLevel, Order, OrderLine, OrderStatusChange, Return, Review, Question,
    Promotion, PromotionOffer, FinanceOperation, FeeLine,
]


@pytest.fixture
def account() -> MarketplaceAccount:
    acc = MarketplaceAccount(marketplace="ozon", name="Fake Ozon", client_id="1")
    acc.set_credentials({"api_key": "fake-key-never-logged"})
    acc.save()
    return acc


def sync_all(account: MarketplaceAccount, fake: FakeMarketplace, *, full: bool = False) -> dict[str, SyncRun]:
    return {s: engine.run_stream(account, s, full=full, client=fake, heartbeat=False) for s in STREAM_ORDER}


def snapshot() -> dict[str, object]:
    """Row counts and every updated_at of every synced table."""
    state: dict[str, object] = {}
    for model in TABLES:
        fields = {f.name for f in model._meta.fields}
        stamp = "updated_at" if "updated_at" in fields else "pk"
        state[model.__name__] = sorted(model.objects.values_list("pk", stamp))
    return state


def test_full_sync_stores_every_stream(account: MarketplaceAccount) -> None:
    fake = FakeMarketplace()
    runs = sync_all(account, fake)

    assert all(r.status == SyncRun.Status.SUCCEEDED for r in runs.values())
    assert Listing.objects.filter(account=account).count() == 25
    assert Price.objects.count() == 25 and Price.objects.get(listing__external_id="1003").price == Decimal("103.50")
    assert StockLevel.objects.count() == 51
    assert Warehouse.objects.get(external_id="fbo-9").kind == "marketplace"  # created from the stock report
    assert Order.objects.count() == 30 and OrderLine.objects.count() == 60
    line = OrderLine.objects.get(order__external_id="o0", line_key="1")
    assert line.listing is not None and line.listing.offer_id == "PRL-00001"
    assert Order.objects.get(external_id="o0").warehouse.external_id == "wh-1"
    assert OrderStatusChange.objects.filter(from_status="", to_status="new", source="sync").count() == 30
    assert Return.objects.get(external_id="r0").order.external_id == "o0"
    assert Review.objects.filter(listing__offer_id="PRL-00002").count() == 9
    assert Question.objects.filter(listing__marketplace_sku="sku3").count() == 4
    assert PromotionOffer.objects.filter(promotion__external_id="p1", listing__isnull=False).count() == 25
    assert PromotionOffer.objects.filter(status="participating").count() == 3
    assert FinanceOperation.objects.count() == 11
    assert FeeLine.objects.get(operation__external_id="f0", kind="commission").amount == Decimal("-100.10")
    assert runs["orders"].fetched == 30 and runs["orders"].created == 30
    assert runs["listings"].pages == 4  # 25 rows / 7 per page
    account.refresh_from_db()
    assert account.last_success_at is not None
    state = SyncState.objects.get(account=account, stream="orders")
    assert state.cursor == {} and state.watermark == max(o.updated_at for o in fake.orders.values())


def test_returns_synced_before_their_orders_are_linked_when_the_orders_arrive(account: MarketplaceAccount) -> None:
    """Beat runs the streams as independent tasks, so returns may be stored first; they are not
    re-read once outside their overlap window, so the orders sync links them."""
    fake = FakeMarketplace()
    for stream in ("warehouses", "listings", "returns"):
        engine.run_stream(account, stream, client=fake, heartbeat=False)
    waiting = Return.objects.get(external_id="r0")
    assert waiting.order is None and waiting.order_external_id == "o0"

    engine.run_stream(account, "orders", client=fake, heartbeat=False)

    linked = Return.objects.get(external_id="r0")
    assert linked.order is not None and linked.order.external_id == "o0"
    assert linked.updated_at > waiting.updated_at
    assert not Return.objects.filter(order__isnull=True).exclude(order_external_id="").exists()


def test_order_lines_and_returns_synced_before_their_listings_are_linked_by_the_listings_sync(
    account: MarketplaceAccount,
) -> None:
    fake = FakeMarketplace()
    for stream in ("warehouses", "orders", "returns"):
        engine.run_stream(account, stream, client=fake, heartbeat=False)
    assert not OrderLine.objects.filter(listing__isnull=False).exists()
    assert not Return.objects.filter(listing__isnull=False).exists()

    engine.run_stream(account, "listings", client=fake, heartbeat=False)

    line = OrderLine.objects.get(order__external_id="o0", line_key="1")
    assert line.listing is not None and line.listing.offer_id == line.offer_id == "PRL-00001"
    assert not OrderLine.objects.filter(listing__isnull=True).exists()
    assert not Return.objects.filter(listing__isnull=True).exclude(offer_id="").exists()


def test_reviews_and_questions_synced_before_their_listings_are_linked_by_the_listings_sync(
    account: MarketplaceAccount,
) -> None:
    fake = FakeMarketplace()  # reviews name an article, questions a marketplace sku
    for stream in ("reviews", "questions"):
        engine.run_stream(account, stream, client=fake, heartbeat=False)
    assert not Review.objects.filter(listing__isnull=False).exists()
    assert not Question.objects.filter(listing__isnull=False).exists()

    engine.run_stream(account, "listings", client=fake, heartbeat=False)

    assert set(Review.objects.values_list("listing__offer_id", flat=True)) == {"PRL-00002"}
    assert set(Question.objects.values_list("listing__marketplace_sku", flat=True)) == {"sku3"}
    # Linked as their own ingest links them: a full re-read finds nothing to change.
    for stream in ("reviews", "questions"):
        again = engine.run_stream(account, stream, full=True, client=fake, heartbeat=False)
        assert (again.created, again.updated, again.unchanged) == (0, 0, again.fetched), stream


def missing_listings() -> list[str]:
    return sorted(Listing.objects.filter(missing_since__isnull=False).values_list("external_id", flat=True))


def test_a_complete_listings_pass_flags_the_cards_the_marketplace_no_longer_lists(
    account: MarketplaceAccount,
) -> None:
    fake = FakeMarketplace()
    engine.run_stream(account, "listings", client=fake, heartbeat=False)
    gone = fake.listings.pop(3)

    run = engine.run_stream(account, "listings", client=fake, heartbeat=False)

    assert missing_listings() == [gone.external_id]
    assert run.progress["missing"] == 1
    flagged_at = Listing.objects.get(external_id=gone.external_id).missing_since
    engine.run_stream(account, "listings", client=fake, heartbeat=False)
    assert Listing.objects.get(external_id=gone.external_id).missing_since == flagged_at  # flagged once

    fake.listings.append(gone)  # listed again
    engine.run_stream(account, "listings", client=fake, heartbeat=False)
    assert missing_listings() == []


def test_a_resumed_or_empty_listings_pass_flags_nothing(account: MarketplaceAccount) -> None:
    fake = FakeMarketplace()  # 25 listings, 7 a page
    engine.run_stream(account, "listings", client=fake, heartbeat=False)
    gone = fake.listings.pop(0)
    fake.fail_at_page = 2
    with pytest.raises(TransientError):
        engine.run_stream(account, "listings", client=fake, heartbeat=False)
    fake.fail_at_page = None

    resumed = engine.run_stream(account, "listings", client=fake, heartbeat=False)  # saw only the last pages

    assert resumed.progress["resumed"] is True and missing_listings() == []
    engine.run_stream(account, "listings", client=fake, heartbeat=False)  # the next pass reads it all
    assert missing_listings() == [gone.external_id]
    fake.listings = []
    engine.run_stream(account, "listings", client=fake, heartbeat=False)
    assert missing_listings() == [gone.external_id]


def test_orders_synced_before_their_warehouses_link_to_them_at_once(account: MarketplaceAccount) -> None:
    """Before, such orders kept an empty warehouse until a full re-read, which then rewrote them."""
    from dataclasses import replace

    fake = FakeMarketplace()
    fbo = replace(fake.orders["o1"], scheme="FBO", warehouse_external_id="fbo-9", warehouse_name="FBO Тверь")
    fake.put_order(fbo)

    engine.run_stream(account, "orders", client=fake, heartbeat=False)

    assert not Order.objects.filter(warehouse__isnull=True).exists()
    assert Order.objects.get(external_id="o1").warehouse.name == "FBO Тверь"
    assert Warehouse.objects.get(external_id="fbo-9").kind == Warehouse.Kind.MARKETPLACE
    # A warehouse known only by its id is created under it, as the seller's (the order is FBS).
    assert Warehouse.objects.filter(external_id="wh-1").values_list("name", "kind").get() == ("wh-1", "seller")

    for stream in ("warehouses", "stocks"):
        engine.run_stream(account, stream, client=fake, heartbeat=False)
    assert Warehouse.objects.get(external_id="wh-1").name == "Склад Москва"
    again = engine.run_stream(account, "orders", full=True, client=fake, heartbeat=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, again.fetched)


def test_a_warehouse_created_under_its_id_takes_the_first_real_name_and_keeps_it(account: MarketplaceAccount) -> None:
    from catalog.ingest import ensure_warehouses

    with transaction.atomic():
        ensure_warehouses(account.pk, [("fbo-7", "", "marketplace")])
        ensure_warehouses(account.pk, [("fbo-7", "FBO Тула", "marketplace")])
        ensure_warehouses(account.pk, [("fbo-7", "FBO Тула-2", "marketplace"), ("", "nameless", "marketplace")])

    assert list(Warehouse.objects.values_list("external_id", "name")) == [("fbo-7", "FBO Тула")]


def test_syncing_the_same_data_twice_changes_nothing(account: MarketplaceAccount) -> None:
    fake = FakeMarketplace()
    sync_all(account, fake)
    before = snapshot()

    again = sync_all(account, fake, full=True)

    assert snapshot() == before
    for stream, run in again.items():
        assert (run.created, run.updated) == (0, 0), stream
        assert run.unchanged == run.fetched - run.errors, stream


def test_a_changed_row_is_rewritten_and_only_it(account: MarketplaceAccount) -> None:
    fake = FakeMarketplace()
    sync_all(account, fake)
    before = dict(Price.objects.values_list("listing__external_id", "updated_at"))
    fake.prices[2] = PriceDTO_with(fake.prices[2], Decimal("999.99"))

    run = engine.run_stream(account, "prices", client=fake, heartbeat=False)

    after = dict(Price.objects.values_list("listing__external_id", "updated_at"))
    assert (run.created, run.updated, run.unchanged) == (0, 1, 24)
    assert [k for k in after if after[k] != before[k]] == ["1002"]


def PriceDTO_with(price, value):
    from dataclasses import replace

    return replace(price, price=value)


def test_listings_link_to_products_by_article_then_barcode_and_manual_wins(account: MarketplaceAccount) -> None:
    by_barcode = Product.objects.create(article="OWN-1", name="Свой", barcodes=["4600000000004"])
    manual = Product.objects.create(article="OWN-2", name="Ручная привязка")
    fake = FakeMarketplace()
    engine.run_stream(account, "listings", client=fake, heartbeat=False)

    first = Listing.objects.get(offer_id="PRL-00001")
    assert first.product.article == "PRL-00001" and first.link_source == "article"
    assert Listing.objects.get(offer_id="PRL-00005").product == by_barcode  # barcode 4600000000004
    assert Product.objects.filter(article="PRL-00005").exists() is False
    # A manager links a listing by hand; the next sync must not undo it.
    Listing.objects.filter(offer_id="PRL-00003").update(product=manual, link_source="manual")
    engine.run_stream(account, "listings", client=fake, full=True, heartbeat=False)
    relinked = Listing.objects.get(offer_id="PRL-00003")
    assert (relinked.product, relinked.link_source) == (manual, "manual")
    assert Listing.objects.filter(product__isnull=True).count() == 0


def test_a_failed_run_resumes_from_the_saved_cursor(account: MarketplaceAccount) -> None:
    fake = FakeMarketplace(products=40, page_size=5)
    fake.fail_at_page = 3
    with pytest.raises(TransientError):
        engine.run_stream(account, "listings", client=fake, heartbeat=False)

    failed = SyncRun.objects.get(account=account, stream="listings")
    assert failed.status == SyncRun.Status.FAILED and "503" in failed.error_message
    assert (failed.pages, failed.created) == (3, 15)
    assert SyncState.objects.get(account=account, stream="listings").cursor["page"] == {"offset": 15}
    account.refresh_from_db()
    assert "TransientError" in account.last_error and account.last_error_at is not None

    fake.fail_at_page = None
    resumed = engine.run_stream(account, "listings", client=fake, heartbeat=False)

    assert resumed.fetched == 25 and resumed.created == 25  # only what the first run had not stored
    assert resumed.progress["resumed"] is True
    assert Listing.objects.count() == 40
    assert SyncState.objects.get(account=account, stream="listings").cursor == {}


def test_full_over_an_interrupted_incremental_pass_starts_again(account: MarketplaceAccount) -> None:
    fake = FakeMarketplace(products=20, page_size=5)
    fake.fail_at_page = 2
    with pytest.raises(TransientError):
        engine.run_stream(account, "listings", client=fake, heartbeat=False)
    fake.fail_at_page = None
    run = engine.run_stream(account, "listings", client=fake, full=True, heartbeat=False)
    assert run.fetched == 20 and run.unchanged == 10 and run.created == 10


def test_incremental_orders_pick_up_exactly_new_and_changed(account: MarketplaceAccount) -> None:
    fake = FakeMarketplace(orders=30)
    engine.run_stream(account, "listings", client=fake, heartbeat=False)
    engine.run_stream(account, "orders", client=fake, heartbeat=False)

    fake.advance(45, new=4, changed=["o3", "o7"])
    run = engine.run_stream(account, "orders", client=fake, heartbeat=False)

    assert (run.created, run.updated) == (4, 2)
    # The overlap window re-reads a few older orders; they are left untouched.
    assert run.fetched < 30 and run.unchanged == run.fetched - 6
    assert Order.objects.get(external_id="o3").status == "delivered"
    change = OrderStatusChange.objects.get(order__external_id="o7", from_status="new")
    assert (change.to_status, change.raw_status, change.source) == ("delivered", "DELIVERED", "sync")


def test_a_terminal_status_is_not_overwritten_by_a_stale_one(account: MarketplaceAccount) -> None:
    fake = FakeMarketplace(orders=3)
    engine.run_stream(account, "orders", client=fake, heartbeat=False)
    fake.advance(10, new=0, changed=["o1"], status="cancelled")
    engine.run_stream(account, "orders", client=fake, heartbeat=False)
    # A lagging source reports the order as in delivery, with a newer change time.
    from dataclasses import replace

    fake.now += timedelta(minutes=5)
    fake.put_order(replace(fake.orders["o1"], status="in_delivery", raw_status="DELIVERING", updated_at=fake.now))
    run = engine.run_stream(account, "orders", client=fake, heartbeat=False)

    order = Order.objects.get(external_id="o1")
    assert (order.status, order.raw_status) == ("cancelled", "CANCELLED")
    assert run.updated == 0 and run.progress["stale"] == 1
    assert list(order.status_changes.values_list("from_status", "to_status")) == [("", "new"), ("new", "cancelled")]


def test_a_second_run_of_the_same_stream_is_refused_while_the_first_holds_the_lease(
    account: MarketplaceAccount,
) -> None:
    holder = leases.acquire(account, "orders", full=False, trigger="test", task_id="t-1")
    with pytest.raises(leases.LeaseBusy) as busy:
        engine.run_stream(account, "orders", client=FakeMarketplace(), heartbeat=False)
    assert busy.value.holder.pk == holder.pk and busy.value.holder_task_id == "t-1"
    assert busy.value.stale_in > 0
    assert SyncRun.objects.filter(account=account, stream="orders").count() == 1
    # Another stream of the same account is not blocked.
    engine.run_stream(account, "warehouses", client=FakeMarketplace(), heartbeat=False)


def test_a_stale_lease_is_reclaimed_and_the_run_marked_abandoned(account: MarketplaceAccount, settings) -> None:
    settings.SYNC_LEASE_STALE_SECONDS = 60
    dead = leases.acquire(account, "orders", full=False, trigger="test")
    SyncRun.objects.filter(pk=dead.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))

    run = engine.run_stream(account, "orders", client=FakeMarketplace(), heartbeat=False)

    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.ABANDONED and dead.finished_at is not None
    assert run.status == SyncRun.Status.SUCCEEDED


def test_a_run_that_lost_its_lease_writes_no_cursor(account: MarketplaceAccount) -> None:
    fake = FakeMarketplace(products=20, page_size=5)
    pages_seen = []

    def reclaim_after_two_pages(stream: str, totals: engine.RunTotals) -> None:
        pages_seen.append(totals.pages)
        if totals.pages == 2:  # another worker decides this run is dead
            SyncRun.objects.filter(account=account, stream=stream).update(status=SyncRun.Status.ABANDONED)

    with pytest.raises(leases.LeaseLost):
        engine.run_stream(account, "listings", client=fake, on_page=reclaim_after_two_pages, heartbeat=False)
    assert pages_seen == [1, 2]
    assert SyncState.objects.get(account=account, stream="listings").cursor["page"] == {"offset": 10}
    assert Listing.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_runs_of_one_stream_run_once(account: MarketplaceAccount) -> None:
    """Two threads (two connections) race for the lease; the partial unique index lets one in."""
    gate = threading.Barrier(2)
    outcomes: list[str] = []

    class SlowFake(FakeMarketplace):
        def iter_listings(self, cursor=None):
            gate.wait(timeout=10)  # both runs are past acquire() or refused before anyone ends
            return super().iter_listings(cursor)

    def trigger() -> None:
        try:
            engine.run_stream(account, "listings", client=SlowFake(), heartbeat=False)
            outcomes.append("ran")
        except leases.LeaseBusy:
            outcomes.append("busy")
            gate.wait(timeout=10)
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["busy", "ran"]
    assert SyncRun.objects.filter(account=account, stream="listings").count() == 1
    assert Listing.objects.count() == 25


@pytest.mark.django_db(transaction=True)
def test_heartbeat_thread_keeps_a_slow_run_alive(account: MarketplaceAccount) -> None:
    run = leases.acquire(account, "orders", full=False, trigger="test")
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with leases.Heartbeat(run.pk, interval=0.05):
        threading.Event().wait(0.5)
    run.refresh_from_db()
    assert timezone.now() - run.heartbeat_at < timedelta(seconds=5)
    assert leases.reclaim_stale() == 0


def test_due_streams_follow_each_accounts_intervals(account: MarketplaceAccount) -> None:
    other = MarketplaceAccount(marketplace="wildberries", name="WB", sync_intervals={"orders": 60})
    other.set_credentials({"token": "x"})
    other.save()
    now = timezone.now()
    for acc in (account, other):
        run = SyncRun.objects.create(account=acc, stream="orders", status=SyncRun.Status.SUCCEEDED)
        SyncRun.objects.filter(pk=run.pk).update(started_at=now - timedelta(minutes=10))

    due = {(d.account_id, d.stream) for d in due_streams(["orders", "listings"], now=now)}

    assert (account.pk, "orders") in due  # default 1 min passed
    assert (other.pk, "orders") not in due  # the admin set 60 min
    assert {(account.pk, "listings"), (other.pk, "listings")} <= due  # never ran
    MarketplaceAccount.objects.filter(pk=other.pk).update(enabled=False)
    assert all(d.account_id != other.pk for d in due_streams(["listings"], now=now))


def test_a_running_stream_is_not_due(account: MarketplaceAccount) -> None:
    leases.acquire(account, "orders", full=False, trigger="test")
    assert not [d for d in due_streams(["orders"]) if d.account_id == account.pk]


def test_check_account_stores_the_token_expiry(account: MarketplaceAccount) -> None:
    fake = FakeMarketplace()
    engine.check_account(account, fake)
    account.refresh_from_db()
    assert account.token_expires_at == fake.check_auth()


def test_a_time_limit_stops_the_run_without_blaming_the_account(account: MarketplaceAccount) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    fake = FakeMarketplace(products=20, page_size=5)

    def time_is_up(stream: str, totals: engine.RunTotals) -> None:
        if totals.pages == 2:
            raise SoftTimeLimitExceeded()

    with pytest.raises(SoftTimeLimitExceeded):
        engine.run_stream(account, "listings", client=fake, on_page=time_is_up, heartbeat=False)
    stopped = SyncRun.objects.get(account=account, stream="listings")
    assert stopped.status == SyncRun.Status.FAILED and "continues from the saved cursor" in stopped.error_message
    account.refresh_from_db()
    assert account.last_error == ""
    assert engine.run_stream(account, "listings", client=fake, heartbeat=False).created == 10


def _deadlock() -> None:
    """PostgreSQL's own deadlock error (SQLSTATE 40P01), as a flush whose triggers lost a lock race gets it;
    in its own (sub)transaction, rolled back as the flush's is."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END $$")


def test_a_deadlock_fails_the_flush_without_blaming_the_account_and_is_retried(
    account: MarketplaceAccount, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from celery.exceptions import Retry
    from django.db import OperationalError

    from integrations.tasks import sync_stream

    fake = FakeMarketplace(products=20, page_size=5)

    def conflict(stream: str, totals: engine.RunTotals) -> None:
        if totals.pages == 2:
            _deadlock()

    with pytest.raises(OperationalError) as raised:
        engine.run_stream(account, "listings", client=fake, on_page=conflict, heartbeat=False)
    assert engine.database_conflict(raised.value)
    failed = SyncRun.objects.get(account=account, stream="listings")
    assert failed.status == SyncRun.Status.FAILED and "retry continues from the saved cursor" in failed.error_message
    assert failed.errors == 0
    account.refresh_from_db()
    assert account.last_error == ""
    assert engine.run_stream(account, "listings", client=fake, heartbeat=False).status == SyncRun.Status.SUCCEEDED
    assert Listing.objects.filter(account=account).count() == 20

    # The task asks Celery for another try; any other database error is not retried.
    monkeypatch.setattr(engine, "run_stream", lambda *args, **kwargs: _deadlock())
    with pytest.raises(Retry):
        sync_stream.apply(args=(account.pk, "listings"), throw=True)

    def broken(*args: object, **kwargs: object) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DO $$ BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = 'disk_full'; END $$")

    monkeypatch.setattr(engine, "run_stream", broken)
    with pytest.raises(OperationalError) as other:
        sync_stream.apply(args=(account.pk, "listings"), throw=True)
    assert not engine.database_conflict(other.value)


def test_an_order_older_than_the_change_window_is_followed_until_its_final_status(
    account: MarketplaceAccount,
) -> None:
    fake = FakeMarketplace(orders=6)
    fake.change_window = timedelta(days=30)  # like Ozon postings: the change read covers recent orders only
    engine.run_stream(account, "orders", client=fake, heartbeat=False)
    fake.advance(60, new=0, changed=["o1"], status="cancelled")
    engine.run_stream(account, "orders", client=fake, heartbeat=False)
    watermark = SyncState.objects.get(account=account, stream="orders").watermark

    # Forty days later the old posting is delivered: the change read no longer sees it.
    fake.advance(40 * 24 * 60, new=1, changed=["o3"])
    run = engine.run_stream(account, "orders", client=fake, heartbeat=False)

    assert Order.objects.get(external_id="o3").status == "delivered"
    assert OrderStatusChange.objects.filter(order__external_id="o3", to_status="delivered").count() == 1
    assert run.created == 1 and run.updated == 1
    # Only orders not final yet are followed (o1 was cancelled); the new one is read by the change read.
    assert "o1" not in fake.followed and "o3" in fake.followed and "o6" not in fake.followed
    # The watermark comes from the change read, never from the old orders followed.
    assert SyncState.objects.get(account=account, stream="orders").watermark >= watermark
    assert SyncState.objects.get(account=account, stream="orders").cursor == {}

    run = engine.run_stream(account, "orders", client=fake, heartbeat=False)
    assert "o3" not in fake.followed and run.updated == 0
