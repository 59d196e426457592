"""The products' available stock (catalog.models.ProductStock, kept by triggers) against the aggregate over the
stock rows it replaces in the product list's stock filter: after a real stock sync from the sandbox (several
warehouses, WB sizes), after a stock push read back by the next sync, and after manual writes of every kind."""

from __future__ import annotations

import pytest
from django.db.models import F, Sum, Value
from django.db.models.functions import Greatest

from catalog.filters import ProductFilter
from catalog.models import Listing, Product, ProductStock, StockLevel, Warehouse
from catalog.selectors import LOW_STOCK
from catalog.services import set_stock
from integrations.models import OutboxChange
from integrations.sync.engine import run_stream
from tests.test_outbox_sandbox import Sandbox, seed_listings

pytestmark = pytest.mark.django_db


def aggregate() -> dict[int, int]:
    """What filter_stock used to compute on every request: one sum over every stock row of the product."""
    rows = (
        StockLevel.objects.filter(listing__product__isnull=False).order_by().values("listing__product_id")
        .annotate(total=Sum(Greatest(F("present") - F("reserved"), Value(0))))
    )
    return {row["listing__product_id"]: row["total"] for row in rows if row["total"] > 0}


def filtered(value: str) -> set[int]:
    return set(ProductFilter({"stock": value}, queryset=Product.objects.all()).qs.values_list("pk", flat=True))


def assert_exact() -> dict[int, int]:
    totals = aggregate()
    assert dict(ProductStock.objects.values_list("product_id", "available")) == totals
    everyone = set(Product.objects.values_list("pk", flat=True))
    assert filtered("in") == {p for p, n in totals.items() if n > LOW_STOCK}
    assert filtered("low") == {p for p, n in totals.items() if 0 < n <= LOW_STOCK}
    assert filtered("out") == everyone - set(totals)
    return totals


def sync(sandbox: Sandbox, *streams: str) -> None:
    client = sandbox.client()
    try:
        for stream in streams:
            run_stream(sandbox.account, stream, full=True, client=client, heartbeat=False)
    finally:
        client.close()


@pytest.mark.parametrize("marketplace", ["wildberries", "ozon"])
def test_the_kept_totals_equal_the_aggregate_after_syncs_and_pushes(marketplace: str) -> None:
    sandbox = Sandbox(marketplace)
    listings = seed_listings(sandbox, 12)
    sync(sandbox, "warehouses", "stocks")
    assert StockLevel.objects.values("warehouse").distinct().count() > 1
    before = assert_exact()
    assert before

    # A stock push, read back by the next stocks sync (the ingest's bulk upsert writes the row).
    listing = next(x for x in listings if len(x.variants) <= 1 and StockLevel.objects.filter(
        listing=x, warehouse__kind=Warehouse.Kind.SELLER, warehouse__is_active=True).exists())
    level = StockLevel.objects.filter(listing=listing, warehouse__kind=Warehouse.Kind.SELLER,
                                      warehouse__is_active=True).first()
    change = set_stock(listing, level.warehouse, level.present + 37, None)
    sandbox.push()
    sandbox.settle([change])
    sync(sandbox, "stocks")
    assert OutboxChange.objects.get(pk=change.pk).status == OutboxChange.Status.APPLIED
    after = assert_exact()
    assert after[listing.product_id] != before.get(listing.product_id)


def test_the_kept_totals_follow_manual_writes_of_every_kind() -> None:
    from tests.stock_support import make_stock_world

    world = make_stock_world()
    dress = world.dress.product_id
    # S 10 + M (3 - 1) + L 0 + FBO M 40 = 52.
    assert assert_exact() == {dress: 52}
    # The mug has no product: its card is matched to one, then moved to another.
    mug = Product.objects.create(article="MUG-1", name="Кружка")
    world.levels["mug_own"].present = 5
    world.levels["mug_own"].save()
    assert assert_exact() == {dress: 52}
    Listing.objects.filter(pk=world.mug.pk).update(product=mug)
    assert assert_exact() == {dress: 52, mug.pk: 3}
    StockLevel.objects.filter(pk=world.levels["dress_fbo_M"].pk).update(reserved=F("present") + 5)  # never below 0
    assert assert_exact() == {dress: 12, mug.pk: 3}
    StockLevel.objects.filter(listing=world.dress, warehouse=world.wb_own).delete()
    assert assert_exact() == {mug.pk: 3}
    StockLevel.objects.create(listing=world.dress, warehouse=world.wb_own, variant_id="111", present=4)
    assert assert_exact() == {dress: 4, mug.pk: 3}
    spare = Product.objects.get(article="MUG-SPARE")
    Listing.objects.filter(pk=world.mug.pk).update(product=spare)
    assert assert_exact() == {dress: 4, spare.pk: 3}
    spare.delete()  # the card is left without a product (or goes with it): either way no stale row
    assert assert_exact() == {dress: 4}
    world.dress.delete()
    assert assert_exact() == {}
