"""The stock forecast and purchasing: figures checked by hand on a small fixed data set, the reorder rules as
properties (Hypothesis), suppliers edited with an audit trail, the pages and their order-list export."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from catalog.models import StockLevel, Warehouse
from core.models import AuditEvent
from core.roles import Role
from notifications.models import Notification
from orders.models import Order, OrderLine, OrderStatus
from supply.forecast import Terms, days_left, order_by, refresh_forecasts, reorder_qty
from supply.models import NO_SALES_DAYS, CardForecast, ProductForecast, Supplier, SupplierProduct
from supply.services import set_product_terms
from tests.foundation_support import client_for, make_account, make_listing, make_user

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=MOSCOW)
TODAY = date(2026, 12, 3)
T = Terms(window=28, safety=7, cover=30)


def _warehouse(account, name: str, kind: str = Warehouse.Kind.SELLER) -> Warehouse:
    return Warehouse.objects.create(account=account, external_id=name, name=name, kind=kind)


def _sell(listing, warehouse, units: int, days_ago: int, status: str = OrderStatus.DELIVERED) -> None:
    order = Order.objects.create(
        account=listing.account, external_id=f"o-{listing.pk}-{warehouse.pk}-{units}-{days_ago}-{status}",
        ordered_at=NOW - timedelta(days=days_ago), status=status, warehouse=warehouse, total_amount=Decimal("100"),
    )
    OrderLine.objects.create(order=order, line_key="1", listing=listing, offer_id=listing.offer_id, quantity=units,
                             price=Decimal("100"))


@pytest.fixture
def shop(db):
    """One product on two marketplaces: Ozon FBS (own warehouse) and WB FBO (two sizes), sold over 28 days."""
    ozon, wb = make_account("ozon"), make_account("wildberries")
    card = make_listing(ozon)
    product = card.product
    wb_card = make_listing(wb, product=False)
    wb_card.product = product
    wb_card.save()
    own, wb_fbo = _warehouse(ozon, "Подольск"), _warehouse(wb, "Коледино", Warehouse.Kind.MARKETPLACE)
    StockLevel.objects.create(listing=card, warehouse=own, present=40, reserved=5)  # sellable 35
    StockLevel.objects.create(listing=wb_card, warehouse=wb_fbo, variant_id="S", present=10)
    StockLevel.objects.create(listing=wb_card, warehouse=wb_fbo, variant_id="M", present=15)
    # 28 days: Ozon 14 units from Подольск, WB 42 units from Коледино; a cancelled order and a sale older than
    # the window do not count.
    _sell(card, own, 14, days_ago=3)
    _sell(wb_card, wb_fbo, 40, days_ago=10)
    _sell(wb_card, wb_fbo, 2, days_ago=27)
    _sell(wb_card, wb_fbo, 50, days_ago=5, status=OrderStatus.CANCELLED)
    _sell(card, own, 99, days_ago=40)
    return {"product": product, "card": card, "wb_card": wb_card, "own": own, "wb_fbo": wb_fbo}


def test_the_forecast_matches_figures_computed_by_hand(shop) -> None:
    supplier = Supplier.objects.create(name="Фабрика", lead_time_days=10)
    SupplierProduct.objects.create(supplier=supplier, product=shop["product"], min_order_qty=50, pack_size=12)

    summary = refresh_forecasts(now=NOW, t=T)

    assert (summary.cards, summary.products) == (2, 1)
    row = ProductForecast.objects.get(product=shop["product"])
    # stock 35 + 25 = 60; sold 14 + 42 = 56 in 28 days: 2 a day; 60 / 2 = 30 days; out on 02.01.2027.
    assert (row.stock, row.units_sold, row.daily_rate, row.days_left) == (60, 56, Decimal("2.000"), 30)
    assert row.stockout_on == date(2027, 1, 2)
    # Order by: 30 - 10 lead - 7 safety = 13 days from today; beyond the 7-day horizon, so nothing to order yet.
    assert row.order_by == date(2026, 12, 16) and row.reorder_qty == 0

    ozon = CardForecast.objects.get(listing=shop["card"])
    assert (ozon.stock, ozon.units_sold, ozon.days_left) == (35, 14, 70)  # 35 / 0.5 a day
    wb = CardForecast.objects.get(listing=shop["wb_card"])
    assert (wb.stock, wb.units_sold, wb.days_left, wb.stockout_on) == (25, 42, 16, date(2026, 12, 19))  # 25 / 1.5


def test_an_order_is_suggested_in_time_in_whole_packs_above_the_minimum(shop) -> None:
    supplier = Supplier.objects.create(name="Фабрика", lead_time_days=25)
    SupplierProduct.objects.create(supplier=supplier, product=shop["product"], min_order_qty=50, pack_size=12)

    refresh_forecasts(now=NOW, t=T)

    row = ProductForecast.objects.get(product=shop["product"])
    # 30 days of stock - 25 lead - 7 safety: order by 01.12 (already late).
    # Need 2 × (25 + 30) - 60 = 50, in packs of 12: 60.
    assert row.order_by == date(2026, 12, 1)
    assert row.reorder_qty == 60 and row.supplier == supplier and row.lead_time_days == 25


def test_a_product_that_sold_nothing_never_runs_out_and_is_never_ordered(db) -> None:
    account = make_account("ozon")
    card = make_listing(account)
    StockLevel.objects.create(listing=card, warehouse=_warehouse(account, "Склад"), present=3)
    SupplierProduct.objects.create(supplier=Supplier.objects.create(name="S", lead_time_days=5), product=card.product)
    refresh_forecasts(now=NOW, t=T)
    row = ProductForecast.objects.get(product=card.product)
    assert (row.days_left, row.stockout_on, row.order_by, row.reorder_qty) == (NO_SALES_DAYS, None, None, 0)


@given(
    stock=st.integers(min_value=0, max_value=100_000),
    units=st.integers(min_value=1, max_value=50_000),
    lead=st.integers(min_value=0, max_value=120),
    min_qty=st.integers(min_value=1, max_value=1000),
    pack=st.integers(min_value=1, max_value=100),
)
def test_reorder_rules_hold_for_any_figures(stock: int, units: int, lead: int, min_qty: int, pack: int) -> None:
    days = days_left(stock, units, T.window)
    assume(days < NO_SALES_DAYS - 1)  # beyond the cap "never runs out" is the answer
    # The stock lasts the whole days said, and not one more.
    assert Decimal(units) * days / T.window <= stock < Decimal(units) * (days + 1) / T.window
    qty = reorder_qty(stock, units, T, lead, min_qty, pack)
    if qty:
        assert qty % pack == 0 and qty >= min_qty
        # With the order, the stock covers the lead time and the cover days at the window's rate.
        assert (stock + qty) * T.window >= units * (lead + T.cover)
    else:
        assert stock * T.window >= units * (lead + T.cover) - T.window  # within a day's rounding
    last = order_by(TODAY, days, lead, T)
    assert last is not None and last + timedelta(days=lead + T.safety) == TODAY + timedelta(days=days)


def test_the_forecast_page_lists_what_runs_out_first_and_exports_the_order_list(
    shop, django_assert_max_num_queries
) -> None:
    supplier = Supplier.objects.create(name="Фабрика", lead_time_days=25)
    set_product_terms(supplier, shop["product"].article, {"min_order_qty": 50, "pack_size": 12}, user=None)
    refresh_forecasts(t=T)
    client = client_for(make_user(Role.ANALYST))
    with django_assert_max_num_queries(12):
        response = client.get("/supply/?urgency=order_now")
    page = response.content.decode()
    assert response.status_code == 200
    assert shop["product"].article in page and "Фабрика" in page and "<strong>60</strong>" in page

    found = client.get(f"/supply/?q={shop['product'].article.lower()}").context["rows"]
    assert [row.product_id for row in found] == [shop["product"].pk]
    assert list(client.get("/supply/?q=NO-SUCH-ARTICLE").context["rows"]) == []

    cards = client.get(f"/supply/products/{shop['product'].pk}/cards/").content.decode()
    assert "Коледино" in cards and "Подольск" in cards and "S: 10" in cards and "M: 15" in cards

    export = client.get("/supply/order-list.xlsx?urgency=order_now")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Поставщик", "Артикул продавца", "Товар", "Заказать, шт.")
    assert rows[1][0] == "Фабрика" and rows[1][1] == shop["product"].article and rows[1][3] == 60


def test_stockouts_ahead_are_notified_once_a_day(shop) -> None:
    from supply.notify import notify_stockouts

    make_user(Role.MANAGER)  # managers get stock-outs ahead by default
    supplier = Supplier.objects.create(name="Фабрика", lead_time_days=25)
    SupplierProduct.objects.create(supplier=supplier, product=shop["product"])
    refresh_forecasts(t=T)
    assert notify_stockouts() == 1
    assert notify_stockouts() == 0
    note = Notification.objects.get(kind="stockout_ahead")
    assert "заказать" in note.message and note.link == "/supply/?urgency=order_now"


class TestSuppliers:
    def test_a_manager_adds_a_supplier_and_a_product_with_terms_audited(self, shop) -> None:
        client = client_for(make_user(Role.MANAGER))
        response = client.post("/supply/suppliers/new/", {"name": "Фабрика", "lead_time_days": "21"}, follow=True)
        supplier = Supplier.objects.get(name="Фабрика")
        assert "Поставщик Фабрика сохранён" in response.content.decode()
        client.post(
            f"/supply/suppliers/{supplier.pk}/products/",
            {"article": shop["product"].article.lower(), "min_order_qty": "24", "pack_size": "6", "is_primary": "on"},
        )
        term = SupplierProduct.objects.get(supplier=supplier)
        assert (term.product, term.min_order_qty, term.pack_size, term.lead_time) == (shop["product"], 24, 6, 21)
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {"supplier.created", "supplier.product_set"} <= actions

        unknown = client.post(
            f"/supply/suppliers/{supplier.pk}/products/", {"article": "NOPE", "min_order_qty": "1", "pack_size": "1"},
            follow=True,
        )
        assert "Нет товара с артикулом NOPE" in unknown.content.decode()

    def test_a_new_main_supplier_takes_the_role_from_the_old_one(self, shop) -> None:
        first, second = Supplier.objects.create(name="A"), Supplier.objects.create(name="B")
        set_product_terms(first, shop["product"].article, {"is_primary": True}, user=None)
        set_product_terms(second, shop["product"].article, {"is_primary": True}, user=None)
        primary = SupplierProduct.objects.filter(product=shop["product"], is_primary=True)
        assert [row.supplier.name for row in primary] == ["B"]

    def test_an_analyst_reads_but_cannot_change(self, shop) -> None:
        supplier = Supplier.objects.create(name="Фабрика")
        client = client_for(make_user(Role.ANALYST))
        page = client.get(f"/supply/suppliers/{supplier.pk}/").content.decode()
        assert "Фабрика" in page and 'name="lead_time_days"' not in page and 'name="article"' not in page
        assert client.post("/supply/suppliers/new/", {"name": "X", "lead_time_days": "1"}).status_code == 403
        assert client.post(f"/supply/suppliers/{supplier.pk}/products/", {"article": "A"}).status_code == 403
        assert not Supplier.objects.filter(name="X").exists()
