"""Orders in a real browser (issue 13): a manager filters the inbox, opens an order and reads its lines,
money and history; the returns pages. Screenshots under var/screenshots/."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.roles import Role
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the Chromium fixture)
from tests.test_browser_catalog import _login, _user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def _russian() -> None:
    from tests.foundation_support import compile_translations

    compile_translations()


def _seed() -> int:
    """Two marketplaces' orders; one overdue WB FBS order with lines, history, a payout and a return."""
    from analytics.models import FeeLine, FinanceOperation
    from catalog.models import Warehouse
    from orders.models import Order, OrderLine, OrderStatus, OrderStatusChange, Return, Scheme
    from tests.foundation_support import make_account, make_listing

    ozon, wb = make_account("ozon", name="Ozon Главный"), make_account("wildberries", name="WB Одежда")
    now = timezone.now()
    podolsk = Warehouse.objects.create(account=wb, external_id="507", name="Склад Подольск")
    for n in range(30):
        account = ozon if n % 2 else wb
        order = Order.objects.create(
            account=account, external_id=f"{70000000 + n}-0001-1", order_number=f"{70000000 + n}-0001",
            scheme=Scheme.FBS if n % 3 else Scheme.FBO, status=[OrderStatus.DELIVERED, OrderStatus.NEW][n % 2],
            ordered_at=now - timedelta(hours=3 * n), buyer_city=["Москва", "Казань"][n % 2],
            buyer_total=None if account == ozon else Decimal("1499.90") + n, seller_total=Decimal("1700.00"),
        )
        OrderLine.objects.create(order=order, line_key="1", offer_id=f"ART-{n:03d}", name=f"Футболка {n}",
                                 quantity=1 + n % 2, price=Decimal("1700.00"))
    listing = make_listing(wb)
    listing.title = "Платье летнее, размер 44"
    listing.save()
    order = Order.objects.create(
        account=wb, external_id="4455667788", order_number="4455667788", scheme=Scheme.FBS,
        status=OrderStatus.PROCESSING, raw_status="confirm", ordered_at=now - timedelta(days=2),
        shipment_due_at=now - timedelta(hours=5), warehouse=podolsk, buyer_city="Казань",
        buyer_total=Decimal("1014.99"), seller_total=Decimal("1358.00"),
    )
    OrderLine.objects.create(order=order, line_key="1", listing=listing, offer_id=listing.offer_id,
                             name="Платье летнее, размер 44", quantity=1, price=Decimal("1358.00"),
                             buyer_price=Decimal("1014.99"), seller_price=Decimal("1358.00"))
    OrderStatusChange.objects.create(order=order, to_status=OrderStatus.NEW, raw_status="new",
                                     changed_at=now - timedelta(days=2))
    OrderStatusChange.objects.create(order=order, from_status=OrderStatus.NEW, to_status=OrderStatus.PROCESSING,
                                     raw_status="confirm", changed_at=now - timedelta(days=1),
                                     source=OrderStatusChange.Source.MANUAL)
    sale = FinanceOperation.objects.create(
        account=wb, external_id="rrd-1", operation_type="Продажа", operation_at=now - timedelta(hours=1),
        order=order, sale_amount=Decimal("1014.99"), amount=Decimal("862.74"),
    )
    FeeLine.objects.create(operation=sale, kind=FeeLine.Kind.COMMISSION, name="Комиссия за продажу",
                           amount=Decimal("-152.25"))
    Return.objects.create(account=wb, external_id="R-77", order=order, order_external_id=order.external_id,
                          listing=listing, offer_id=listing.offer_id, reason="Не подошёл размер",
                          raw_status="arrived", amount=Decimal("1014.99"), returned_at=now - timedelta(hours=2))
    return order.pk


def test_manager_filters_orders_opens_one_and_reads_its_lines_money_and_history(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    order_pk = _seed()
    _user(django_user_model, "maria", Role.MANAGER)
    page = browser_page
    _login(page, live_server, "maria")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/orders/")
    assert page.locator("table.orders tbody tr").count() == 31
    page.screenshot(path=str(SCREENSHOTS / "orders_inbox.png"), full_page=True)

    # The "overdue" preset: the one order whose deadline has passed and that is not shipped.
    page.click("nav.views >> text=Просрочено")
    page.wait_for_url("**/orders/?shipment=overdue*")
    assert page.locator("table.orders tbody tr").count() == 1

    # Filters: Wildberries, FBS, city; then save them as a view.
    page.goto(f"{live_server.url}/orders/")
    page.select_option("select[name=marketplace]", "wildberries")  # submits on change
    page.wait_for_url("**/orders/?*marketplace=wildberries*")
    page.select_option("select[name=scheme]", "FBS")
    page.wait_for_url("**/orders/?*scheme=FBS*")
    page.fill("input[name=city]", "Казань")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/orders/?*city=*")
    rows = page.locator("table.orders tbody tr")
    assert rows.count() == 1
    assert "1\u202f014,99\u00a0₽" in rows.first.inner_text()
    page.fill("form.saveview input[name=name]", "Казань WB")
    page.click("form.saveview button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator("nav.views a.active").inner_text() == "Казань WB"
    page.screenshot(path=str(SCREENSHOTS / "orders_filtered.png"), full_page=True)

    # The row opens the order's page.
    rows.first.locator("a.rowlink").click()
    page.wait_for_url(f"**/orders/{order_pk}/")
    lines = page.locator("#lines").inner_text()
    assert "Платье летнее, размер 44" in lines and "1\u202f358,00\u00a0₽" in lines
    money = page.locator("#money").inner_text()
    assert "1\u202f014,99\u00a0₽" in money and "Комиссия за продажу" in money and "862,74\u00a0₽" in money
    history = page.locator("#history").inner_text()
    assert "В обработке" in history and "Вручную" in history and "Синхронизация с маркетплейсом" in history
    assert "просрочено" in page.locator("#shipment").inner_text()
    assert "Не подошёл размер" in page.locator("#returns").inner_text()
    assert page.locator("#actions h2").inner_text() == "Действия"
    page.screenshot(path=str(SCREENSHOTS / "order_detail.png"), full_page=True)

    # The product link of the line leads to the catalogue's card.
    page.locator("#lines a").first.click()
    page.wait_for_load_state("load")
    assert "/catalog/" in page.url


def test_returns_list_and_reasons(browser_page, live_server, django_user_model) -> None:  # noqa: F811
    order_pk = _seed()
    _user(django_user_model, "ivan", Role.ANALYST)
    page = browser_page
    _login(page, live_server, "ivan")
    page.click("nav.mainnav >> text=Возвраты")
    page.wait_for_url("**/orders/returns/")
    assert page.locator("table.returns tbody tr").count() == 1
    assert "Не подошёл размер" in page.locator("table.returns").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "returns.png"), full_page=True)
    page.click("nav.tabs >> text=Причины возвратов")
    page.wait_for_url("**/orders/returns/reasons/")
    assert "Не подошёл размер — 1 шт. (100%)" in page.locator("table.reasons").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "returns_reasons.png"), full_page=True)
    page.click("nav.tabs >> text=Возвраты")
    page.locator("table.returns a[href^='/orders/']").first.click()
    page.wait_for_url(f"**/orders/{order_pk}/")
