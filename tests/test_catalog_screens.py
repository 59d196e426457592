"""The catalogue screens: products with their cards in one row, the product page, card edits through
the outbox, links, bulk actions, roles and query budgets."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import Listing, Product, StockLevel, Warehouse
from core.models import AuditEvent
from core.roles import Role
from core.templatetags.formatting import format_money
from integrations.models import MarketplaceAccount, OutboxChange
from orders.models import Order, OrderLine
from pricing.models import Price
from reviews.models import Review
from tests.foundation_support import client_for, compile_translations, make_account, make_user

pytestmark = pytest.mark.django_db
MARKETPLACES = ("ozon", "wildberries", "yandex_market")
GONE_AT = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def _russian() -> None:
    compile_translations()


@pytest.fixture
def manager() -> Any:
    return make_user(Role.MANAGER)


@pytest.fixture
def analyst() -> Any:
    return make_user(Role.ANALYST)


def _catalogue(count: int) -> tuple[list[Product], dict[str, MarketplaceAccount]]:
    """`count` products, each with a card on Ozon, WB and YM, a price and stock on two warehouses."""
    accounts = {mp: make_account(mp, name=f"{mp} main") for mp in MARKETPLACES}
    warehouses = {
        mp: [Warehouse.objects.create(account=a, external_id=f"{mp}-w{n}", name=f"Склад {mp} {n}") for n in (1, 2)]
        for mp, a in accounts.items()
    }
    products = Product.objects.bulk_create(
        Product(article=f"ART-{i:04d}", name=f"Платье летнее {i}", brand=["Север", "Юг"][i % 2],
                barcodes=[f"460{i:010d}"], images=[f"https://img.test/{i}.jpg"])
        for i in range(count)
    )
    listings = Listing.objects.bulk_create(
        Listing(
            account=accounts[mp], product=product, external_id=f"{mp[:2]}-{i}", offer_id=product.article,
            marketplace_sku=f"{n + 1}{i:06d}", title=f"Платье {i} на {mp}", category=["Платья", "Юбки"][i % 2],
            link_source=Listing.LinkSource.ARTICLE,
            variants=[{"id": f"{i}1", "size": "S"}, {"id": f"{i}2", "size": "M"}] if mp == "wildberries" else [],
        )
        for i, product in enumerate(products)
        for n, mp in enumerate(MARKETPLACES)
    )
    Price.objects.bulk_create(Price(listing=x, price=Decimal("1358799.90")) for x in listings)
    levels = []
    for x in listings:
        mp = x.account.marketplace
        sizes = [v["id"] for v in x.variants] or [""]
        for warehouse in warehouses[mp]:
            for size in sizes:
                levels.append(StockLevel(listing=x, warehouse=warehouse, variant_id=size, present=10, reserved=1))
    StockLevel.objects.bulk_create(levels)
    return products, accounts


def _queries(client: Client, url: str) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return response, len(captured.captured_queries)


# ---------------------------------------------------------------------------------------------
# The products list


def test_products_page_shows_each_product_with_its_cards_in_one_row_within_the_query_budget(manager) -> None:
    _catalogue(70)
    client = client_for(manager)
    response, count = _queries(client, "/catalog/products/")
    assert count <= 15, count
    rows = response.context["rows"]
    assert len(rows) == 50
    assert all(len(row.cards) == 3 for row in rows)
    html = response.content.decode()
    assert "1\u202f358\u202f799,90\u00a0₽" in html  # the money format of the screens
    assert "Найдено: 70" in html
    assert 'name="products"' in html  # the selection for bulk actions
    # The next page costs the same.
    next_page, count = _queries(client, "/catalog/products/" + response.context["page"].next_url)
    assert count <= 15 and len(next_page.context["rows"]) == 20


def test_products_page_budget_does_not_grow_with_cards_per_product(manager) -> None:
    products, _ = _catalogue(5)
    client = client_for(manager)
    client.get("/catalog/products/")  # warms the per-user caches (the header's unread count)
    _, few = _queries(client, "/catalog/products/")
    extra = make_account("ozon", name="ozon second")
    Listing.objects.bulk_create(
        Listing(account=extra, product=p, external_id=f"x-{p.pk}", offer_id=p.article) for p in products
    )
    response, more = _queries(client, "/catalog/products/")
    assert more == few
    assert len(response.context["rows"][0].cards) == 4


def _articles(client: Client, query: str) -> set[str]:
    response = client.get(f"/catalog/products/?{query}")
    assert response.status_code == 200
    return {row.product.article for row in response.context["rows"]}


def test_products_filters_and_search(analyst) -> None:
    products, accounts = _catalogue(8)
    client = client_for(analyst)
    lonely = Product.objects.create(article="SOLO-1", name="Без карточек")
    assert _articles(client, "marketplace=ozon") == {p.article for p in products}
    assert _articles(client, "brand=юг") == {p.article for i, p in enumerate(products) if i % 2}
    assert _articles(client, "category=Юбки") == {p.article for i, p in enumerate(products) if i % 2}
    # Status in words: a card gone from the marketplace, one archived, one with errors.
    Listing.objects.filter(product=products[0], account=accounts["ozon"]).update(missing_since=GONE_AT)
    Listing.objects.filter(product=products[1], account=accounts["wildberries"]).update(archived=True)
    Listing.objects.filter(product=products[2], account=accounts["yandex_market"]).update(
        marketplace_errors=["Нет фото"], status="NO_CARD_ERRORS")
    assert _articles(client, "status=gone") == {"ART-0000"}
    assert _articles(client, "status=archived") == {"ART-0001"}
    assert _articles(client, "status=refused") == {"ART-0002"}
    assert _articles(client, "problem=gone") == {"ART-0000"}
    assert _articles(client, "problem=errors") == {"ART-0002"}
    assert _articles(client, "problem=no_cards") == {"SOLO-1"}
    # Stock over every card, warehouse and size: one product low (3 units), one out (reserved only).
    StockLevel.objects.filter(listing__product=products[3]).update(present=0, reserved=0)
    StockLevel.objects.filter(listing__product=products[3]).filter(pk=StockLevel.objects.filter(
        listing__product=products[3]).order_by("id").values("pk")[:1]).update(present=3)
    StockLevel.objects.filter(listing__product=products[4]).update(present=0)
    assert _articles(client, "stock=low") == {"ART-0003"}
    assert _articles(client, "stock=out") == {"ART-0004", lonely.article}
    assert "ART-0003" not in _articles(client, "stock=in") and "ART-0005" in _articles(client, "stock=in")
    # Search: the product's article by prefix, barcode, name, a card's marketplace id or sku.
    assert _articles(client, "q=art-0007") == {"ART-0007"}
    assert _articles(client, f"q={products[5].barcodes[0]}") == {"ART-0005"}
    assert _articles(client, "q=карточек") == {"SOLO-1"}
    assert _articles(client, "q=wi-6") == {"ART-0006"}
    sku = Listing.objects.get(product=products[4], account=accounts["yandex_market"]).marketplace_sku
    assert _articles(client, f"q={sku}") == {"ART-0004"}
    # The row says it in words, with the marketplace's code in a tooltip.
    html = client.get("/catalog/products/?q=ART-0002").content.decode()
    assert "нужно исправить" in html and "NO_CARD_ERRORS" in html and "1 ошибка" in html
    assert "нет на площадке" in client.get("/catalog/products/?q=ART-0000").content.decode()


def test_products_sorts_walk_every_product_once(analyst) -> None:
    _catalogue(60)
    client = client_for(analyst)
    for sort, order in [("article", ("article", "id")), ("name", ("name", "id")), ("newest", ("-id",))]:
        seen, url = [], f"/catalog/products/?sort={sort}"
        while True:
            page = client.get(url).context["page"]
            seen += [p.pk for p in page.rows]
            if not page.has_next:
                break
            url = "/catalog/products/" + page.next_url
        assert seen == list(Product.objects.order_by(*order).values_list("pk", flat=True)), sort


def test_cards_without_a_product_are_reachable_and_open_their_page(manager) -> None:
    products, accounts = _catalogue(2)
    orphan = Listing.objects.create(account=accounts["ozon"], external_id="orphan-1", offer_id="ORPH-1", title="Сирота")
    client = client_for(manager)
    products_page = client.get("/catalog/products/").content.decode()
    assert "Карточки без товара" in products_page
    response = client.get("/catalog/?unlinked=true")
    assert [x.pk for x in response.context["rows"]] == [orphan.pk]
    assert f"/catalog/cards/{orphan.pk}/" in response.content.decode()
    card_page = client.get(f"/catalog/cards/{orphan.pk}/")
    assert card_page.status_code == 200 and "Карточка без товара" in card_page.content.decode()
    # A linked card's page is its product's page.
    linked = Listing.objects.filter(product=products[0]).first()
    location = client.get(f"/catalog/cards/{linked.pk}/")["Location"]
    assert location == f"/catalog/products/{products[0].pk}/#card-{linked.pk}"
    # The link form links it by hand.
    client.post(f"/catalog/cards/{orphan.pk}/link/", {"article": products[1].article})
    orphan.refresh_from_db()
    assert (orphan.product_id, orphan.link_source) == (products[1].pk, Listing.LinkSource.MANUAL)


# ---------------------------------------------------------------------------------------------
# The product page


def test_product_page_shows_the_cards_side_by_side_with_stock_per_size_and_history(manager) -> None:
    products, accounts = _catalogue(3)
    product = products[1]
    wb = Listing.objects.get(product=product, account=accounts["wildberries"])
    wb.attributes = [{"id": 1, "name": "Цвет", "value": ["синий"]}]
    wb.save()
    Review.objects.create(account=wb.account, listing=wb, external_id="r1", rating=5, published_at=GONE_AT)
    client = client_for(manager)
    client.post(f"/catalog/cards/{wb.pk}/content/", {f"card{wb.pk}-title": "Платье синее"})
    response, count = _queries(client, f"/catalog/products/{product.pk}/")
    assert count <= 15, count
    cards = response.context["cards"]
    assert [c["listing"].account.marketplace for c in cards] == ["ozon", "wildberries", "yandex_market"]
    wb_card = next(c for c in cards if c["listing"].pk == wb.pk)
    assert [(s.warehouse, s.size, s.available) for s in wb_card["stock"]] == [
        ("Склад wildberries 1", "S", 9), ("Склад wildberries 1", "M", 9),
        ("Склад wildberries 2", "S", 9), ("Склад wildberries 2", "M", 9),
    ]
    assert wb_card["row"].available == 36 and wb_card["reviews"] == 1
    html = response.content.decode()
    assert "Цвет" in html and "синий" in html
    assert f"/reviews/?listing={wb.pk}" in html
    assert f"/orders/?account={wb.account_id}&amp;offer={product.article}" in html
    [entry] = response.context["history"]
    assert (entry.who, entry.old.split(";")[0], entry.new) == (manager.get_username(), wb.title, "Платье синее")
    assert entry.result.label == "в очереди"


def test_editing_a_card_writes_an_outbox_row_and_an_audit_row(manager) -> None:
    products, accounts = _catalogue(1)
    card = Listing.objects.get(product=products[0], account=accounts["ozon"])
    response = client_for(manager).post(
        f"/catalog/cards/{card.pk}/content/",
        {f"card{card.pk}-title": "  Платье  летнее, синее ", f"card{card.pk}-description": "Лён"},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#card-{card.pk}")
    change = OutboxChange.objects.get(listing=card)
    assert (change.kind, change.status, change.created_by) == ("listing_content", "pending", manager)
    assert change.payload["title"] == "Платье летнее, синее" and change.payload["description"] == "Лён"
    assert change.previous["title"] == card.title
    audit = AuditEvent.objects.get(action="listing.content")
    assert (audit.actor, audit.object_id, audit.details["change"]) == (manager, str(card.pk), change.pk)
    # The result panel says it is queued and keeps polling until there is an outcome.
    panel = client_for(manager).get(f"/catalog/cards/{card.pk}/results/").content.decode()
    assert "в очереди" in panel and 'hx-trigger="every 2s"' in panel
    OutboxChange.objects.filter(pk=change.pk).update(status="rejected", error_message="Запрещённое слово")
    panel = client_for(manager).get(f"/catalog/cards/{card.pk}/results/").content.decode()
    assert "отклонено маркетплейсом" in panel and "Запрещённое слово" in panel
    assert "hx-trigger" not in panel and "Отправить снова" in panel


def test_a_draft_breaking_a_marketplace_rule_is_refused_with_the_rule_next_to_the_form(manager) -> None:
    products, accounts = _catalogue(1)
    card = Listing.objects.get(product=products[0], account=accounts["wildberries"])
    too_long = "Платье летнее из льна с поясом и карманами, синее, для отдыха у моря"  # 68 > WB's 60
    response = client_for(manager).post(f"/catalog/cards/{card.pk}/content/", {f"card{card.pk}-title": too_long})
    assert response.status_code == 422
    assert not OutboxChange.objects.exists() and not AuditEvent.objects.filter(action="listing.content").exists()
    html = response.content.decode()
    assert "Сократите название до 60 символов (сейчас 68)." in html
    assert "02-items.yaml: POST /content/v2/cards/update, title maxLength 60" in html  # where the rule comes from
    assert too_long in html  # the edit stays in the form to be fixed
    wb_card = next(c for c in response.context["cards"] if c["listing"].pk == card.pk)
    assert [p["rule"] for p in wb_card["draft_problems"]] == ["title_too_long"]


def test_a_draft_with_warnings_only_is_sent_and_the_warning_shown(manager) -> None:
    products, accounts = _catalogue(1)
    card = Listing.objects.get(product=products[0], account=accounts["yandex_market"])
    client = client_for(manager)
    # YM advises 50-60 characters: a warning, not a refusal.
    response = client.post(f"/catalog/cards/{card.pk}/content/", {f"card{card.pk}-title": "Платье синее"},
                           follow=True)
    assert OutboxChange.objects.get(listing=card).payload["title"] == "Платье синее"
    html = response.content.decode()
    assert "Сделайте название длиной 50–60 символов" in html and "OfferName.yaml" in html


def test_the_product_page_and_the_list_show_each_cards_stored_check(manager) -> None:
    from catalog.checks import check_listings

    products, accounts = _catalogue(2)
    check_listings(Listing.objects.values_list("pk", flat=True))
    wb = Listing.objects.get(product=products[0], account=accounts["wildberries"])
    stored = wb.quality_check
    assert stored.problem_count >= 1  # no photos
    client = client_for(manager)
    client.get(f"/catalog/products/{products[0].pk}/")  # warms the per-user caches
    response, count = _queries(client, f"/catalog/products/{products[0].pk}/")
    assert count <= 15, count
    html = response.content.decode()
    assert f"{stored.score} из 100" in html
    assert "Добавьте фото: нужно не меньше 1 (сейчас 0)." in html
    listing_page, count = _queries(client, "/catalog/products/")
    assert count <= 15, count
    assert f"{stored.score}/100" in listing_page.content.decode()


def test_the_form_starts_from_a_change_not_yet_read_back(manager) -> None:
    products, _ = _catalogue(1)
    card = Listing.objects.filter(product=products[0]).first()
    client = client_for(manager)
    client.post(f"/catalog/cards/{card.pk}/content/", {f"card{card.pk}-title": "Новое"})
    OutboxChange.objects.update(status="applied")  # delivered; the sync has not read the card back yet
    form = next(c for c in client.get(f"/catalog/products/{products[0].pk}/").context["cards"]
                if c["listing"].pk == card.pk)["form"]
    assert form.initial["title"] == "Новое"
    # Sending the form as shown does not push the same title again.
    client.post(f"/catalog/cards/{card.pk}/content/", {f"card{card.pk}-title": "Новое"})
    assert OutboxChange.objects.count() == 1
    # Once read back (confirmed), the card's own title is the truth again.
    OutboxChange.objects.update(confirmed_at=GONE_AT)
    form = client.get(f"/catalog/products/{products[0].pk}/").context["cards"][0]["form"]
    assert form.initial["title"] == Listing.objects.filter(product=products[0]).first().title


def test_an_unchanged_form_sends_nothing(manager) -> None:
    products, _ = _catalogue(1)
    card = Listing.objects.filter(product=products[0]).first()
    client_for(manager).post(
        f"/catalog/cards/{card.pk}/content/", {f"card{card.pk}-title": card.title, f"card{card.pk}-description": ""}
    )
    assert not OutboxChange.objects.exists()


def test_retry_sends_a_rejected_change_again_and_requeues_a_failed_one(manager) -> None:
    products, _ = _catalogue(1)
    card = Listing.objects.filter(product=products[0]).first()
    client = client_for(manager)
    client.post(f"/catalog/cards/{card.pk}/content/", {f"card{card.pk}-title": "Новое"})
    first = OutboxChange.objects.get()
    OutboxChange.objects.filter(pk=first.pk).update(status="rejected", error_message="нет")
    response = client.post(f"/catalog/changes/{first.pk}/retry/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "в очереди" in response.content.decode()
    second = OutboxChange.objects.exclude(pk=first.pk).get()
    assert (second.status, second.payload["title"]) == ("pending", "Новое")
    OutboxChange.objects.filter(pk=second.pk).update(status="failed")
    client.post(f"/catalog/changes/{second.pk}/retry/")
    second.refresh_from_db()
    assert second.status == "pending" and OutboxChange.objects.count() == 2
    assert AuditEvent.objects.filter(action="listing.content.retry").count() == 1


def test_unlink_and_link_by_hand_are_kept_and_recorded(manager) -> None:
    products, accounts = _catalogue(2)
    card = Listing.objects.get(product=products[0], account=accounts["ozon"])
    client = client_for(manager)
    assert client.post(f"/catalog/cards/{card.pk}/unlink/").status_code == 302
    card.refresh_from_db()
    assert (card.product_id, card.link_source) == (None, Listing.LinkSource.MANUAL)
    # Linked again from the other product's page, by its marketplace id.
    client.post(f"/catalog/products/{products[1].pk}/link/", {"card": card.external_id})
    card.refresh_from_db()
    assert (card.product_id, card.link_source) == (products[1].pk, Listing.LinkSource.MANUAL)
    events = list(AuditEvent.objects.filter(action="listing.link").order_by("id").values_list("details", flat=True))
    assert events == [
        {"from_product": products[0].pk, "to_product": None},
        {"from_product": None, "to_product": products[1].pk},
    ]
    history = client.get(f"/catalog/products/{products[1].pk}/").context["history"]
    assert [(e.what, e.old, e.new) for e in history][:2] == [
        ("Привязка к товару", "—", products[1].article), ("Привязка к товару", products[0].article, "не связан"),
    ]
    # An article that two cards share is ambiguous: nothing is linked.
    response = client.post(f"/catalog/products/{products[0].pk}/link/", {"card": products[1].article}, follow=True)
    assert "Подходят несколько карточек" in response.content.decode()


def test_bulk_actions_push_content_again_or_unlink_the_selected_products_cards(manager) -> None:
    products, _ = _catalogue(3)
    client = client_for(manager)
    response = client.post("/catalog/products/bulk/", {
        "action": "resend_content", "products": [products[0].pk, products[2].pk], "next": "/catalog/products/?brand=Юг",
    })
    assert unquote(response["Location"]) == "/catalog/products/?brand=Юг"
    rows = OutboxChange.objects.filter(kind="listing_content")
    products_of_rows = sorted(rows.values_list("listing__product_id", flat=True))
    assert products_of_rows == sorted([products[0].pk] * 3 + [products[2].pk] * 3)
    assert AuditEvent.objects.filter(action="listing.content.resend").count() == 6
    response = client.post(
        "/catalog/products/bulk/", {"action": "unlink", "products": [products[1].pk], "next": "https://evil.test/"}
    )
    assert response["Location"] == "/catalog/products/"  # never back to another site
    assert not Listing.objects.filter(product=products[1]).exists()
    assert Listing.objects.filter(product__isnull=True, link_source="manual").count() == 3


def test_analyst_sees_no_edit_controls_and_forged_writes_are_refused(analyst) -> None:
    products, _ = _catalogue(2)
    card = Listing.objects.filter(product=products[0]).first()
    client = client_for(analyst)
    listing_page = client.get("/catalog/products/").content.decode()
    product_page = client.get(f"/catalog/products/{products[0].pk}/").content.decode()
    assert 'name="products"' not in listing_page and "/catalog/products/bulk/" not in listing_page
    for marker in ("/content/", "/unlink/", "/link/", "method=\"post\" action=\"/catalog"):
        assert marker not in product_page, marker
    change = OutboxChange.objects.create(account=card.account, kind="listing_content", target_key=card.external_id,
                                         listing=card, payload={"title": "x"}, status="failed")
    forged = [
        (f"/catalog/cards/{card.pk}/content/", {f"card{card.pk}-title": "Взлом"}),
        (f"/catalog/cards/{card.pk}/unlink/", {}),
        (f"/catalog/cards/{card.pk}/link/", {"article": products[1].article}),
        (f"/catalog/products/{products[1].pk}/link/", {"card": card.external_id}),
        ("/catalog/products/bulk/", {"action": "unlink", "products": [products[0].pk]}),
        (f"/catalog/changes/{change.pk}/retry/", {}),
    ]
    for url, data in forged:
        assert client.post(url, data).status_code == 403, url
    card.refresh_from_db()
    change.refresh_from_db()
    assert card.product_id == products[0].pk and change.status == "failed"
    assert OutboxChange.objects.count() == 1 and not AuditEvent.objects.filter(object_type="catalog.listing").exists()


def test_orders_and_reviews_lists_filter_by_the_card(analyst) -> None:
    products, accounts = _catalogue(2)
    ozon = accounts["ozon"]
    card = Listing.objects.get(product=products[0], account=ozon)
    mine = Order.objects.create(account=ozon, external_id="o1", ordered_at=GONE_AT, total_amount=Decimal("1"))
    other = Order.objects.create(account=ozon, external_id="o2", ordered_at=GONE_AT, total_amount=Decimal("1"))
    OrderLine.objects.create(order=mine, line_key="1", offer_id=card.offer_id, quantity=1, price=Decimal("1"))
    OrderLine.objects.create(order=other, line_key="1", offer_id="ELSE", quantity=1, price=Decimal("1"))
    r1 = Review.objects.create(account=ozon, listing=card, external_id="r1", rating=5, published_at=GONE_AT)
    Review.objects.create(account=ozon, external_id="r2", rating=4, published_at=GONE_AT)
    client = client_for(analyst)
    orders = client.get(f"/orders/?account={ozon.pk}&offer={card.offer_id}").context["rows"]
    assert [o.pk for o in orders] == [mine.pk]
    reviews = client.get(f"/reviews/?listing={card.pk}").context["rows"]
    assert [r.key for r in reviews] == [f"review:{r1.pk}"]


def test_money_is_shown_the_russian_or_english_way() -> None:
    assert format_money(Decimal("1358799.9"), "RUB", "ru") == "1\u202f358\u202f799,90\u00a0₽"
    assert format_money(Decimal("1358799.9"), "RUB", "en") == "₽1,358,799.90"
    assert format_money(Decimal("-5"), "RUB", "ru") == "-5,00\u00a0₽"
    assert format_money(None) == ""
