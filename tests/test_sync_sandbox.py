"""The pull sync against the sandbox marketplaces through the real adapters (in-process transport,
fake clock): every stream of every marketplace, idempotent resync, a 429/420/5xx storm, and
incremental orders after the sandbox's clock moves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from analytics.models import FeeLine, FinanceOperation
from catalog.models import Listing, Product, StockLevel, Warehouse
from integrations.base import PermanentError, TransientError
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount, SyncRun
from integrations.registry import get_client
from integrations.sandbox import credentials as sandbox_credentials
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.sync import engine
from integrations.sync.streams import STREAM_ORDER
from orders.models import Order, OrderLine, OrderStatusChange, Return
from pricing.models import Price, Promotion, PromotionOffer
from reviews.models import Question, Review

pytestmark = pytest.mark.django_db

MARKETPLACES = ["ozon", "wildberries", "yandex_market"]
TABLES = [
    Warehouse, Listing, Product, Price, StockLevel, Order, OrderLine, OrderStatusChange, Return, Review, Question,
    Promotion, PromotionOffer, FinanceOperation, FeeLine,
]


def make_account(marketplace: str) -> MarketplaceAccount:
    account = MarketplaceAccount(marketplace=marketplace, name=f"{marketplace} sandbox",
                                 base_url=f"http://sandbox.test/{marketplace}")
    if marketplace == "ozon":
        account.client_id = sandbox_credentials.OZON_CLIENT_ID
        # With the Performance API's credentials, the ads stream reads Ozon's ad statistics too.
        account.set_credentials({"api_key": sandbox_credentials.OZON_API_KEY,
                                 "performance_client_id": sandbox_credentials.OZON_PERFORMANCE_CLIENT_ID,
                                 "performance_client_secret": sandbox_credentials.OZON_PERFORMANCE_CLIENT_SECRET})
    elif marketplace == "wildberries":
        account.set_credentials({"token": sandbox_credentials.WB_TOKEN})
    else:
        account.business_id = str(sandbox_credentials.YM_BUSINESS_ID)
        account.set_credentials({"api_key": sandbox_credentials.YM_API_KEY})
    account.save()
    return account


@pytest.fixture
def world() -> SandboxWorld:
    # The world's clock starts now, so the engine's first-read lookback covers its history.
    return SandboxWorld(SandboxConfig(seed=42, products=40, orders=120, start=datetime.now(UTC).replace(microsecond=0)))


@pytest.fixture
def connect(world: SandboxWorld) -> Callable[[MarketplaceAccount], object]:
    app = SandboxApp(world)
    clock = FakeClock()

    def client_for(account: MarketplaceAccount) -> object:
        return get_client(account, transport=SandboxTransport(app), clock=clock, limiter=LocalLimiter())

    client_for.clock = clock  # type: ignore[attr-defined]
    return client_for


def sync_all(account: MarketplaceAccount, client: object, *, full: bool = False) -> dict[str, SyncRun]:
    return {s: engine.run_stream(account, s, full=full, client=client, heartbeat=False) for s in STREAM_ORDER}


def snapshot() -> dict[str, object]:
    state: dict[str, object] = {}
    for model in TABLES:
        stamp = "updated_at" if any(f.name == "updated_at" for f in model._meta.fields) else "pk"
        state[model.__name__] = sorted(model.objects.values_list("pk", stamp))
    return state


@pytest.mark.parametrize("marketplace", MARKETPLACES)
def test_every_stream_syncs_and_a_resync_changes_nothing(marketplace: str, connect) -> None:
    account = make_account(marketplace)
    client = connect(account)
    first = sync_all(account, client)

    assert all(run.status == SyncRun.Status.SUCCEEDED for run in first.values())
    for stream in ("warehouses", "listings", "prices", "stocks", "orders", "reviews", "promotions", "finance"):
        assert first[stream].created > 0, stream
    assert Listing.objects.filter(account=account).count() == 40
    assert Listing.objects.filter(account=account, product__isnull=True).count() == 0
    assert Price.objects.filter(listing__account=account).count() >= 39
    assert OrderLine.objects.filter(order__account=account).count() >= Order.objects.filter(account=account).count()
    assert OrderLine.objects.filter(order__account=account, listing__isnull=True).count() == 0
    # One creation record per order: the status history starts once, never twice.
    assert OrderStatusChange.objects.filter(order__account=account, from_status="").count() == Order.objects.filter(
        account=account).count()
    before = snapshot()

    again = sync_all(account, client, full=True)

    assert snapshot() == before
    for stream, run in again.items():
        assert (run.created, run.updated) == (0, 0), stream


def test_the_same_article_on_three_marketplaces_is_one_master_product(connect, world: SandboxWorld) -> None:
    for marketplace in MARKETPLACES:
        account = make_account(marketplace)
        engine.run_stream(account, "listings", client=connect(account), heartbeat=False)

    assert Product.objects.count() == len(world.catalog)
    product = Product.objects.get(article=world.catalog[0].article)
    assert sorted(product.listings.values_list("account__marketplace", flat=True)) == sorted(MARKETPLACES)


def run_until_done(account: MarketplaceAccount, stream: str, client: object, attempts: int = 8) -> list[SyncRun]:
    """What the Celery task does with a transient failure: try again; the next run resumes."""
    runs = []
    for _ in range(attempts):
        try:
            runs.append(engine.run_stream(account, stream, client=client, heartbeat=False))
            return runs
        except TransientError:
            runs.append(SyncRun.objects.filter(account=account, stream=stream).first())
    raise AssertionError(f"{stream} did not finish in {attempts} attempts")


@pytest.mark.parametrize("marketplace", MARKETPLACES)
def test_a_storm_of_rate_limits_and_server_errors_ends_with_complete_data(
    marketplace: str, connect, world: SandboxWorld
) -> None:
    # The reference: a quiet sync of the same world into a second account.
    quiet = make_account(marketplace)
    sync_all(quiet, connect(quiet))

    stormy = MarketplaceAccount.objects.get(pk=quiet.pk)
    stormy.pk, stormy.name = None, f"{marketplace} stormy"
    stormy.save()
    world.faults.update({"rate_limit_ratio": 0.25, "server_error_ratio": 0.15, "retry_after_seconds": 2})
    client = connect(stormy)
    for stream in STREAM_ORDER:
        run_until_done(stormy, stream, client)
    world.faults.update({"rate_limit_ratio": 0.0, "server_error_ratio": 0.0})

    assert connect.clock.sleeps, "the storm was answered with waits (on the fake clock)"
    assert 2.0 in connect.clock.sleeps or max(connect.clock.sleeps) >= 2.0  # the server's retry-after was honoured
    for model, field in [
        (Listing, "account"), (Price, "listing__account"), (StockLevel, "listing__account"), (Order, "account"),
        (OrderLine, "order__account"), (Return, "account"), (Review, "account"), (Question, "account"),
        (PromotionOffer, "promotion__account"), (FinanceOperation, "account"), (FeeLine, "operation__account"),
        (OrderStatusChange, "order__account"),
    ]:
        assert model.objects.filter(**{field: stormy}).count() == model.objects.filter(**{field: quiet}).count(), model
    # Exactly the same orders with the same statuses, each recorded once.
    orders = lambda account: sorted(Order.objects.filter(account=account).values_list(  # noqa: E731
        "external_id", "status", "raw_status", "total_amount"))
    assert orders(stormy) == orders(quiet)
    # And nothing is left to change: a full resync finds every row unchanged.
    for stream, run in sync_all(stormy, client, full=True).items():
        assert (run.created, run.updated) == (0, 0), stream


@pytest.mark.parametrize("marketplace", MARKETPLACES)
def test_after_the_sandbox_advances_an_incremental_sync_picks_up_exactly_new_and_changed_orders(
    marketplace: str, connect, world: SandboxWorld
) -> None:
    account = make_account(marketplace)
    client = connect(account)
    engine.run_stream(account, "listings", client=client, heartbeat=False)
    engine.run_stream(account, "orders", client=client, heartbeat=False)
    before = dict(Order.objects.filter(account=account).values_list("external_id", "updated_at"))
    statuses_before = dict(Order.objects.filter(account=account).values_list("external_id", "status"))
    total_before = len(before)

    world.advance(180)
    incremental = engine.run_stream(account, "orders", client=client, heartbeat=False)

    after = dict(Order.objects.filter(account=account).values_list("external_id", "updated_at"))
    new = set(after) - set(before)
    changed = {ext for ext in before if after[ext] != before[ext]}
    assert new and changed, "the sandbox made new orders and changed some"
    assert (incremental.created, incremental.updated) == (len(new), len(changed))
    assert incremental.fetched < total_before  # it read the changes, not the whole history
    # Every order whose status moved has that move in its history, from the old status.
    for order in Order.objects.filter(account=account, external_id__in=changed):
        if order.status != statuses_before[order.external_id]:
            last = order.status_changes.order_by("-id").first()
            assert (last.from_status, last.to_status) == (statuses_before[order.external_id], order.status)
    # Nothing was missed: a full re-read finds nothing more to change.
    full = engine.run_stream(account, "orders", client=client, full=True, heartbeat=False)
    assert (full.created, full.updated) == (0, 0)


@pytest.mark.parametrize("fault", ["wb_cards_stuck_cursor_next", "wb_cards_empty_page_next"])
def test_wb_card_paging_that_goes_nowhere_ends_the_run_with_a_clear_error(
    fault: str, connect, world: SandboxWorld
) -> None:
    """A cursor that does not move, or an empty page while `total` says more: the run stops with
    the reason in SyncRun instead of asking the same page forever; the pages before it are kept."""
    account = make_account("wildberries")
    client = connect(account)
    client.cards_page_size = 15  # type: ignore[attr-defined]
    world.faults.update({fault: 1000})
    with pytest.raises(PermanentError):
        engine.run_stream(account, "listings", client=client, heartbeat=False)
    run = SyncRun.objects.get(account=account, stream="listings")
    assert run.status == SyncRun.Status.FAILED and run.pages == 1
    assert "Wildberries cards list" in run.error_message
    assert Listing.objects.filter(account=account).count() == 15
    assert Listing.objects.filter(account=account, missing_since__isnull=False).count() == 0
    assert world.faults.wb_cards_stuck_cursor_next + world.faults.wb_cards_empty_page_next == 999
