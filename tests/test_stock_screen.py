"""The stock screen: rows per card, warehouse and size, its filters and flags, the inline FBS stock edit
pushed through the outbox with a result that updates itself, and the roles."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from catalog.models import Listing, StockLevel, Warehouse
from core.models import AuditEvent
from core.pagination import PAGE_SIZE
from core.roles import Role
from integrations.models import OutboxChange
from tests.foundation_support import client_for, compile_translations, make_account, make_user
from tests.stock_support import make_stock_world

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(scope="module", autouse=True)
def _russian() -> None:
    compile_translations()


@pytest.fixture
def manager() -> Client:
    return client_for(make_user(Role.MANAGER))


@pytest.fixture
def analyst() -> Client:
    return client_for(make_user(Role.ANALYST))


def _rows(client: Client, query: str = "") -> list[Any]:
    response = client.get(f"/catalog/stock/{query}")
    assert response.status_code == 200
    return response.context["rows"]


def _keys(rows: list[Any]) -> set[tuple[str, str, str]]:
    return {(line.listing.offer_id, line.warehouse.external_id, line.size) for line in rows}


def test_rows_per_card_warehouse_and_size_with_low_and_out_flags(manager: Client) -> None:
    make_stock_world()
    rows = _rows(manager)
    assert _keys(rows) == {
        ("DRESS-1", "1001", "S"), ("DRESS-1", "1001", "M"), ("DRESS-1", "1001", "L"),
        ("DRESS-1", "507", "M"), ("MUG-1", "22", ""),
    }
    by_key = {(r.listing.offer_id, r.warehouse.external_id, r.size): r for r in rows}
    # available = on hand - reserved; low at or below the threshold (5 by default), out at zero
    medium = by_key[("DRESS-1", "1001", "M")]
    assert (medium.available, medium.low, medium.out) == (2, True, False)
    assert by_key[("DRESS-1", "1001", "L")].out
    assert by_key[("MUG-1", "22", "")].out  # all of it reserved
    assert not by_key[("DRESS-1", "1001", "S")].low
    html = manager.get("/catalog/stock/").content.decode()
    assert "нет в наличии" in html and "мало" in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?kind=marketplace", {("DRESS-1", "507", "M")}),
        ("?kind=seller&marketplace=ozon", {("MUG-1", "22", "")}),
        ("?state=out", {("DRESS-1", "1001", "L"), ("MUG-1", "22", "")}),
        ("?state=low", {("DRESS-1", "1001", "M")}),
        ("?state=low&threshold=10", {("DRESS-1", "1001", "M"), ("DRESS-1", "1001", "S")}),
        ("?q=mug", {("MUG-1", "22", "")}),
        ("?q=4601111111111&kind=seller",
         {("DRESS-1", "1001", "S"), ("DRESS-1", "1001", "M"), ("DRESS-1", "1001", "L")}),
    ],
)
def test_filters_and_search(manager: Client, query: str, expected: set[tuple[str, str, str]]) -> None:
    make_stock_world()
    assert _keys(_rows(manager, query)) == expected


def test_warehouse_and_account_filters(manager: Client) -> None:
    world = make_stock_world()
    assert _keys(_rows(manager, f"?warehouse={world.wb_fbo.pk}")) == {("DRESS-1", "507", "M")}
    assert {r.listing.offer_id for r in _rows(manager, f"?account={world.ozon.pk}")} == {"MUG-1"}


def test_query_budget_is_flat_whatever_the_rows(manager: Client, django_assert_max_num_queries: Any) -> None:
    world = make_stock_world()
    account = make_account("ozon")
    warehouse = Warehouse.objects.create(account=account, external_id="w", name="Склад")
    listings = Listing.objects.bulk_create(
        Listing(account=account, external_id=str(n), offer_id=f"ART-{n:03d}") for n in range(150)
    )
    levels = StockLevel.objects.bulk_create(StockLevel(listing=x, warehouse=warehouse, present=7) for x in listings)
    manager.post(f"/catalog/stock/{levels[0].pk}/set/", {"quantity": "9"}, **HTMX)
    manager.post(f"/catalog/stock/{world.levels['dress_own_M'].pk}/set/", {"quantity": "4"}, **HTMX)
    url, seen = "/catalog/stock/", []
    for _ in range(4):
        with django_assert_max_num_queries(15):
            response = manager.get(url)
        page = response.context["page"]
        assert len(page.rows) == (PAGE_SIZE if page.has_next else 5)
        seen += [level.pk for level in page.rows]
        url = "/catalog/stock/" + page.next_url
    # The keyset walk meets every row once, in the card order
    assert seen == list(StockLevel.objects.order_by("listing_id", "warehouse_id", "variant_id", "id")
                        .values_list("pk", flat=True))
    with django_assert_max_num_queries(15):
        assert manager.get("/catalog/stock/?q=ART-01&kind=seller&state=low&threshold=10").status_code == 200


def test_a_manager_sets_fbs_stock_for_one_size_and_sees_the_result_update(manager: Client) -> None:
    world = make_stock_world()
    medium = world.levels["dress_own_M"]
    response = manager.post(f"/catalog/stock/{medium.pk}/set/", {"quantity": "12"}, **HTMX)
    assert response.status_code == 200
    change = OutboxChange.objects.get()
    assert (change.kind, change.status) == (OutboxChange.Kind.STOCK, OutboxChange.Status.PENDING)
    assert change.payload["quantity"] == 12 and change.payload["variant_id"] == "222"
    assert change.payload["warehouse_external_id"] == "1001" and change.previous == {"quantity": 3}
    html = response.content.decode()
    assert "В очереди" in html and f'hx-get="/catalog/stock/changes/{change.pk}/"' in html  # asks again

    OutboxChange.objects.filter(pk=change.pk).update(status=OutboxChange.Status.APPLIED)
    html = manager.get(f"/catalog/stock/changes/{change.pk}/", **HTMX).content.decode()
    assert "Применено" in html and "hx-get" not in html  # final: stops asking
    # The list shows the row's latest change too
    line = next(r for r in _rows(manager) if r.level.pk == medium.pk)
    assert line.change.pk == change.pk


def test_a_rejected_change_shows_the_marketplace_message_and_a_failed_one_can_be_sent_again(manager: Client) -> None:
    world = make_stock_world()
    level = world.levels["dress_own_S"]
    manager.post(f"/catalog/stock/{level.pk}/set/", {"quantity": "5"}, **HTMX)
    change = OutboxChange.objects.get()
    OutboxChange.objects.filter(pk=change.pk).update(
        status=OutboxChange.Status.REJECTED, error_message="Остаток не может превышать 100000"
    )
    html = manager.get(f"/catalog/stock/changes/{change.pk}/").content.decode()
    assert "Отклонено маркетплейсом" in html and "Остаток не может превышать 100000" in html

    OutboxChange.objects.filter(pk=change.pk).update(status=OutboxChange.Status.FAILED, error_message="HTTP 503")
    html = manager.get(f"/catalog/stock/changes/{change.pk}/").content.decode()
    assert "Отправить снова" in html
    html = manager.post(f"/catalog/stock/changes/{change.pk}/retry/", **HTMX).content.decode()
    assert OutboxChange.objects.get(pk=change.pk).status == OutboxChange.Status.PENDING
    assert "В очереди" in html
    assert AuditEvent.objects.filter(action="outbox.retry").count() == 1


def test_marketplace_warehouses_are_read_only_and_say_why(manager: Client) -> None:
    world = make_stock_world()
    fbo = world.levels["dress_fbo_M"]
    html = manager.get("/catalog/stock/?kind=marketplace").content.decode()
    assert f'action="/catalog/stock/{fbo.pk}/set/"' not in html
    assert "ведёт маркетплейс" in html and "склад маркетплейса (FBO)" in html
    response = manager.post(f"/catalog/stock/{fbo.pk}/set/", {"quantity": "1"}, **HTMX)
    assert "Не отправлено" in response.content.decode()
    assert not OutboxChange.objects.exists()


def test_a_bad_quantity_is_refused_with_a_message(manager: Client) -> None:
    world = make_stock_world()
    response = manager.post(f"/catalog/stock/{world.levels['dress_own_S'].pk}/set/", {"quantity": "-3"}, **HTMX)
    assert "Не отправлено" in response.content.decode()
    assert not OutboxChange.objects.exists()


def test_an_analyst_sees_no_edit_controls_and_is_refused_writes(analyst: Client) -> None:
    world = make_stock_world()
    html = analyst.get("/catalog/stock/").content.decode()
    assert 'name="quantity"' not in html and "/catalog/import/" not in html
    assert "/catalog/export/stock.xlsx" in html  # analysts export
    level = world.levels["dress_own_M"]
    assert analyst.post(f"/catalog/stock/{level.pk}/set/", {"quantity": "12"}, **HTMX).status_code == 403
    assert analyst.get("/catalog/import/").status_code == 403
    assert analyst.post("/catalog/import/confirm/", {"token": "x"}).status_code == 403
    assert not OutboxChange.objects.exists()
