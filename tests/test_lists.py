"""The list pages' pattern: keyset pages walk every row once, filters and search, indexes, query budgets."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.filters import ListingFilter
from catalog.models import Listing, Product
from catalog.selectors import LISTING_SORTS, listing_list
from core.pagination import PAGE_SIZE, ApproximateCount, Sort, Sorts, approximate_count
from core.roles import Role
from integrations.models import MarketplaceAccount
from orders.filters import OrderFilter
from orders.models import Order, OrderLine, OrderStatus, Scheme
from orders.selectors import ORDER_SORTS, order_list
from pricing.models import Price
from reviews.models import Review
from reviews.selectors import REVIEW_SORTS
from tests.foundation_support import client_for, compile_translations, make_account, make_user

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def _russian_catalogue() -> None:
    compile_translations()


@pytest.fixture
def client() -> Client:
    return client_for(make_user(Role.ANALYST))


def _orders(accounts: list[MarketplaceAccount], count: int) -> list[Order]:
    """Orders with many equal dates and amounts, so the id tie-breaker matters."""
    statuses = [OrderStatus.NEW, OrderStatus.DELIVERED, OrderStatus.CANCELLED]
    schemes = [Scheme.FBS, Scheme.FBO]
    return Order.objects.bulk_create(
        Order(
            account=accounts[i % len(accounts)],
            external_id=f"{70000 + i}-0001",
            order_number=f"N{i:04d}",
            ordered_at=BASE - timedelta(hours=i // 7),
            status=statuses[i % 3],
            scheme=schemes[i % 2],
            total_amount=Decimal(100 * (i % 5)),
            # The "largest paid first" and "deadline first" sorts list the orders where these are known.
            buyer_total=Decimal(100 * (i % 5)),
            shipment_due_at=BASE + timedelta(hours=i // 5),
        )
        for i in range(count)
    )


def _listings(accounts: list[MarketplaceAccount], count: int, *, priced: Callable[[int], bool] = bool) -> list[Listing]:
    listings = Listing.objects.bulk_create(
        Listing(
            account=accounts[i % len(accounts)],
            external_id=f"{500000 + i}",
            offer_id=f"ART-{i % 40:03d}",  # articles repeat across accounts
            marketplace_sku=f"{900000 + i}",
            title=["Платье летнее", "Кроссовки беговые", "Рюкзак"][i % 3],
            barcodes=[f"4600000{i:06d}"],
        )
        for i in range(count)
    )
    Price.objects.bulk_create(Price(listing=x, price=Decimal("10.00")) for i, x in enumerate(listings) if priced(i))
    return listings


def _reviews(account: MarketplaceAccount, count: int) -> list[Review]:
    return Review.objects.bulk_create(
        Review(
            account=account,
            external_id=f"r{i}",
            rating=1 + i % 5,
            published_at=BASE - timedelta(days=i // 6),
            is_answered=i % 3 == 0,
        )
        for i in range(count)
    )


def _walk(client: Client, path: str) -> tuple[list[int], Any]:
    """All rows, following the "next" links from the first page; also the last page."""
    seen: list[int] = []
    url = path
    while True:
        page = client.get(url).context["page"]
        assert 0 < len(page.rows) <= PAGE_SIZE
        seen += [row.pk for row in page.rows]
        if not page.has_next:
            return seen, page
        url = path.split("?")[0] + page.next_url


def _walk_back(client: Client, path: str, last: Any) -> list[int]:
    """All rows, following the "previous" links from the last page."""
    seen = [row.pk for row in last.rows]
    page = last
    while page.has_previous:
        page = client.get(path.split("?")[0] + page.previous_url).context["page"]
        seen = [row.pk for row in page.rows] + seen
    return seen


def _expected(queryset: Any, sort: Sort) -> list[int]:
    return list(queryset.order_by(*sort.fields).values_list("pk", flat=True))


def _check_walks(client: Client, path: str, queryset: Any, sorts: Sorts, query: str = "") -> None:
    for sort in sorts.options:
        url = f"{path}?sort={sort.key}{query}"
        expected = _expected(queryset, sort)
        forward, last = _walk(client, url)
        assert forward == expected, sort.key  # every row once, in order: no gap, no duplicate
        assert _walk_back(client, url, last) == expected, sort.key


def test_orders_keyset_walks_every_order_once_both_ways(client: Client) -> None:
    accounts = [make_account("ozon"), make_account("wildberries")]
    _orders(accounts, 130)
    _check_walks(client, "/orders/", Order.objects.all(), ORDER_SORTS)
    # With a filter too: the links keep it.
    _check_walks(client, "/orders/", Order.objects.filter(status=OrderStatus.NEW), ORDER_SORTS, "&status=new")


def test_catalog_and_prices_keyset_walk(client: Client) -> None:
    _listings([make_account("ozon"), make_account("yandex_market")], 125, priced=lambda i: i % 4 != 0)
    _check_walks(client, "/catalog/", Listing.objects.all(), LISTING_SORTS)
    _check_walks(client, "/prices/", Listing.objects.filter(price__isnull=False), LISTING_SORTS)


def test_reviews_keyset_walk_with_a_mixed_direction_sort(client: Client) -> None:
    _reviews(make_account("ozon"), 140)
    # Unanswered first (ascending), then newest first (descending): the pages cross the group boundary.
    _check_walks(client, "/reviews/", Review.objects.all(), REVIEW_SORTS)
    _check_walks(client, "/reviews/", Review.objects.filter(rating=5), REVIEW_SORTS, "&rating=5")


def test_a_malformed_cursor_or_sort_shows_the_first_page(client: Client) -> None:
    _orders([make_account("ozon")], 60)
    first = [o.pk for o in client.get("/orders/").context["page"].rows]
    for query in ["after=garbage", "before=W10", "after=WyJ4IiwgIjEiXQ", "sort=account__name"]:
        response = client.get(f"/orders/?{query}")
        assert response.status_code == 200
        assert [o.pk for o in response.context["page"].rows] == first, query


def test_a_sort_must_be_indexed_columns_of_the_table_ending_with_the_id() -> None:
    with pytest.raises(ValueError, match="not a column"):
        Sorts(Listing, [Sort("x", "x", ("account__name", "id"))])
    with pytest.raises(ValueError, match="primary key"):
        Sorts(Listing, [Sort("x", "x", ("offer_id",))])
    with pytest.raises(ValueError, match="NOT NULL"):
        Sorts(Listing, [Sort("x", "x", ("missing_since", "id"))])


def test_count_is_exact_when_small_and_estimated_when_large() -> None:
    _orders([make_account("ozon")], 30)
    exact = approximate_count(Order.objects.all(), exact_limit=50)
    assert (exact.value, exact.exact) == (30, True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    estimated = approximate_count(Order.objects.all(), exact_limit=10)
    assert (estimated.value, estimated.exact, estimated.at_least) == (30, False, False)  # reltuples: "about 30"
    # Two filters matching the same 10 rows: the planner multiplies their selectivities (about 3) while the
    # capped count saw more than 5, so the page says "more than 5", not a wrong "about 3".
    rare_guess = Order.objects.filter(external_id__startswith="7000", order_number__startswith="N000")
    assert approximate_count(rare_guess, exact_limit=5) == ApproximateCount(5, exact=False, at_least=True)


def test_orders_page_says_how_many_and_computes_line_totals_for_the_page_only(client: Client) -> None:
    account = make_account("ozon")
    orders = _orders([account], 80)
    shown = orders[0]  # the newest
    OrderLine.objects.bulk_create(
        OrderLine(order=shown, line_key=str(n), offer_id="A", quantity=n, price=Decimal("10.00")) for n in (1, 2, 3)
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=o, line_key="x", offer_id="A", quantity=1, price=Decimal("1.00")) for o in orders
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/orders/")
    row = next(o for o in response.context["rows"] if o.pk == shown.pk)
    assert (row.line_totals.lines, row.line_totals.units, row.line_totals.amount) == (4, 7, Decimal("61.00"))
    # Only the line totals (the header's cached counts may be refreshed by this request too).
    grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"] and "orders_orderline" in q["sql"]]
    assert len(grouped) == 1 and '"orders_orderline"."order_id" IN (' in grouped[0]
    ids = re.search(r'"order_id" IN \(([^)]*)\)', grouped[0])
    assert ids and len(ids.group(1).split(",")) == PAGE_SIZE  # the 50 orders shown, not all 80
    assert "Найдено: 80" in response.content.decode()


def test_order_filters_and_search(client: Client) -> None:
    ozon, wb = make_account("ozon"), make_account("wildberries")
    _orders([ozon, wb], 40)
    late_evening = datetime(2026, 6, 1, 21, 30, tzinfo=UTC)
    late = Order.objects.create(
        account=wb, external_id="99887766-0001-1", order_number="WB-5555", ordered_at=late_evening
    )

    def found(**params: str) -> set[int]:
        return set(OrderFilter(params, queryset=order_list()).qs.values_list("pk", flat=True))

    assert found(q="99887766") == {late.pk}  # the marketplace's id by prefix
    assert found(q="WB-55") == {late.pk}  # or the order number
    assert found(q="887766") == set()  # not a substring: that would need a scan
    # 21:30 UTC on 1 June is 2 June in Moscow: the date filters are Moscow days.
    assert found(ordered_from="2026-06-02", ordered_to="2026-06-02") == {late.pk}
    assert late.pk not in found(ordered_to="2026-06-01")
    assert found(marketplace="ozon") == set(Order.objects.filter(account=ozon).values_list("pk", flat=True))
    assert found(account=str(wb.pk), status="cancelled", scheme="FBO") == set(
        Order.objects.filter(account=wb, status="cancelled", scheme="FBO").values_list("pk", flat=True)
    )
    assert found(status="bogus", ordered_from="not a date") == set(Order.objects.values_list("pk", flat=True))
    page = client.get("/orders/?q=WB-5555").content.decode()
    assert "WB-5555" in page and 'value="WB-5555"' in page


def test_catalog_search_by_article_barcode_title_and_marketplace_ids(client: Client) -> None:
    ozon = make_account("ozon")
    listings = _listings([ozon], 12)
    product = Product.objects.create(article="MASTER-77", name="Мастер")
    linked = listings[5]
    linked.product = product
    linked.save()

    def found(term: str) -> set[int]:
        return set(ListingFilter({"q": term}, queryset=listing_list()).qs.values_list("pk", flat=True))

    by_article = {x.pk for x in listings if x.offer_id == "ART-003"}
    assert found("art-003") == by_article  # article: case-insensitive prefix
    assert found("ART-00") == {x.pk for x in listings if x.offer_id.startswith("ART-00")}
    assert found(listings[2].external_id) == {listings[2].pk}  # the marketplace's card id, exactly
    assert found(listings[3].marketplace_sku) == {listings[3].pk}  # its sku
    assert found(listings[4].barcodes[0]) == {listings[4].pk}  # a barcode, exactly
    assert found("master-7") == {linked.pk}  # the linked product's article
    assert found("ЛЕТНЕЕ") == {x.pk for x in listings if "летнее" in x.title}  # title substring, any case
    assert found(listings[2].external_id[:-1]) == set()  # ids are exact, not prefixes
    assert found("%") == set() and found("_") == set()  # LIKE wildcards are literal
    response = client.get("/catalog/?q=летнее&marketplace=ozon")
    assert {x.pk for x in response.context["rows"]} == found("летнее")


def test_catalog_search_is_a_union_of_single_table_subqueries() -> None:
    sql = str(ListingFilter({"q": "платье"}, queryset=listing_list()).qs.query)
    search = sql[sql.index("IN (") :]
    assert "UNION" in search
    assert " OR " not in search  # no OR across the product join: each branch is its own index scan
    assert "JOIN" not in search


# At a size where the planner prefers indexes to scans (a few thousand rows is not enough to be sure).
def _bulk_rows(listings: int, orders: int) -> None:
    account = make_account("ozon")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO catalog_listing (external_id, offer_id, marketplace_sku, link_source, title, description,
                brand, category, barcodes, attributes, images, variants, status, marketplace_errors, archived,
                created_at, updated_at, account_id)
            SELECT (100000000 + g)::text, 'ART-' || lpad(g::text, 6, '0'), (200000000 + g)::text, '',
                'Карточка ' || g
                    || (ARRAY[' платье летнее', ' кроссовки', ' рюкзак', ' чайник', ' кабель'])[1 + g %% 5],
                '', '', '', ARRAY['46' || lpad(g::text, 11, '0')], '[]', '[]', '[]', '', '[]', false, now(), now(), %s
            FROM generate_series(1, %s) g
            """,
            [account.pk, listings],
        )
        cursor.execute(
            """
            INSERT INTO orders_order (external_id, order_number, scheme, status, raw_status, raw_substatus,
                ordered_at, buyer_city, tracking_number, total_amount, currency, created_at, updated_at, account_id,
                srid)
            SELECT g::text || '-0001', '', (ARRAY['FBO','FBS','DBS'])[1 + g %% 3],
                (ARRAY['delivered','delivered','new','cancelled'])[1 + g %% 4], '', '',
                now() - g * interval '1 minute', '', '', g %% 5000, 'RUB', now(), now(), %s, ''
            FROM generate_series(1, %s) g
            """,
            [account.pk, orders],
        )
        # A bulk insert leaves the trigram entries in the GIN pending list, which the planner prices as a
        # scan of its own (autovacuum would merge it; it may be off): merge it, as a production table has.
        cursor.execute("SELECT gin_clean_pending_list('listing_title_trgm'::regclass)")
        cursor.execute("ANALYZE catalog_listing")
        cursor.execute("ANALYZE orders_order")


def _plan(queryset: Any) -> str:
    return str(queryset.explain())


def test_searches_and_pages_are_answered_from_indexes() -> None:
    _bulk_rows(listings=30000, orders=30000)

    def listing_search(term: str) -> str:
        """The plan of the search's branches: each one an index scan, none a scan of the listings.
        (Whether the outer query then joins the few ids by the primary key or by a hash is the planner's
        choice by table size.)"""
        plan = _plan(ListingFilter({"q": term}, queryset=listing_list()).qs.order_by("offer_id", "id")[:51])
        assert not re.search(r"Seq Scan on catalog_(listing|product) u0", plan), plan
        return plan

    assert "listing_title_trgm" in listing_search("платье")
    assert "listing_offer_prefix" in listing_search("ART-0123")
    plan = listing_search("100000042")
    assert "listing_external_id" in plan and "listing_sku" in plan and "listing_barcodes_gin" in plan

    plan = _plan(OrderFilter({"q": "12345"}, queryset=order_list()).qs)
    assert "order_external_id_prefix" in plan and "Seq Scan on orders_order" not in plan, plan

    # The page's own query: a range of the sort's index, no sort of the whole table.
    plan = _plan(order_list().order_by("-ordered_at", "-id")[:51])
    assert "order_sort_date" in plan and "Sort" not in plan.split("Index")[0], plan
    plan = _plan(OrderFilter({"status": "new"}, queryset=order_list()).qs.order_by("-ordered_at", "-id")[:51])
    # order_status_date, or the date index filtered when the status is common: either way no sort.
    assert re.search(r"Index Scan.* using order_(status|sort)_date", plan), plan
    assert "Sort" not in plan.split("Index")[0], plan
    plan = _plan(listing_list().order_by("offer_id", "id")[:51])
    assert "listing_sort_article" in plan and "Sort" not in plan.split("Index")[0], plan


PAGES = ["/catalog/", "/orders/", "/prices/", "/reviews/"]


@pytest.mark.parametrize("path", PAGES)
def test_query_budget_at_the_first_and_a_deep_page(
    path: str, client: Client, django_assert_max_num_queries: Any
) -> None:
    accounts = [make_account("ozon"), make_account("wildberries"), make_account("yandex_market")]
    orders = _orders(accounts, 160)
    OrderLine.objects.bulk_create(
        OrderLine(order=o, line_key="1", offer_id="A", quantity=1, price=Decimal("1.00")) for o in orders
    )
    _listings(accounts, 160)
    _reviews(accounts[0], 160)
    url = path
    for _ in range(3):  # pages 1, 2 and 3
        with django_assert_max_num_queries(15):
            response = client.get(url)
        assert response.status_code == 200
        page = response.context["page"]
        assert len(page.rows) == PAGE_SIZE
        url = path + page.next_url
    with django_assert_max_num_queries(15):
        assert client.get(path + "?q=ART-01&marketplace=ozon&sort=title").status_code == 200
