"""The web shell: language, empty states, the pages' content, query budgets, the Django admin."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.selectors import sales_by_day
from core.roles import Role
from dashboard.selectors import OVERVIEW_COUNTS_KEY, overview_summary
from integrations.models import MarketplaceAccount, SyncRun
from orders.models import OrderStatus, Scheme
from tests.foundation_support import (
    client_for,
    compile_translations,
    make_account,
    make_listing,
    make_order,
    make_review,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def _russian_catalogue() -> None:
    compile_translations()


def test_compile_translations_writes_the_mo_file() -> None:
    mo = Path(settings.LOCALE_PATHS[0]) / "ru" / "LC_MESSAGES" / "django.mo"
    assert mo.exists() and mo.stat().st_size > 1000


def test_russian_by_default_and_the_language_switcher() -> None:
    client = client_for(make_user(Role.MANAGER))
    page = client.get("/").content.decode()
    assert '<html lang="ru">' in page
    for label in ["Обзор", "Каталог", "Заказы", "Цены", "Отзывы", "Аналитика"]:
        assert label in page
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/orders/"})
    assert response.status_code == 302 and response["Location"] == "/orders/"
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page and "Overview" in page and "Обзор" not in page


class TestEmptyStates:
    def test_admin_is_asked_to_connect_an_account_with_a_link(self) -> None:
        page = client_for(make_user(Role.ADMIN)).get("/").content.decode()
        assert "Подключите аккаунт маркетплейса" in page
        assert 'href="/settings/accounts/new/"' in page

    def test_others_are_told_whom_to_ask(self) -> None:
        for path in ["/", "/catalog/", "/orders/", "/prices/", "/reviews/", "/analytics/"]:
            page = client_for(make_user(Role.MANAGER)).get(path).content.decode()
            assert "Подключите аккаунт маркетплейса" in page, path
            assert "Попросите администратора" in page, path
            assert "/settings/accounts/new/" not in page, path

    def test_filters_without_matches_say_so(self) -> None:
        make_order(make_account("ozon"))
        page = client_for(make_user(Role.MANAGER)).get("/orders/?status=delivered").content.decode()
        assert "Заказов с такими фильтрами нет" in page


def test_overview_counts_per_marketplace() -> None:
    cache.delete(OVERVIEW_COUNTS_KEY)  # listings and reviews are counted once a minute
    ozon, wb = make_account("ozon", name="Oz"), make_account("wildberries", name="Wb")
    for _ in range(3):
        make_listing(ozon)
    make_listing(wb)
    now = timezone.now()
    make_order(ozon, ordered_at=now)
    make_order(ozon, ordered_at=now)
    # 23:30 yesterday in Moscow is not "today", although it is the same UTC date for part of the night.
    moscow_midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    make_order(wb, ordered_at=moscow_midnight - timedelta(minutes=30))
    make_order(wb, ordered_at=moscow_midnight + timedelta(minutes=1))
    make_review(ozon, answered=False)
    make_review(ozon, answered=True)
    SyncRun.objects.create(account=ozon, stream="orders", status="succeeded", finished_at=now)
    ozon.last_success_at = now
    ozon.save()

    summaries = {s.marketplace: s for s in overview_summary(now)}
    assert set(summaries) == {"ozon", "wildberries"}
    assert (summaries["ozon"].listings, summaries["ozon"].orders_today, summaries["ozon"].unanswered_reviews) == (
        3,
        2,
        1,
    )
    assert (summaries["wildberries"].listings, summaries["wildberries"].orders_today) == (1, 1)
    assert summaries["ozon"].accounts[0].health == "ok"  # type: ignore[attr-defined]
    assert summaries["wildberries"].accounts[0].health == "pending"  # type: ignore[attr-defined]

    page = client_for(make_user(Role.ANALYST)).get("/").content.decode()
    assert "Заказы сегодня" in page and "Отзывы без ответа" in page
    assert timezone.localtime(now).strftime("%d.%m.%Y %H:%M") in page  # last sync, Moscow time


def test_orders_filters_pagination_and_moscow_time() -> None:
    ozon, ym = make_account("ozon"), make_account("yandex_market")
    make_order(ozon, ordered_at=datetime(2026, 1, 1, 21, 30, tzinfo=UTC), status=OrderStatus.DELIVERED)
    make_order(ozon, status=OrderStatus.NEW, scheme=Scheme.FBO)
    for _ in range(55):
        make_order(ym, status=OrderStatus.NEW, scheme=Scheme.DBS)
    client = client_for(make_user(Role.ANALYST))

    def rows(query: str) -> list[object]:
        return list(client.get(f"/orders/?{query}").context["rows"])

    def total(query: str) -> int:
        return int(client.get(f"/orders/?{query}").context["page"].count)

    assert len(rows("marketplace=ozon")) == 2
    assert len(rows("marketplace=ozon&status=delivered")) == 1
    assert len(rows("scheme=FBO")) == 1
    first = client.get("/orders/?marketplace=yandex_market&scheme=DBS").context["page"]
    assert len(first.rows) == 50  # one page
    assert first.next_url.startswith("?marketplace=yandex_market&scheme=DBS&after=")  # keeps the filters
    assert len(rows(first.next_url[1:])) == 5
    assert total("status=bogus") == 57  # unknown filter values are ignored
    page = client.get("/orders/?marketplace=yandex_market").content.decode()
    assert "?marketplace=yandex_market&amp;after=" in page and "Найдено: 55" in page
    page = client.get("/orders/?status=delivered").content.decode()
    assert "02.01.2026 00:30" in page  # 21:30 UTC is 00:30 next day in Moscow
    assert "Доставлен" in page


def test_catalog_links_listings_to_their_product() -> None:
    ozon, wb = make_account("ozon"), make_account("wildberries")
    listing = make_listing(ozon)
    same_product = make_listing(wb, product=False)
    same_product.product = listing.product
    same_product.save()
    make_listing(wb)
    client = client_for(make_user(Role.ANALYST))
    # Each row's product opens the product page (its cards side by side).
    assert f'href="/catalog/products/{listing.product_id}/"' in client.get("/catalog/").content.decode()
    response = client.get(f"/catalog/?product={listing.product_id}")
    assert {r.pk for r in response.context["rows"]} == {listing.pk, same_product.pk}
    # The search also finds listings by their product's article.
    found = {r.pk for r in client.get(f"/catalog/?q={listing.product.article}").context["rows"]}
    assert found == {listing.pk, same_product.pk}


def test_catalog_marks_cards_gone_from_the_marketplace() -> None:
    account = make_account("ozon")
    gone, listed = make_listing(account), make_listing(account)
    gone.missing_since = timezone.now()
    gone.save()
    page = client_for(make_user(Role.ANALYST)).get("/catalog/").content.decode()
    assert page.count("нет на площадке") == 1
    row = next(part for part in page.split("<tr>") if gone.offer_id in part)
    assert "нет на площадке" in row and listed.offer_id not in row


def test_prices_page_shows_current_prices() -> None:
    listing = make_listing(make_account("ozon"))
    page = client_for(make_user(Role.ANALYST)).get("/prices/").content.decode()
    assert listing.offer_id in page and "1499,90" in page


def test_reviews_unanswered_first() -> None:
    account = make_account("ozon")
    now = timezone.now()
    old_unanswered = make_review(account, published_at=now - timedelta(days=5))
    new_answered = make_review(account, answered=True, published_at=now)
    new_unanswered = make_review(account, published_at=now - timedelta(days=1))
    client = client_for(make_user(Role.ANALYST))
    rows = [r.pk for r in client.get("/reviews/").context["rows"]]
    assert rows == [new_unanswered.pk, old_unanswered.pk, new_answered.pk]
    assert [r.pk for r in client.get("/reviews/?answered=yes").context["rows"]] == [new_answered.pk]


def test_analytics_sales_by_day_and_marketplace() -> None:
    ozon, wb = make_account("ozon"), make_account("wildberries")
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    day = timedelta(days=1)
    make_order(ozon, ordered_at=now, total="100.10")
    make_order(ozon, ordered_at=now, total="200.20")
    make_order(ozon, ordered_at=now, total="999.00", status=OrderStatus.CANCELLED)  # not a sale
    make_order(wb, ordered_at=now - day, total="50.05")
    make_order(wb, ordered_at=now - 30 * day, total="70.00")  # outside the period
    make_order(wb, ordered_at=datetime(2026, 3, 9, 21, 30, tzinfo=UTC), total="1.00")  # 10 March in Moscow

    report = sales_by_day(days=7, now=now)
    assert [m for m, _ in report.marketplaces] == ["ozon", "wildberries"]
    by_day = {d.day.isoformat(): d for d in report.days}
    assert set(by_day) == {"2026-03-10", "2026-03-09"}
    ten = by_day["2026-03-10"]
    assert [(c.orders, c.revenue) for c in ten.cells] == [(2, Decimal("300.30")), (1, Decimal("1.00"))]
    assert (ten.total.orders, ten.total.revenue) == (3, Decimal("301.30"))
    assert [(c.orders, c.revenue) for c in by_day["2026-03-09"].cells] == [(0, Decimal("0")), (1, Decimal("50.05"))]
    assert (report.grand_total.orders, report.grand_total.revenue) == (4, Decimal("351.35"))
    assert all(isinstance(c.revenue, Decimal) for d in report.days for c in d.cells)


def test_analytics_page_and_csv_export() -> None:
    ozon = make_account("ozon")
    make_order(ozon, total="1234.50")
    client = client_for(make_user(Role.ANALYST))
    page = client.get("/analytics/").content.decode()
    assert "Продажи по дням" in page and "1234,50" in page
    response = client.get("/analytics/sales.csv?days=7")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["date", "marketplace", "orders", "revenue", "currency", "units", "returns", "return_amount"]
    assert rows[1][1:] == ["ozon", "1", "1234.50", "RUB", "1", "0", "0.00"]


def test_settings_lists_accounts_with_masked_keys_and_users_with_roles() -> None:
    make_account("ozon", name="Oz", secret="super-secret-key-7788")
    make_user(Role.ANALYST, "anna")
    page = client_for(make_user(Role.ADMIN, "boss")).get("/settings/").content.decode()
    assert "Oz" in page and "••••7788" in page and "super-secret-key-7788" not in page
    assert "anna" in page and "Аналитик" in page and "Администратор" in page


# Query budgets: each list page costs the same number of queries for 5 rows as for 50.
def _seed(n: int) -> None:
    accounts = [make_account("ozon"), make_account("wildberries"), make_account("yandex_market")]
    for i in range(n):
        account = accounts[i % 3]
        make_listing(account)
        make_order(account)
        make_review(account, answered=bool(i % 2))


def _count_queries(path: str, client_factory: Callable[[], object]) -> int:
    client = client_factory()
    client.get(path)  # type: ignore[attr-defined]  # warm up: session and role lookups are per request anyway
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)  # type: ignore[attr-defined]
    assert response.status_code == 200
    return len(queries)


LIST_PAGES = ["/", "/catalog/", "/orders/", "/prices/", "/reviews/", "/analytics/", "/settings/"]


@pytest.mark.parametrize("path", LIST_PAGES)
def test_query_count_does_not_depend_on_rows(path: str, django_assert_max_num_queries: object) -> None:
    admin_user = make_user(Role.ADMIN)
    _seed(5)
    few = _count_queries(path, lambda: client_for(admin_user))
    _seed(45)
    many = _count_queries(path, lambda: client_for(admin_user))
    assert few == many, f"{path}: {few} queries for 5 rows, {many} for 50"
    client = client_for(admin_user)
    # The list-page target is at most 15 queries (benchmarks/pages.py); the orders inbox's bulk bar asks which
    # actions the marketplaces in view allow.
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert client.get(path).status_code == 200


FOUNDATION_APPS = ["core", "integrations", "catalog", "orders", "pricing", "reviews", "analytics"]


def test_every_model_is_in_the_admin_with_a_working_changelist() -> None:
    _seed(3)
    client = client_for(make_user(Role.ADMIN))
    for label in FOUNDATION_APPS:
        for model in apps.get_app_config(label).get_models():
            assert admin.site.is_registered(model), model
            model_admin = admin.site._registry[model]
            assert model_admin.list_display != ("__str__",), model
            url = f"/admin/{label}/{model._meta.model_name}/"
            assert client.get(url).status_code == 200, url
            if model_admin.search_fields:
                assert client.get(f"{url}?q=PRL").status_code == 200, url


def test_admin_account_list_shows_hint_not_ciphertext() -> None:
    account = make_account("ozon", secret="admin-visible-never-1234")
    page = client_for(make_user(Role.ADMIN)).get("/admin/integrations/marketplaceaccount/").content.decode()
    assert "••••1234" in page
    assert account.credentials_encrypted not in page
    assert MarketplaceAccount.objects.count() == 1
