"""The Django admin over big tables: bounded counts, no DISTINCT scans or drill-downs, indexed search,
synced fields read-only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import FeeLine, FinanceOperation
from catalog.models import Listing, Product, StockLevel, Warehouse
from core.admin import LargeTableAdmin, SyncedAdmin
from core.pagination import EstimatedCountPaginator
from core.roles import Role
from integrations.models import OutboxChange
from orders.models import Order, OrderLine, OrderStatus, OrderStatusChange, Return
from pricing.models import Price
from reviews.models import Question, Review
from tests.foundation_support import client_for, make_account, make_listing, make_order, make_review, make_user
from tests.test_lists import _bulk_rows

pytestmark = pytest.mark.django_db

BIG = [Order, OrderLine, OrderStatusChange, FinanceOperation, FeeLine, Listing, Product, StockLevel, Price, Review,
       Question]
INDEXED_SEARCH = ("^", "__exact", "__startswith")


def _url(model: Any) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


def _seed() -> None:
    account = make_account("ozon")
    warehouse = Warehouse.objects.create(account=account, external_id="w1", name="Склад")
    for n in range(30):
        listing = make_listing(account)
        order = make_order(account)
        OrderLine.objects.create(order=order, line_key="2", listing=listing, offer_id=listing.offer_id,
                                 price=Decimal("10.00"))
        OrderStatusChange.objects.create(order=order, to_status="new", changed_at=timezone.now())
        StockLevel.objects.create(listing=listing, warehouse=warehouse, present=n)
        operation = FinanceOperation.objects.create(account=account, external_id=f"op{n}", operation_type="sale",
                                                    operation_at=timezone.now(), amount=Decimal("9.00"))
        FeeLine.objects.create(operation=operation, kind="commission", name="Комиссия", amount=Decimal("-1.00"))
        make_review(account)


def test_big_tables_use_the_large_table_admin() -> None:
    for model in BIG:
        model_admin = admin.site._registry[model]
        assert isinstance(model_admin, LargeTableAdmin), model
        assert model_admin.show_full_result_count is False, model
        assert model_admin.date_hierarchy is None, model
        assert model_admin.paginator is EstimatedCountPaginator, model
        for field in model_admin.search_fields:
            assert field.startswith("^") or field.endswith(INDEXED_SEARCH[1:]), (model, field)


@pytest.mark.parametrize("model", BIG, ids=lambda m: m.__name__)
def test_changelist_counts_are_bounded_and_filters_scan_nothing(model: Any, django_assert_max_num_queries: Any) -> None:
    _seed()
    client = client_for(make_user(Role.ADMIN))
    table = model._meta.db_table
    for query in ["", "?q=PRL-00001", "?q=1"]:
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(12):
            response = client.get(_url(model) + query)
        assert response.status_code == 200
        for sql in (q["sql"] for q in queries.captured_queries):
            assert not (sql.startswith("SELECT DISTINCT") and f'FROM "{table}"' in sql), sql  # no facet scans
            if "COUNT(*)" in sql and f'"{table}"' in sql:
                assert "LIMIT" in sql, sql  # a capped count, never COUNT(*) of the whole table


def test_changelist_of_many_orders_estimates_and_searches_by_index() -> None:
    _bulk_rows(listings=20000, orders=30000)
    client = client_for(make_user(Role.ADMIN))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(Order) + "?q=12345-0001")
    assert response.status_code == 200
    assert [row.external_id for row in response.context["cl"].result_list] == ["12345-0001"]
    sqls = [q["sql"] for q in queries.captured_queries]
    search = next(sql for sql in sqls if "LIKE '12345-0001%'" in sql and "LIMIT" in sql)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + search)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on orders_order" not in plan, plan
    page = client.get(_url(Order)).context["cl"]
    assert page.full_result_count is None  # no second, unfiltered count
    assert page.result_count > 10_000  # the planner's estimate, not a count of every row


def test_synced_fields_are_read_only_and_local_ones_editable() -> None:
    account = make_account("ozon")
    listing = make_listing(account)
    order = make_order(account, status=OrderStatus.NEW)
    client = client_for(make_user(Role.ADMIN))
    page = client.get(f"{_url(Order)}{order.pk}/change/").content.decode()
    assert 'name="status"' not in page and 'name="external_id"' not in page
    client.post(f"{_url(Order)}{order.pk}/change/", {"status": OrderStatus.CANCELLED})
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW
    page = client.get(f"{_url(Listing)}{listing.pk}/change/").content.decode()
    assert 'name="product"' in page and 'name="offer_id"' not in page and 'name="title"' not in page
    assert isinstance(admin.site._registry[Listing], SyncedAdmin)
    assert client.get(f"{_url(Order)}add/").status_code == 403  # synced rows are never added by hand


def test_synced_lists_offer_no_bulk_delete_of_what_the_sync_owns() -> None:
    account = make_account("ozon")
    order = make_order(account)
    OrderLine.objects.create(order=order, line_key="bulk", offer_id="A-1", price=Decimal("10.00"))
    OutboxChange.objects.create(account=account, kind=OutboxChange.Kind.PRICE, target_key="A-1", payload={})
    client = client_for(make_user(Role.ADMIN))
    page = client.get(_url(OrderLine)).content.decode()
    assert "A-1" in page
    assert 'name="_selected_action"' not in page and "delete_selected" not in page
    # A list the sync does not own keeps its actions (the outbox's retry).
    assert 'name="_selected_action"' in client.get(_url(OutboxChange)).content.decode()


def test_kept_totals_are_listed_and_never_edited_by_hand() -> None:
    from orders.models import ReturnArticleTotal

    account = make_account("ozon")
    Return.objects.create(account=account, external_id="r1", offer_id="RET-1", quantity=2, returned_at=timezone.now())
    client = client_for(make_user(Role.ADMIN))
    page = client.get(_url(ReturnArticleTotal)).content.decode()
    assert "RET-1" in page  # kept by the triggers on the returns
    assert client.get(f"{_url(ReturnArticleTotal)}add/").status_code == 403
    assert client.post(f"{_url(ReturnArticleTotal)}RET-1/delete/", {"post": "yes"}).status_code == 403
    assert ReturnArticleTotal.objects.get(offer_id="RET-1").units == 2
