"""The orders inbox (issue 13, point 1): filters, search, sorts, saved views, exports, query budgets."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from catalog.models import Warehouse
from core.roles import Role
from integrations.models import MarketplaceAccount
from orders import exports
from orders.filters import OrderFilter
from orders.models import Order, OrderLine, OrderStatus, SavedOrderView, Scheme
from orders.selectors import ORDER_SORTS, order_list
from tests.foundation_support import client_for, compile_translations, make_account, make_user

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def _russian_catalogue() -> None:
    compile_translations()


@pytest.fixture
def user() -> Any:
    return make_user(Role.MANAGER)


@pytest.fixture
def client(user: Any) -> Client:
    return client_for(user)


def _order(account: MarketplaceAccount, n: int, **fields: Any) -> Order:
    fields.setdefault("ordered_at", BASE - timedelta(hours=n))
    order = Order.objects.create(account=account, external_id=f"{80000 + n}-0001-1", order_number=f"N{n:04d}", **fields)
    OrderLine.objects.create(order=order, line_key="1", offer_id=f"ART-{n:03d}", quantity=1 + n % 3,
                             price=Decimal("500.00"))
    return order


def found(**params: str) -> set[int]:
    return set(OrderFilter(params, queryset=order_list()).qs.values_list("pk", flat=True))


def test_filters_by_warehouse_city_and_shipment_deadline() -> None:
    ozon, wb = make_account("ozon"), make_account("wildberries")
    home = Warehouse.objects.create(account=wb, external_id="w1", name="Склад Подольск")
    now = timezone.now()
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    today_evening = midnight + timedelta(hours=23)
    overdue = _order(wb, 1, warehouse=home, buyer_city="Казань", status=OrderStatus.NEW,
                     shipment_due_at=now - timedelta(days=1))
    packed_late = _order(wb, 2, status=OrderStatus.READY_TO_SHIP, shipment_due_at=now - timedelta(minutes=5))
    shipped = _order(wb, 3, status=OrderStatus.IN_DELIVERY, shipment_due_at=now - timedelta(days=1))
    due_today = _order(ozon, 4, status=OrderStatus.PROCESSING, shipment_due_at=today_evening, buyer_city="Москва")
    packed_today = _order(ozon, 5, status=OrderStatus.READY_TO_SHIP, shipment_due_at=today_evening)
    due_tomorrow = _order(ozon, 6, status=OrderStatus.NEW, shipment_due_at=today_evening + timedelta(days=1))

    assert found(warehouse=str(home.pk)) == {overdue.pk}
    assert found(city="Казань") == {overdue.pk}
    assert found(city="Москва", marketplace="ozon") == {due_today.pk}
    # Deadline passed and not handed over yet (assembled but not shipped counts); shipped does not.
    assert found(shipment="overdue") >= {overdue.pk, packed_late.pk}
    assert shipped.pk not in found(shipment="overdue")
    if today_evening > now:  # before 23:00 Moscow, "today" orders are not overdue yet
        # To assemble today: not assembled yet and due today (Moscow).
        assert found(shipment="today") == {due_today.pk}
    assert packed_today.pk not in found(shipment="today") and due_tomorrow.pk not in found(shipment="today")
    assert found(shipment="bogus") == set(Order.objects.values_list("pk", flat=True))  # ignored


def test_search_by_order_number_posting_article_and_srid() -> None:
    wb = make_account("wildberries")
    orders = [_order(wb, n) for n in range(12)]
    orders[3].srid = "a1b2c3d4e5.0.0"
    orders[3].save()

    assert found(q="80007-") == {orders[7].pk}  # posting / marketplace id by prefix
    assert found(q="N0011") == {orders[11].pk}  # the number the buyer sees
    assert found(q="ART-005") == {orders[5].pk}  # a seller article, exactly
    assert found(q="ART-00") == set()  # articles are exact, not prefixes (no scan of the lines)
    assert found(q="a1b2c3") == {orders[3].pk}  # WB's srid by prefix
    sql = str(OrderFilter({"q": "ART-005"}, queryset=order_list()).qs.query)
    search = sql[sql.index("IN (") :]
    assert "UNION" in search and " OR " not in search and "JOIN" not in search


def _plan(queryset: Any, *, sorted_by_index: bool) -> str:
    """The plan when table scans (and, for a sort, sort steps) are priced out: it still scans or sorts
    only if no index fits."""
    sql, params = queryset.query.sql_with_params()
    settings = ("enable_seqscan", "enable_bitmapscan", "enable_sort") if sorted_by_index else ("enable_seqscan",)
    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_each_sort_and_filter_is_answered_by_its_index() -> None:
    wb = make_account("wildberries")
    for n in range(30):
        rare = n % 10 == 0  # the filters pick a few rows, as they do in a big inbox
        _order(wb, n, buyer_total=Decimal(n * 10), shipment_due_at=BASE + timedelta(hours=n),
               buyer_city="Казань" if rare else "Москва", status=OrderStatus.NEW if rare else OrderStatus.DELIVERED)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    cases: list[tuple[dict[str, str], str | tuple[str, ...]]] = [
        ({"sort": "amount"}, "order_sort_buyer_total"),
        ({"sort": "due"}, "order_sort_due"),
        ({"city": "Казань"}, "order_city_date"),
        # The "overdue" preset: its filter and sort from the partial index of the orders still to ship, or
        # from the due date's own index filtered (the planner's pick between the two follows the table's
        # size on disk, which earlier tests' rolled-back bulk inserts leave behind): never a sort.
        ({"shipment": "overdue", "sort": "due"}, ("order_to_ship_due", "order_sort_due")),
    ]
    for params, wanted in cases:
        sort = ORDER_SORTS.pick(params.get("sort"))
        from orders.selectors import only_known

        queryset = only_known(OrderFilter(params, queryset=order_list()).qs, sort).order_by(*sort.fields)[:51]
        plan = _plan(queryset, sorted_by_index="sort" in params)
        assert any(index in plan for index in ((wanted,) if isinstance(wanted, str) else wanted)), (params, plan)
        if "sort" in params:  # the index is in the sort's order: no sort step
            assert "Sort" not in plan, (params, plan)


def test_largest_paid_first_sorts_by_buyer_total_and_says_what_it_leaves_out(client: Client) -> None:
    ozon, wb = make_account("ozon"), make_account("wildberries")
    small = _order(wb, 1, buyer_total=Decimal("100.00"), total_amount=Decimal("9000"))
    large = _order(wb, 2, buyer_total=Decimal("2500.50"), total_amount=Decimal("10"))
    unknown = _order(ozon, 3, total_amount=Decimal("99999"))  # Ozon reports no buyer payment

    response = client.get("/orders/?sort=amount")
    assert [o.pk for o in response.context["rows"]] == [large.pk, small.pk]
    assert unknown.pk not in [o.pk for o in response.context["rows"]]
    assert "заказы, по которым маркетплейс её не сообщает (Ozon), в список не попадают" in response.content.decode()


def test_rows_open_the_order_and_carry_a_checkbox_for_bulk_actions(client: Client) -> None:
    wb = make_account("wildberries")
    order = _order(wb, 1, buyer_total=Decimal("1014.99"), status=OrderStatus.DELIVERED, raw_status="sold")
    page = client.get("/orders/").content.decode()
    assert f'href="/orders/{order.pk}/"' in page
    assert f'<input type="checkbox" name="order" value="{order.pk}" form="orders-bulk"' in page
    assert "data-select-all" in page
    assert '<form id="orders-bulk" method="post" action="/orders/shipping/act/"' in page  # the bulk bar
    assert page.index('id="orders-bulk"') < page.index("<table")
    assert "1\u202f014,99\u00a0₽" in page
    assert 'title="Код маркетплейса: sold"' in page and "Доставлен" in page


def test_presets_and_saved_views(client: Client, user: Any) -> None:
    wb = make_account("wildberries")
    now = timezone.now()
    late = _order(wb, 1, status=OrderStatus.NEW, shipment_due_at=now - timedelta(hours=3))
    _order(wb, 2, status=OrderStatus.DELIVERED)
    page = client.get("/orders/").content.decode()
    assert "Собрать сегодня" in page and "Просрочено" in page
    assert 'href="?shipment=overdue&amp;sort=due"' in page
    rows = client.get("/orders/?shipment=overdue&sort=due").context["rows"]
    assert [o.pk for o in rows] == [late.pk]

    # Save the current filters (the page's cursor is not kept), then find the view among the tabs.
    response = client.post("/orders/views/", {"name": "Казань FBS", "scheme": "FBS", "city": "Казань",
                                              "after": "xyz", "sort": "oldest"})
    view = SavedOrderView.objects.get(user=user)
    assert view.query == "city=%D0%9A%D0%B0%D0%B7%D0%B0%D0%BD%D1%8C&scheme=FBS&sort=oldest"
    assert response.status_code == 302 and response["Location"] == f"/orders/?{view.query}"
    page = client.get(f"/orders/?{view.query}").content.decode()
    assert f'<a href="?{view.query.replace("&", "&amp;")}" class="active">Казань FBS</a>' in page
    # Saving under the same name replaces it.
    client.post("/orders/views/", {"name": "Казань FBS", "scheme": "FBO"})
    assert list(SavedOrderView.objects.filter(user=user).values_list("query", flat=True)) == ["scheme=FBO"]
    # Views are the user's own: another user neither sees nor deletes them.
    other = client_for(make_user(Role.ANALYST))
    assert "Казань FBS" not in other.get("/orders/").content.decode()
    assert other.post(f"/orders/views/{view.pk}/delete/").status_code == 404
    assert SavedOrderView.objects.filter(pk=view.pk).exists()
    assert client.post(f"/orders/views/{view.pk}/delete/").status_code == 302
    assert not SavedOrderView.objects.filter(pk=view.pk).exists()
    # A view needs a name; GET does not save.
    client.post("/orders/views/", {"name": "  ", "scheme": "FBS"})
    assert client.get("/orders/views/").status_code == 405
    assert not SavedOrderView.objects.exists()


def _add_orders(start: int, count: int) -> None:
    accounts = list(MarketplaceAccount.objects.order_by("pk"))
    warehouse = Warehouse.objects.get()
    orders = Order.objects.bulk_create(
        Order(account=accounts[i % 3], external_id=f"{90000 + i}", order_number=f"M{i}", scheme=Scheme.FBS,
              status=OrderStatus.NEW, ordered_at=BASE - timedelta(minutes=i), buyer_total=Decimal(i),
              shipment_due_at=BASE + timedelta(minutes=i), buyer_city="Казань",
              warehouse=warehouse if i % 3 == 1 else None)
        for i in range(start, start + count)
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=o, line_key=str(k), offer_id=f"A-{k}", quantity=1, price=Decimal("10")) for o in orders
        for k in range(2)
    )


QUERIES = [
    "", "?sort=amount", "?sort=due&shipment=overdue", "?marketplace=wildberries&scheme=FBS&status=new",
    "?city=Казань&ordered_from=2026-04-01&ordered_to=2026-05-02", "?q=A-1", "?warehouse={warehouse}",
]


@pytest.mark.parametrize("query", QUERIES)
def test_query_budget_does_not_grow_with_rows(query: str, client: Client, django_assert_max_num_queries: Any) -> None:
    accounts = [make_account("ozon"), make_account("wildberries"), make_account("yandex_market")]
    Warehouse.objects.create(account=accounts[1], external_id="w", name="Склад")
    _add_orders(0, 20)
    query = query.format(warehouse=Warehouse.objects.get().pk)
    client.post("/orders/views/", {"name": "Мой вид", "status": "new"})
    client.get("/orders/" + query)  # warm the caches (cities, warehouses)
    with django_assert_max_num_queries(15) as few:
        assert client.get("/orders/" + query).status_code == 200
    _add_orders(20, 400)
    with django_assert_max_num_queries(15) as many:
        response = client.get("/orders/" + query)
    assert len(response.context["rows"]) == 50
    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_max_num_queries(15):  # a deeper page
        assert client.get("/orders/" + response.context["page"].next_url).status_code == 200


def _sheet(response: Any) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def test_export_xlsx_and_csv_hold_the_filtered_orders(client: Client) -> None:
    ozon, wb = make_account("ozon", name="Ozon Главный"), make_account("wildberries")
    home = Warehouse.objects.create(account=ozon, external_id="w1", name="Склад Подольск")
    order = Order.objects.create(
        account=ozon, external_id="0123456789-0001-1", order_number="0123456789-0001", scheme=Scheme.FBS,
        status=OrderStatus.READY_TO_SHIP, raw_status="awaiting_deliver",
        ordered_at=datetime(2026, 3, 1, 21, 30, tzinfo=UTC),
        shipment_due_at=datetime(2026, 3, 3, 7, 0, tzinfo=UTC), warehouse=home, buyer_city="Казань",
        tracking_number="=HYPERLINK(1)", buyer_total=Decimal("1014.99"), seller_total=Decimal("1200.00"),
    )
    OrderLine.objects.create(order=order, line_key="1", offer_id="ART-1", quantity=2, price=Decimal("600.00"))
    OrderLine.objects.create(order=order, line_key="2", offer_id="ART-2", quantity=1, price=Decimal("0.00"))
    _order(wb, 1)

    response = client.get("/orders/export.xlsx?marketplace=ozon&after=whatever")
    assert response.status_code == 200 and response["Content-Disposition"].startswith('attachment; filename="orders_')
    rows = _sheet(response)
    assert rows[0][:6] == ("Заказ", "Номер для покупателя", "Маркетплейс", "Аккаунт", "Схема", "Статус")
    assert len(rows) == 2
    assert rows[1] == (
        "0123456789-0001-1", "0123456789-0001", "Ozon", "Ozon Главный", "FBS", "Готов к отгрузке",
        "awaiting_deliver", datetime(2026, 3, 2, 0, 30), datetime(2026, 3, 3, 10, 0), "Склад Подольск", "Казань",
        "'=HYPERLINK(1)", 2, 3, "ART-1, ART-2", 1014.99, 1200, "RUB",
    )
    text = b"".join(client.get("/orders/export.csv?q=0123456789").streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(lines) == 2 and lines[1][15] == "1014,99" and lines[1][7] == "02.03.2026 00:30"
    assert client.get("/orders/export.pdf").status_code == 404


def test_export_is_capped_and_the_page_says_so(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = make_account("wildberries")
    for n in range(5):
        _order(wb, n)
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 3)
    text = b"".join(client.get("/orders/export.csv").streaming_content).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 1 + 3
    page = client.get("/orders/").content.decode()
    assert "до 3 заказов; чтобы выгрузить больше, сузьте период" in page
    assert 'href="/orders/export.xlsx"' in page and 'href="/orders/export.csv"' in page
