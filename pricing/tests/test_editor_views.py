"""The price editor's screens: preview with the request fields, confirm, history, file import refused
whole, the formula on a selection; roles (analysts see no edit controls, forged POSTs get 403) and
query counts."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.files import write_xlsx
from core.models import AuditEvent
from core.roles import Role
from integrations.models import OutboxChange
from pricing.models import Price, PriceBatch
from tests.foundation_support import client_for, make_user
from tests.outbox_support import make_account, make_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards():
    """The same product on Ozon, WB and YM, cost 500 ₽, price 1000 ₽ (WB: 1000 after a 0 % discount)."""
    made = []
    for n, marketplace in enumerate(["ozon", "wildberries", "yandex_market"]):
        listing = make_listing(make_account(marketplace), 1)
        if n:
            listing.external_id = str(200000 + n)
            listing.save(update_fields=["external_id"])
        Price.objects.create(listing=listing, price=Decimal("1000.00"), discount_percent=0 if n == 1 else None)
        made.append(listing)
    return made


def test_the_product_editor_previews_each_cards_request_and_economics(cards):
    client = client_for(make_user(Role.MANAGER))
    page = client.get(f"/prices/editor/product/{cards[0].product_id}/?price=1090").content.decode()
    # Ozon's price string, WB's whole-rouble price and discount, YM's value: from the adapters' builders.
    assert "<code>price</code>: 1090" in page and "<code>currency_code</code>: RUB" in page
    assert "<code>nmID</code>: 200001" in page and "<code>discount</code>: 0" in page
    assert "<code>price.value</code>: 1090" in page
    assert "1\u202f090,00\u00a0₽" in page and "+9,00 %" in page
    assert "No commission rate is known" in page or "неизвестен тариф" in page
    assert not OutboxChange.objects.exists()  # a preview writes nothing


def test_confirm_creates_a_batch_and_its_page_shows_the_results(cards, django_assert_max_num_queries):
    client = client_for(make_user(Role.MANAGER, "maria"))
    form = {f"change_{x.pk}": "1090.00" for x in cards} | {"formula": "Редактор цен"}
    response = client.post("/prices/editor/batches/new/", form)
    batch = PriceBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/prices/history/{batch.pk}/"
    assert OutboxChange.objects.filter(status=OutboxChange.Status.PENDING).count() == 3
    with django_assert_max_num_queries(15):
        page = client.get(f"/prices/history/{batch.pk}/").content.decode()
    assert page.count('data-status="pending"') == 3 and "maria" in page and "Редактор цен" in page
    with django_assert_max_num_queries(15):
        assert client.get("/prices/history/").status_code == 200
    with django_assert_max_num_queries(15):
        assert "1\u202f090,00" in client.get(f"/prices/history/card/{cards[0].pk}/").content.decode()


def test_below_the_floor_the_confirmation_is_refused_until_a_reason_is_written(cards):
    client = client_for(make_user(Role.MANAGER))
    form = {f"change_{cards[0].pk}": "400.00", "formula": "x"}
    refused = client.post("/prices/editor/batches/new/", form)
    assert refused.status_code == 422 and not PriceBatch.objects.exists()
    assert 'name="reason"' in refused.content.decode()
    done = client.post("/prices/editor/batches/new/", form | {"override": "on", "reason": "Ликвидация"})
    assert done.status_code == 302
    assert PriceBatch.objects.get().reason == "Ликвидация"


def test_a_formula_on_a_selection_is_previewed(cards):
    client = client_for(make_user(Role.MANAGER))
    ids = "&".join(f"listings={x.pk}" for x in cards[:2])
    page = client.get(f"/prices/editor/bulk/?{ids}&operation=increase&value=5&rounding=90").content.decode()
    assert page.count('name="change_') == 2 and f'name="change_{cards[0].pk}" value="1090.00"' in page


def _xlsx(rows) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    write_xlsx(buffer, "Цены", rows[0], rows[1:])
    return SimpleUploadedFile("prices.xlsx", buffer.getvalue())


def test_a_bad_file_is_refused_whole_with_row_and_column(cards):
    client = client_for(make_user(Role.MANAGER))
    bad = _xlsx([["Артикул", "Маркетплейс", "Новая цена"], ["PRL-00001", "Ozon", "1100"],
                 ["PRL-00001", "WB", "дорого"], ["NOPE", "", "10"], ["PRL-00001", "Amazon", "900"]])
    page = client.post("/prices/editor/file/", {"file": bad}).content.decode()
    assert "Row 3, column C" in page or "Строка 3, столбец C" in page
    assert "Строка 5, столбец B: неизвестный маркетплейс «Amazon»" in page
    assert "NOPE" in page and 'name="change_' not in page
    good = _xlsx([["Артикул", "Маркетплейс", "Новая цена"], ["PRL-00001", "Ozon", "1100"],
                  ["PRL-00001", "Яндекс Маркет", "1 050,00"]])
    page = client.post("/prices/editor/file/", {"file": good}).content.decode()
    assert f'name="change_{cards[0].pk}" value="1100.00"' in page
    assert f'name="change_{cards[2].pk}" value="1050.00"' in page and f'name="change_{cards[1].pk}"' not in page
    assert not OutboxChange.objects.exists()


def test_analysts_see_no_edit_controls_and_forged_posts_are_refused(cards):
    manager = client_for(make_user(Role.MANAGER))
    manager.post("/prices/editor/batches/new/", {f"change_{cards[0].pk}": "1090.00", "formula": "x"})
    batch = PriceBatch.objects.get()
    analyst = client_for(make_user(Role.ANALYST))
    prices = analyst.get("/prices/").content.decode()
    assert 'name="listings"' not in prices and "/prices/editor/" not in prices
    page = analyst.get(f"/prices/history/{batch.pk}/").content.decode()
    assert "rollback-form" in page and 'name="item"' not in page and "rollback-batch" not in page
    assert analyst.get(f"/prices/editor/product/{cards[0].product_id}/").status_code == 403
    for url in ("/prices/editor/batches/new/", f"/prices/history/{batch.pk}/rollback/",
                f"/prices/history/{batch.pk}/cancel/", f"/prices/history/items/{batch.items.get().pk}/retry/"):
        assert analyst.post(url, {f"change_{cards[0].pk}": "1.00", "formula": "x"}).status_code == 403
    assert PriceBatch.objects.count() == 1
    assert not AuditEvent.objects.filter(action="pricing.price_batch").exclude(object_id=str(batch.pk)).exists()


def _many_cards(count: int) -> list[int]:
    """`count` cards of one account with prices, a cost, a legal entity, a commission for the account and
    finance sales of some of them (averaged logistics): what each card's economics reads."""
    from datetime import UTC, date, datetime

    from analytics.models import FeeLine, FinanceOperation
    from catalog.models import Listing, Product
    from pricing.models import FeeRate, LegalEntity, LegalEntityAccount

    account = make_account("ozon")
    LegalEntityAccount.objects.create(account=account, legal_entity=LegalEntity.objects.create(name="ИП"))
    products = Product.objects.bulk_create([Product(article=f"M-{n:04d}", name=f"Товар {n}", cost_price=Decimal(400))
                                            for n in range(count)])
    listings = Listing.objects.bulk_create([
        Listing(account=account, external_id=str(700000 + n), offer_id=p.article, title=p.name, product=p)
        for n, p in enumerate(products)])
    Price.objects.bulk_create([Price(listing=x, price=Decimal(1000)) for x in listings])
    FeeRate.objects.create(account=account, kind="commission", name="Комиссия", percent=Decimal(15),
                           effective_from=date(2026, 1, 1))
    today = datetime.now(UTC)
    for n, listing in enumerate(listings[::10]):
        operation = FinanceOperation.objects.create(
            account=account, external_id=f"op-{n}", operation_type="Продажа", operation_at=today,
            offer_id=listing.offer_id, quantity=1, sale_amount=Decimal(1000), amount=Decimal(850))
        FeeLine.objects.create(operation=operation, kind="logistics", name="Логистика", amount=Decimal(-70))
    return [x.pk for x in listings]


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_previews_read_the_same_number_of_queries_for_20_cards_as_for_100():
    """Every card's economics comes from one bulk read (pricing.floors.card_economics_bulk): the formula
    and file previews cost the same queries whatever the number of cards, within the page budget."""
    ids = _many_cards(100)
    client = client_for(make_user(Role.MANAGER))
    client.get("/prices/")  # the header's per-user figures are read once a minute, not by every page
    counts = []
    for chosen in (ids[:20], ids):
        url = "/prices/editor/bulk/?operation=increase&value=5&rounding=9&" + "&".join(f"listings={x}" for x in chosen)
        counts.append(_queries(client, url))
    assert counts[0] == counts[1] <= 15, counts
    page = client.get("/prices/editor/bulk/?operation=increase&value=5&" + "&".join(f"listings={x}" for x in ids[:20]))
    assert page.content.decode().count('name="change_') == 20

    def upload(chosen: list[int]) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from catalog.models import Listing

        rows = [["Артикул", "Новая цена"]] + [[offer_id, "1100"] for offer_id in
                                              Listing.objects.filter(pk__in=chosen).values_list("offer_id", flat=True)]
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/prices/editor/file/", {"file": _xlsx(rows)})
        assert response.status_code == 200 and response.content.decode().count('name="change_') == len(chosen)
        return len(queries)

    files = [upload(ids[:20]), upload(ids)]
    assert files[0] == files[1] <= 15, files


def test_the_product_editor_preview_and_the_card_economics_page_stay_within_the_page_budget(
    cards, django_assert_max_num_queries,
):
    client = client_for(make_user(Role.MANAGER))
    with django_assert_max_num_queries(15):
        page = client.get(f"/prices/editor/product/{cards[0].product_id}/?price=1090")
    assert page.content.decode().count('name="change_') == 3
    with django_assert_max_num_queries(15):
        assert client.get(f"/prices/economics/{cards[0].pk}/?price=990").status_code == 200
    assert client.get("/prices/economics/999999999/").status_code == 404


def test_matching_another_marketplaces_price_minus_a_percent(cards):
    Price.objects.filter(listing=cards[2]).update(price=Decimal("1200.00"))
    client = client_for(make_user(Role.MANAGER))
    ids = "&".join(f"listings={x.pk}" for x in cards[:2])
    page = client.get(f"/prices/editor/bulk/?{ids}&operation=match&marketplace=yandex_market&sign=-1&value=10"
                      "&rounding=9").content.decode()
    # 1200 − 10 % = 1080, rounded up to …9: 1089 on Ozon and WB.
    assert f'name="change_{cards[0].pk}" value="1089.00"' in page
    assert f'name="change_{cards[1].pk}" value="1089.00"' in page


def test_a_batch_scheduled_from_the_screen_waits_and_can_be_cancelled(cards):
    from datetime import timedelta

    from django.utils import timezone

    client = client_for(make_user(Role.MANAGER))
    later = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post("/prices/editor/batches/new/",
                {f"change_{cards[0].pk}": "1090.00", "formula": "x", "scheduled_for": later})
    batch = PriceBatch.objects.get()
    assert batch.state == PriceBatch.State.SCHEDULED and not OutboxChange.objects.exists()
    assert 'id="cancel-batch"' in client.get(f"/prices/history/{batch.pk}/").content.decode()
    client.post(f"/prices/history/{batch.pk}/cancel/")
    batch.refresh_from_db()
    assert batch.state == PriceBatch.State.CANCELLED and not OutboxChange.objects.exists()
