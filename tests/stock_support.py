"""Factories for the stock screen and the catalogue's Excel tests: a WB card with sizes, an own (FBS)
and a marketplace (FBO) warehouse, and stock levels on both."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from catalog.models import Listing, Product, StockLevel, Warehouse
from integrations.models import MarketplaceAccount
from pricing.models import Price
from tests.foundation_support import make_account

SIZES = [{"id": "111", "size": "S"}, {"id": "222", "size": "M"}, {"id": "333", "size": "L"}]


@dataclass
class StockWorld:
    wb: MarketplaceAccount
    ozon: MarketplaceAccount
    dress: Listing  # WB, sizes S/M/L
    mug: Listing  # Ozon, no sizes
    wb_own: Warehouse
    wb_fbo: Warehouse
    ozon_own: Warehouse
    levels: dict[str, StockLevel]


def make_stock_world() -> StockWorld:
    wb, ozon = make_account("wildberries", name="WB Одежда"), make_account("ozon", name="Ozon Главный")
    dress_product = Product.objects.create(article="DRESS-1", name="Платье")
    Product.objects.create(article="MUG-SPARE", name="Кружка запасная")
    dress = Listing.objects.create(
        account=wb, external_id="55501", offer_id="DRESS-1", title="Платье летнее", product=dress_product,
        barcodes=["4601111111111"], variants=SIZES, description="Лёгкое платье",
    )
    mug = Listing.objects.create(
        account=ozon, external_id="77701", offer_id="MUG-1", title="Кружка", barcodes=["4602222222222"],
    )
    Price.objects.create(listing=dress, price=Decimal("1499.90"))
    wb_own = Warehouse.objects.create(account=wb, external_id="1001", name="Склад продавца Подольск")
    wb_fbo = Warehouse.objects.create(account=wb, external_id="507", name="Коледино", kind=Warehouse.Kind.MARKETPLACE)
    ozon_own = Warehouse.objects.create(account=ozon, external_id="22", name="Мой склад Ozon")
    levels = {
        "dress_own_S": StockLevel.objects.create(listing=dress, warehouse=wb_own, variant_id="111", present=10),
        "dress_own_M": StockLevel.objects.create(listing=dress, warehouse=wb_own, variant_id="222", present=3,
                                                 reserved=1),
        "dress_own_L": StockLevel.objects.create(listing=dress, warehouse=wb_own, variant_id="333", present=0),
        "dress_fbo_M": StockLevel.objects.create(listing=dress, warehouse=wb_fbo, variant_id="222", present=40),
        "mug_own": StockLevel.objects.create(listing=mug, warehouse=ozon_own, present=2, reserved=2),
    }
    return StockWorld(wb, ozon, dress, mug, wb_own, wb_fbo, ozon_own, levels)
