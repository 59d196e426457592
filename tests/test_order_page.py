"""An order's page (issue 13, point 2): lines and their cards, money and payout, history, shipment,
returns and reviews, the actions slot; in a bounded number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from analytics.models import FeeLine, FinanceOperation
from catalog.models import Warehouse
from core.roles import Role
from orders.models import Order, OrderLine, OrderStatus, OrderStatusChange, Return, Scheme
from reviews.models import Review
from tests.foundation_support import client_for, compile_translations, make_account, make_listing, make_user

pytestmark = pytest.mark.django_db

ORDERED = datetime(2026, 3, 1, 21, 30, tzinfo=UTC)  # 02.03.2026 00:30 in Moscow


@pytest.fixture(scope="module", autouse=True)
def _russian_catalogue() -> None:
    compile_translations()


@pytest.fixture
def client() -> Client:
    return client_for(make_user(Role.ANALYST))


def _order(lines: int = 2, account_name: str = "WB Одежда") -> tuple[Order, list[Any]]:
    wb = make_account("wildberries", name=account_name)
    warehouse = Warehouse.objects.create(account=wb, external_id="w1", name="Склад Подольск")
    order = Order.objects.create(
        account=wb, external_id="4455667788", order_number="4455667788", srid="abc123.0.0", scheme=Scheme.FBS,
        status=OrderStatus.IN_DELIVERY, raw_status="complete", ordered_at=ORDERED,
        shipment_due_at=ORDERED + timedelta(days=1, hours=10), status_changed_at=ORDERED + timedelta(days=1),
        warehouse=warehouse, buyer_city="Казань", buyer_total=Decimal("1014.99"), seller_total=Decimal("1200.00"),
        total_amount=Decimal("1014.99"),
    )
    listings = [make_listing(wb) for _ in range(lines)]
    for n, listing in enumerate(listings):
        OrderLine.objects.create(
            order=order, line_key=str(n), listing=listing, offer_id=listing.offer_id, name=f"Платье {n}",
            quantity=1 + n, price=Decimal("600.00"), buyer_price=Decimal("507.50"), seller_price=Decimal("600.00"),
            commission=Decimal("90.00"),
        )
    OrderStatusChange.objects.create(order=order, from_status="", to_status=OrderStatus.NEW, raw_status="new",
                                     changed_at=ORDERED, source=OrderStatusChange.Source.SYNC)
    OrderStatusChange.objects.create(order=order, from_status=OrderStatus.NEW, to_status=OrderStatus.READY_TO_SHIP,
                                     raw_status="confirm", changed_at=ORDERED + timedelta(hours=5),
                                     source=OrderStatusChange.Source.MANUAL)
    OrderStatusChange.objects.create(order=order, from_status=OrderStatus.READY_TO_SHIP,
                                     to_status=OrderStatus.IN_DELIVERY, raw_status="complete",
                                     changed_at=ORDERED + timedelta(days=1), source=OrderStatusChange.Source.PUSH)
    return order, listings


def test_the_order_page_shows_lines_money_history_shipment_and_the_actions_slot(client: Client) -> None:
    order, listings = _order()
    page = client.get(f"/orders/{order.pk}/").content.decode()

    # Lines, each linked to its card and product.
    assert f'href="/catalog/cards/{listings[0].pk}/"' in page
    assert f'href="/catalog/products/{listings[1].product_id}/"' in page
    assert "Платье 0" in page and "Платье 1" in page and "507,50\u00a0₽" in page and "90,00\u00a0₽" in page
    # Money: what the buyer paid and the seller's price; no finance report yet.
    assert "1\u202f014,99\u00a0₽" in page and "1\u202f200,00\u00a0₽" in page
    assert "Ещё нет данных о выплате" in page
    # History with the source of each change, in words.
    for words in ("Новый", "Готов к отгрузке", "В доставке", "Синхронизация с маркетплейсом", "Вручную",
                  "Уведомление маркетплейса"):
        assert words in page, words
    # Shipment, dates in Moscow time, tracking, city, warehouse.
    assert "02.03.2026 00:30" in page and "03.03.2026 10:30" in page
    assert "Маркетплейс не передал трек-номер" in page
    assert "Казань" in page and "Склад Подольск" in page
    # The fulfilment branch fills the actions section.
    assert "<h2>Действия</h2>" in page
    assert "Возвратов по этому заказу нет." in page


def test_payout_and_fees_once_finance_operations_are_linked(client: Client) -> None:
    order, _ = _order(lines=1)
    sale = FinanceOperation.objects.create(
        account=order.account, external_id="op-1", operation_type="Продажа", operation_at=ORDERED + timedelta(days=5),
        order=order, order_external_id=order.srid, sale_amount=Decimal("1014.99"), amount=Decimal("812.49"),
    )
    FeeLine.objects.create(operation=sale, kind=FeeLine.Kind.COMMISSION, name="Комиссия за продажу",
                           amount=Decimal("-152.50"))
    FeeLine.objects.create(operation=sale, kind=FeeLine.Kind.LOGISTICS, name="Логистика", amount=Decimal("-50.00"))
    FinanceOperation.objects.create(
        account=order.account, external_id="op-2", operation_type="Хранение", operation_at=ORDERED + timedelta(days=6),
        order=order, amount=Decimal("-12.00"),
    )
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Ещё нет данных о выплате" not in page
    assert "Комиссия за продажу" in page and "-152,50\u00a0₽" in page and "-50,00\u00a0₽" in page
    assert "-202,50\u00a0₽" in page  # the fees together
    assert "800,49\u00a0₽" in page  # the payout: 812.49 − 12.00
    assert "2 финансовые операции" in page


def test_returns_and_reviews_of_the_order_are_linked(client: Client) -> None:
    order, listings = _order(lines=1)
    Return.objects.create(account=order.account, external_id="R-1", order=order, order_external_id=order.external_id,
                          listing=listings[0], offer_id=listings[0].offer_id, reason="Не подошёл размер",
                          amount=Decimal("507.50"), returned_at=ORDERED + timedelta(days=9))
    Review.objects.create(account=order.account, external_id="rv-1", listing=listings[0], rating=2,
                          text="Маломерит", published_at=ORDERED + timedelta(days=10))
    Review.objects.create(account=order.account, external_id="rv-0", listing=listings[0], rating=5,
                          text="Старый отзыв", published_at=ORDERED - timedelta(days=10))
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Не подошёл размер" in page and "Возврат" in page
    assert "Маломерит" in page and "Старый отзыв" not in page  # reviews since the order only
    returns_page = client.get("/orders/returns/").content.decode()
    assert f'href="/orders/{order.pk}/"' in returns_page


def test_an_order_without_lines_or_history_says_so_and_a_missing_one_is_404(client: Client) -> None:
    ozon = make_account("ozon")
    order = Order.objects.create(account=ozon, external_id="1-1", ordered_at=ORDERED, scheme=Scheme.FBO,
                                 tracking_number="TRK-42")
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Маркетплейс ещё не прислал состав заказа." in page
    assert "Изменений статуса пока нет." in page
    assert "TRK-42" in page and "маркетплейс не задаёт срок" in page
    assert "маркетплейс не сообщает" in page  # no buyer total from Ozon
    assert client.get(f"/orders/{order.pk + 1000}/").status_code == 404


def test_the_order_page_queries_do_not_grow_with_its_lines(client: Client, django_assert_max_num_queries: Any) -> None:
    order, _ = _order(lines=2)
    client.get(f"/orders/{order.pk}/")
    with django_assert_max_num_queries(15) as few:
        client.get(f"/orders/{order.pk}/")
    big, _ = _order(lines=12, account_name="WB Обувь")
    for n in range(12):
        FinanceOperation.objects.create(account=big.account, external_id=f"op-{n}", operation_type="Продажа",
                                        operation_at=ORDERED, order=big, amount=Decimal("1"))
    with django_assert_max_num_queries(15) as many:
        assert client.get(f"/orders/{big.pk}/").status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries) + 1  # the fees, once there is a payout
