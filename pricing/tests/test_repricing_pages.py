"""The repricing screens and API: competitor prices from a file (all rows or none, each error naming its row
and column), by hand and by API; who may do what (an analyst reads, a manager edits and runs); the pages'
query counts whatever the number of rows."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from catalog.models import Product
from core.files import read_table
from core.models import AuditEvent
from core.roles import Role
from pricing import competitors
from pricing.editor import FileErrors
from pricing.models import CompetitorPrice, RepricingRule, RepricingRun
from tests.foundation_support import client_for, make_account, make_listing, make_user

pytestmark = pytest.mark.django_db
D = Decimal


def _csv(text: str, name: str = "конкуренты.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\ufeff" + text).encode("utf-8"), content_type="text/csv")


def _xlsx(rows: list[list[object]]) -> SimpleUploadedFile:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile("конкуренты.xlsx", data.getvalue())


@pytest.fixture
def cards():
    ozon, wb = make_account("ozon"), make_account("wildberries")
    first, second = make_listing(ozon), make_listing(ozon)
    twin = make_listing(wb)
    twin.offer_id = first.offer_id  # the same article on two marketplaces
    twin.save()
    return first, second, twin


# ---------------------------------------------------------------------------------------------
# File import


def test_a_good_csv_and_xlsx_are_imported_whole(cards):
    first, second, _twin = cards
    table = read_table(_csv(
        "Артикул;Маркетплейс;Конкурент;Цена;Ссылка\n"
        f"{first.offer_id};Ozon;Магазин А;1 390,00;https://example.com/a\n"
        f"{second.external_id};;Магазин Б;990\n"
    ))
    rows = competitors.import_competitor_prices(table, user=None)
    assert [(r.listing_id, r.competitor, r.price, r.url, r.source) for r in rows] == [
        (first.pk, "Магазин А", D("1390.00"), "https://example.com/a", "import"),
        (second.pk, "Магазин Б", D("990.00"), "", "import"),
    ]
    assert AuditEvent.objects.get(action="pricing.competitor_price_import").details["rows"] == 2
    book = _xlsx([["Карточка", "Конкурент", "Цена", "Дата"], [second.external_id, "Магазин В", 1234.5, "01.12.2026"]])
    [row] = competitors.import_competitor_prices(read_table(book), user=None)
    assert row.price == D("1234.50") and timezone.localtime(row.observed_at).strftime("%d.%m.%Y") == "01.12.2026"


def test_a_bad_file_writes_nothing_and_names_each_bad_row_and_column(cards):
    first, second, _twin = cards
    table = read_table(_csv(
        "Артикул;Маркетплейс;Конкурент;Цена\n"
        f"{second.offer_id};;Магазин А;1390\n"
        f"{second.offer_id};;Магазин Б;дёшево\n"
        f"{first.offer_id};;Магазин В;1000\n"
        "НЕТ-ТАКОГО;;Магазин Г;1000\n"
        f"{second.offer_id};;;1000\n"
    ))
    with pytest.raises(FileErrors) as refused:
        competitors.import_competitor_prices(table, user=None)
    assert refused.value.errors == [
        "Row 3, column D: A price greater than zero, in roubles and kopecks.",
        "Row 6, column C: Name the competitor.",
        f"Row 4, column A: several cards are “{first.offer_id}”; add a “Marketplace” column.",
        "Row 5, column A: no card “НЕТ-ТАКОГО”.",
    ]
    assert not CompetitorPrice.objects.exists() and not AuditEvent.objects.filter(
        action="pricing.competitor_price_import").exists()
    with pytest.raises(FileErrors) as refused:
        competitors.import_competitor_prices(read_table(_csv("Артикул;Цена\nA;1\n")), user=None)
    assert refused.value.errors == ["No “Competitor” column in the first row."]


def test_the_import_page_refuses_a_bad_file_and_takes_a_good_one(cards):
    _first, second, _twin = cards
    manager = client_for(make_user(Role.MANAGER))
    bad = manager.post("/prices/rules/competitors/import/", {"file": _csv(
        f"Артикул;Конкурент;Цена\n{second.offer_id};Магазин;-5\n")})
    assert bad.status_code == 422 and "Строка 2, колонка C" in bad.content.decode()
    assert not CompetitorPrice.objects.exists()
    good = manager.post("/prices/rules/competitors/import/", {"file": _csv(
        f"Артикул;Конкурент;Цена\n{second.offer_id};Магазин;1390\n")})
    assert good.status_code == 302 and CompetitorPrice.objects.get().listing_id == second.pk


# ---------------------------------------------------------------------------------------------
# Screens: who may do what


def test_a_manager_adds_a_rule_previews_it_and_runs_it(cards, django_capture_on_commit_callbacks):
    _first, second, _twin = cards
    Product.objects.filter(pk=second.product_id).update(cost_price=D("500"))
    manager = client_for(make_user(Role.MANAGER, "maria"))
    form = {"name": "Ниже конкурента", "scope": "listing", "target": second.offer_id, "marketplace": "",
            "strategy": "beat_competitor", "step": "10", "step_unit": "rub", "competitor_max_age_hours": "72",
            "rounding": "", "enabled": "on"}
    refused = manager.post("/prices/rules/new/", {**form, "floor_price": "900", "ceiling_price": "800"})
    assert refused.status_code == 200 and "Верхняя граница ниже нижней." in refused.content.decode()
    response = manager.post("/prices/rules/new/", form)
    rule = RepricingRule.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/prices/rules/{rule.pk}/preview/"
    assert rule.listing_id == second.pk and rule.step == D("10")
    manager.post("/prices/rules/competitors/", {"card": second.offer_id, "competitor": "Магазин А",
                                                "price": "1390,00"})
    assert CompetitorPrice.objects.get().price == D("1390.00")
    preview = manager.get(f"/prices/rules/{rule.pk}/preview/").content.decode()
    assert f'id="change-{second.pk}"' in preview and "1\u202f380,00\u00a0₽" in preview
    with django_capture_on_commit_callbacks() as queued:
        run_response = manager.post(f"/prices/rules/{rule.pk}/run/")
    run = RepricingRun.objects.get()
    assert run_response["Location"] == f"/prices/rules/runs/{run.pk}/" and len(queued) == 1
    assert list(run.rules.all()) == [rule] and run.created_by.username == "maria"
    assert "в очереди" in manager.get(f"/prices/rules/runs/{run.pk}/").content.decode()


def test_an_analyst_reads_every_page_and_every_write_is_refused(cards):
    _first, second, _twin = cards
    rule = RepricingRule.objects.create(name="Правило", listing=second)
    quote = CompetitorPrice.objects.create(listing=second, competitor="А", price=D("1000"), observed_at=timezone.now())
    run = RepricingRun.objects.create(state=RepricingRun.State.DONE)
    analyst = client_for(make_user(Role.ANALYST))
    for url in ["/prices/rules/", f"/prices/rules/{rule.pk}/", f"/prices/rules/{rule.pk}/preview/",
                "/prices/rules/preview/", "/prices/rules/runs/", f"/prices/rules/runs/{run.pk}/",
                "/prices/rules/competitors/", f"/prices/rules/competitors/{quote.pk}/"]:
        page = analyst.get(url)
        assert page.status_code == 200, url
        assert 'id="run-rule"' not in page.content.decode() and 'id="save-rule"' not in page.content.decode()
    for url, data in [("/prices/rules/new/", {"name": "x"}), (f"/prices/rules/{rule.pk}/", {"name": "x"}),
                      (f"/prices/rules/{rule.pk}/delete/", {}), (f"/prices/rules/{rule.pk}/run/", {}),
                      ("/prices/rules/run/", {}), ("/prices/rules/competitors/", {"card": "x"}),
                      (f"/prices/rules/competitors/{quote.pk}/", {"price": "1"}),
                      (f"/prices/rules/competitors/{quote.pk}/delete/", {}),
                      ("/prices/rules/competitors/import/", {})]:
        assert analyst.post(url, data).status_code == 403, url
    assert analyst.get("/prices/rules/competitors/import/").status_code == 403
    assert RepricingRule.objects.get().name == "Правило" and RepricingRun.objects.count() == 1
    assert CompetitorPrice.objects.get().price == D("1000")


def test_the_pages_take_a_fixed_number_of_queries(cards, django_assert_max_num_queries):
    _first, _second, _twin = cards
    account = make_account("ozon")
    listings = [make_listing(account) for _ in range(20)]
    Product.objects.filter(pk__in=[x.product_id for x in listings]).update(brand="Бренд", cost_price=D("500"))
    for listing in listings:
        CompetitorPrice.objects.create(listing=listing, competitor="А", price=D("1200"), observed_at=timezone.now())
    rules = [RepricingRule.objects.create(name=f"Правило {i}", listing=x, strategy="beat_competitor")
             for i, x in enumerate(listings[:10])]
    RepricingRule.objects.create(name="Бренд", brand="Бренд", strategy="beat_competitor")
    for rule in rules:
        run = RepricingRun.objects.create(state=RepricingRun.State.DONE, changed=1)
        run.rules.add(rule)
    manager = client_for(make_user(Role.MANAGER))
    for url in ["/prices/rules/", "/prices/rules/preview/", f"/prices/rules/{rules[0].pk}/preview/",
                "/prices/rules/runs/", f"/prices/rules/runs/{run.pk}/", "/prices/rules/competitors/",
                f"/prices/rules/competitors/?listing={listings[0].pk}", f"/prices/rules/{rules[0].pk}/"]:
        with django_assert_max_num_queries(15):
            assert manager.get(url).status_code == 200, url


# ---------------------------------------------------------------------------------------------
# API


def test_the_api_writes_rules_and_competitor_prices_through_the_services(cards, django_capture_on_commit_callbacks):
    _first, second, _twin = cards
    manager = client_for(make_user(Role.MANAGER))
    analyst = client_for(make_user(Role.ANALYST))

    def post(client, url, body):
        return client.post(url, data=json.dumps(body), content_type="application/json")

    refused = post(manager, "/api/v1/repricing-rules/", {"name": "x", "listing": second.pk,
                                                         "floor_price": "900", "ceiling_price": "800"})
    assert refused.status_code == 400 and list(refused.json()) == ["ceiling_price"]
    assert post(analyst, "/api/v1/repricing-rules/", {"name": "x", "listing": second.pk}).status_code == 403
    created = post(manager, "/api/v1/repricing-rules/", {"name": "Маржа", "listing": second.pk,
                                                         "strategy": "target_margin", "target_margin_percent": "20"})
    assert created.status_code == 201
    rule_id = created.json()["id"]
    changed = manager.patch(f"/api/v1/repricing-rules/{rule_id}/", data=json.dumps({"rounding": "99"}),
                            content_type="application/json")
    assert changed.status_code == 200 and changed.json()["rounding"] == "99"
    assert AuditEvent.objects.filter(action="pricing.repricing_rule_update", object_id=str(rule_id)).exists()
    preview = analyst.get(f"/api/v1/repricing-rules/{rule_id}/preview/").json()
    assert preview["cards"] == 1 and preview["skipped"][0]["skip"] == "Нет себестоимости: порог безубыточности " \
                                                                      "неизвестен."
    with django_capture_on_commit_callbacks() as queued:
        started = post(manager, f"/api/v1/repricing-rules/{rule_id}/run/", {})
    assert started.status_code == 202 and started.json()["trigger"] == "api" and len(queued) == 1
    assert post(analyst, f"/api/v1/repricing-rules/{rule_id}/run/", {}).status_code == 403

    quote = post(manager, "/api/v1/competitor-prices/", {"listing": second.pk, "competitor": "Магазин",
                                                         "price": "1390.00"})
    assert quote.status_code == 201 and quote.json()["source"] == "api"
    bad = post(manager, "/api/v1/competitor-prices/", {"listing": second.pk, "competitor": " ", "price": "10"})
    assert bad.status_code == 400 and "competitor" in bad.json()
    upload = manager.post("/api/v1/competitor-prices/import/", {"file": _csv(
        f"Артикул;Конкурент;Цена\n{second.offer_id};Другой;1500\n{second.offer_id};;1500\n")})
    assert upload.status_code == 400 and upload.json() == {"file": ["Строка 3, колонка B: Укажите конкурента."]}
    assert CompetitorPrice.objects.count() == 1
    assert analyst.get(f"/api/v1/competitor-prices/?listing={second.pk}").json()["results"][0]["price"] == "1390.00"
    assert manager.delete(f"/api/v1/repricing-rules/{rule_id}/").status_code == 204
