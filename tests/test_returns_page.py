"""The returns pages (issue 13, point 4): list with filters, search and keyset pages, exports, and the
returns by reason per product aggregated in SQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from catalog.models import Product
from core.pagination import PAGE_SIZE
from core.roles import Role
from integrations.models import MarketplaceAccount
from orders.filters import ReturnFilter
from orders.models import Order, Return
from orders.returns import return_list
from tests.foundation_support import client_for, compile_translations, make_account, make_user

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
REASONS = ["Не подошёл размер", "Брак", "Не соответствует описанию"]


@pytest.fixture(scope="module", autouse=True)
def _russian_catalogue() -> None:
    compile_translations()


@pytest.fixture
def client() -> Client:
    return client_for(make_user(Role.ANALYST))


def _returns(account: MarketplaceAccount, count: int, start: int = 0) -> list[Return]:
    return Return.objects.bulk_create(
        Return(
            account=account, external_id=f"R{account.pk}-{i}", order_external_id=f"O-{account.pk}-{i}",
            offer_id=f"ART-{i % 4}", kind=[Return.Kind.RETURN, Return.Kind.UNREDEEMED][i % 2],
            quantity=1 + i % 2, reason=REASONS[i % 3], raw_status=["arrived", "on_way"][i % 2],
            amount=Decimal("100.00") * (1 + i % 5), returned_at=BASE - timedelta(hours=i // 3),
        )
        for i in range(start, start + count)
    )


def found(**params: str) -> set[int]:
    return set(ReturnFilter(params, queryset=return_list()).qs.values_list("pk", flat=True))


def test_filters_and_search() -> None:
    ozon, wb = make_account("ozon"), make_account("wildberries")
    _returns(ozon, 12)
    mine = _returns(wb, 12)

    def ids(queryset: Any) -> set[int]:
        return set(queryset.values_list("pk", flat=True))

    assert found(marketplace="wildberries") == {r.pk for r in mine}
    assert found(account=str(wb.pk), kind="unredeemed") == ids(Return.objects.filter(account=wb, kind="unredeemed"))
    assert found(status="arrived") == ids(Return.objects.filter(raw_status="arrived"))
    assert found(reason="Брак") == ids(Return.objects.filter(reason="Брак"))
    assert found(returned_from="2026-04-10", returned_to="2026-04-10") == ids(
        Return.objects.filter(returned_at__gte=datetime(2026, 4, 9, 21, tzinfo=UTC))
    )
    assert found(q=f"R{wb.pk}-1") == ids(Return.objects.filter(account=wb, external_id__startswith=f"R{wb.pk}-1"))
    assert found(q=f"O-{wb.pk}-3") == {mine[3].pk}  # the order's id
    assert found(q="ART-2") == ids(Return.objects.filter(offer_id="ART-2"))
    sql = str(ReturnFilter({"q": "ART-2"}, queryset=return_list()).qs.query)
    assert "UNION" in sql[sql.index("IN (") :] and " OR " not in sql[sql.index("IN (") :]


def test_the_list_pages_by_keyset_through_every_return(client: Client, django_assert_max_num_queries: Any) -> None:
    _returns(make_account("ozon"), 70)
    _returns(make_account("yandex_market"), 50)
    for sort, fields in [("newest", ("-returned_at", "-id")), ("amount", ("-amount", "-id"))]:
        expected = list(Return.objects.order_by(*fields).values_list("pk", flat=True))
        seen: list[int] = []
        url = f"/orders/returns/?sort={sort}"
        while True:
            with django_assert_max_num_queries(15):
                response = client.get(url)
            page = response.context["page"]
            seen += [r.pk for r in page.rows]
            assert len(page.rows) <= PAGE_SIZE
            if not page.has_next:
                break
            url = "/orders/returns/" + page.next_url
        assert seen == expected, sort
    page = client.get("/orders/returns/?marketplace=ozon&kind=return").content.decode()
    assert "Не подошёл размер" in page and "Возврат" in page and "200,00\u00a0₽" in page
    assert "Невыкуп" not in page.split("<tbody>")[1]


def test_returns_export_xlsx_and_csv(client: Client) -> None:
    wb = make_account("wildberries", name="WB Одежда")
    order = Order.objects.create(account=wb, external_id="4455", ordered_at=BASE)
    Return.objects.create(account=wb, external_id="R-1", order=order, order_external_id="4455", offer_id="ART-7",
                          kind=Return.Kind.RETURN, quantity=2, reason="=cmd|calc", raw_status="arrived",
                          amount=Decimal("1014.99"), returned_at=datetime(2026, 4, 1, 22, 0, tzinfo=UTC))
    _returns(make_account("ozon"), 3)
    response = client.get("/orders/returns/export.xlsx?marketplace=wildberries")
    rows = [tuple(r) for r in load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
            .worksheets[0].iter_rows(values_only=True)]
    assert rows[0][:3] == ("Возврат", "Дата (Москва)", "Маркетплейс")
    assert rows[1:] == [(
        "R-1", datetime(2026, 4, 2, 1, 0), "Wildberries", "WB Одежда", "Возврат", "arrived", "'=cmd|calc", "4455",
        "ART-7", 2, 1014.99, "RUB",
    )]
    text = b"".join(client.get("/orders/returns/export.csv").streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(lines) == 1 + 4  # newest first: R-1 is the oldest
    assert lines[-1][:2] == ["R-1", "02.04.2026 01:00"] and lines[-1][10] == "1014,99"


def test_returns_by_reason_per_product(client: Client, django_assert_max_num_queries: Any) -> None:
    ozon, wb = make_account("ozon"), make_account("wildberries")
    Product.objects.create(article="ART-1", name="Платье летнее")

    def add(account: MarketplaceAccount, article: str, reason: str, quantity: int, n: int) -> None:
        for k in range(n):
            Return.objects.create(account=account, external_id=f"{article}-{reason}-{account.pk}-{k}",
                                  offer_id=article, reason=reason, quantity=quantity, amount=Decimal("10.00"),
                                  returned_at=BASE)

    add(ozon, "ART-1", "Брак", 1, 3)
    add(wb, "ART-1", "Не подошёл размер", 2, 1)  # 5 units of ART-1 across marketplaces: 3 defects, 2 sizes
    add(wb, "ART-2", "Брак", 1, 2)
    add(ozon, "ART-3", "", 1, 1)
    with django_assert_max_num_queries(15):
        response = client.get("/orders/returns/reasons/")
    products = response.context["products"]
    assert [(p.offer_id, p.returns, p.units, p.amount) for p in products] == [
        ("ART-1", 4, 5, Decimal("40.00")), ("ART-2", 2, 2, Decimal("20.00")), ("ART-3", 1, 1, Decimal("10.00")),
    ]
    assert [(r["reason"], r["units"], r["share"]) for r in products[0].reasons] == [
        ("Брак", 3, 60), ("Не подошёл размер", 2, 40),
    ]
    page = response.content.decode()
    assert "Платье летнее" in page and "не указана" in page and "(60%)" in page
    # Under the list's filters: the Wildberries returns only.
    products = client.get("/orders/returns/reasons/?marketplace=wildberries").context["products"]
    assert [(p.offer_id, p.units) for p in products] == [("ART-2", 2), ("ART-1", 2)]  # equal units: more returns first
