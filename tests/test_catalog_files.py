"""Excel/CSV in and out: the shared file helpers (core/files.py), the catalogue's exports matching the
filter on screen, and imports with a preview, a confirm step and whole-file rejection."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from catalog.imports import ImportKind, apply_plan
from catalog.models import Listing, Product
from catalog.services import CatalogChangeError
from core import files
from core.models import AuditEvent
from core.roles import Role
from integrations.models import OutboxChange
from tests.foundation_support import client_for, compile_translations, make_account, make_user
from tests.stock_support import StockWorld, make_stock_world

pytestmark = pytest.mark.django_db
FORMULA = '=HYPERLINK("http://evil.example","Нажми")'


@pytest.fixture(scope="module", autouse=True)
def _russian() -> None:
    compile_translations()


@pytest.fixture
def manager() -> Client:
    return client_for(make_user(Role.MANAGER))


@pytest.fixture
def world() -> StockWorld:
    world = make_stock_world()
    Listing.objects.filter(pk=world.mug.pk).update(title=FORMULA)
    return world


# -- core/files.py ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["=1+1", "+7 999", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_prefixes_are_neutralised_and_restored(text: str) -> None:
    assert files.neutralise(text) == "'" + text
    assert files.restore(files.neutralise(text)) == text


def test_plain_text_and_numbers_pass_untouched() -> None:
    assert files.neutralise("Платье") == "Платье"
    assert files.restore("'quoted") == "'quoted"  # only an apostrophe we added is removed
    assert files.csv_cell(Decimal("1499.90")) == "1499,90"
    assert files.csv_cell(-5) == "-5"  # a number is not a formula
    assert files.csv_cell(datetime(2026, 12, 3, 11, 5, tzinfo=UTC)) == "03.12.2026 14:05"  # Moscow time
    assert files.xlsx_cell(Decimal("2.50")) == Decimal("2.50")


def test_column_letters_as_excel_names_them() -> None:
    assert [files.column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_xlsx_is_written_from_an_iterator_in_write_only_mode() -> None:
    """Rows are pulled one by one from the iterator (never listed) and written out as they come."""
    pulled = []

    def rows():
        for n in range(3000):
            pulled.append(n)
            yield [n, f"=A{n}", Decimal("1.50")]

    target = io.BytesIO()
    files.write_xlsx(target, "Лист", ["A", "B", "C"], rows())
    sheet = load_workbook(io.BytesIO(target.getvalue()), read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 3001 and len(pulled) == 3000
    assert values[5] == (4, "'=A4", 1.5)


def test_a_streamed_file_goes_out_in_pieces_not_a_line_at_a_time() -> None:
    lines = [f"{n};Кружка\r\n" for n in range(10_000)]
    pieces = list(files.chunks(iter(lines), size=4096))
    assert b"".join(pieces) == "".join(lines).encode("utf-8")
    assert len(pieces) < 100 and all(len(piece.decode()) >= 4096 for piece in pieces[:-1])


# -- exports ------------------------------------------------------------------------------------

def _csv(response: Any) -> tuple[bytes, list[list[str]]]:
    body = b"".join(response.streaming_content)
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_listings_csv_is_for_russian_excel_and_neutralises_formulas(manager: Client, world: StockWorld) -> None:
    response = manager.get("/catalog/export/listings.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="listings_' in response["Content-Disposition"]
    body, rows = _csv(response)
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    assert body.splitlines()[0].decode("utf-8-sig").startswith("ID карточки;Маркетплейс;Аккаунт;")
    by_article = {row[4]: row for row in rows[1:]}
    header = rows[0]
    assert by_article["DRESS-1"][header.index("Цена")] == "1499,90"  # decimal comma
    assert by_article["MUG-1"][header.index("Название")] == "'" + FORMULA
    assert by_article["DRESS-1"][header.index("Артикул товара")] == "DRESS-1"


def test_the_cards_csv_written_by_postgresql_is_the_csv_python_writes(manager: Client, world: StockWorld) -> None:
    """core.csv_copy formats in SQL what core.files.csv_cell formats in Python: the same cells, cell for cell,
    for every kind of value (formulas, separators, quotes, line breaks, empty and missing values, yes/no,
    dates in Moscow time, lists, decimal commas)."""
    from django.test import RequestFactory

    from catalog import exports, sheets

    Listing.objects.filter(pk=world.mug.pk).update(
        description='Первая строка;\r\nвторая "в кавычках"\n+третья', brand="", barcodes=["4600001", "-4600002"],
        category="@Кухня", archived=True, missing_since=datetime(2026, 3, 1, 21, 30, tzinfo=UTC), status="",
    )
    Listing.objects.filter(pk=world.dress.pk).update(barcodes=[], category="\tтаб", external_id="-12")
    with CaptureQueriesContext(connection) as queries:
        body, copied = _csv(manager.get("/catalog/export/listings.csv"))
    assert any(q["sql"].startswith("COPY (SELECT") for q in queries.captured_queries)  # written by PostgreSQL
    request = RequestFactory().get("/catalog/export/listings.csv")
    python = b"".join(files.chunks(files.csv_lines(sheets.header(sheets.LISTING_COLUMNS), exports._listings(request))))
    written = list(csv.reader(io.StringIO(python.decode("utf-8-sig")), delimiter=";"))
    assert copied == written and len(copied) == Listing.objects.count() + 1
    mug = next(row for row in copied if row[0] == str(world.mug.pk))
    assert mug[7] == 'Первая строка;\r\nвторая "в кавычках"\n+третья' and mug[10] == "'@Кухня"
    assert mug[11] == "4600001, -4600002" and mug[15] == "да" and mug[16] == "02.03.2026 00:30"
    assert body.startswith(b"\xef\xbb\xbf")
    # Filtered and searched as the list is, in the list's article order.
    _, rows = _csv(manager.get("/catalog/export/listings.csv?marketplace=wildberries&q=DRESS"))
    assert [row[4] for row in rows[1:]] == sorted(
        Listing.objects.filter(account__marketplace="wildberries", offer_id__istartswith="DRESS")
        .values_list("offer_id", flat=True))


def test_exports_match_the_filter_on_screen(manager: Client, world: StockWorld) -> None:
    _, rows = _csv(manager.get("/catalog/export/listings.csv?marketplace=ozon"))
    assert [row[4] for row in rows[1:]] == ["MUG-1"]
    _, rows = _csv(manager.get("/catalog/export/stock.csv?kind=seller&state=low"))
    assert [(row[5], row[10], row[-1]) for row in rows[1:]] == [("DRESS-1", "M", "2")]
    # the export ignores the page cursor: every matching row, not only one page
    _, rows = _csv(manager.get("/catalog/export/stock.csv?after=garbage"))
    assert len(rows) - 1 == 5


def test_stock_xlsx_export(manager: Client, world: StockWorld) -> None:
    response = manager.get("/catalog/export/stock.xlsx?marketplace=wildberries")
    assert response.status_code == 200
    assert response["Content-Type"] == files.XLSX_CONTENT_TYPE
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("ID карточки", "ID склада", "ID размера") and rows[0][-1] == "Доступно"
    assert sorted((r[8], r[10], r[-1]) for r in rows[1:]) == [
        ("Коледино", "M", 40), ("Склад продавца Подольск", "L", 0),
        ("Склад продавца Подольск", "M", 2), ("Склад продавца Подольск", "S", 10),
    ]
    assert all(isinstance(r[-1], int) for r in rows[1:])  # numbers stay numbers


def test_listings_xlsx_neutralises_formulas_and_products_export(manager: Client, world: StockWorld) -> None:
    sheet = load_workbook(io.BytesIO(b"".join(manager.get("/catalog/export/listings.xlsx").streaming_content))).active
    titles = [row[6] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'" + FORMULA in titles and FORMULA not in titles
    Product.objects.filter(article="DRESS-1").update(cost_price=Decimal("512.50"))
    _, rows = _csv(manager.get("/catalog/export/products.csv?q=dress"))
    assert rows[1][:2] == ["DRESS-1", "Платье"] and rows[1][4] == "512,50" and len(rows) == 2


def test_unknown_export_is_404_and_an_analyst_may_export(world: StockWorld) -> None:
    analyst = client_for(make_user(Role.ANALYST))
    assert analyst.get("/catalog/export/stock.csv").status_code == 200
    assert analyst.get("/catalog/export/orders.csv").status_code == 404
    assert analyst.get("/catalog/export/stock.pdf").status_code == 404


def test_export_query_count_does_not_grow_with_rows(
    manager: Client, world: StockWorld, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(10):
        response = manager.get("/catalog/export/stock.csv")
        b"".join(response.streaming_content)


def test_the_cards_export_searches_as_the_list_does_in_a_fixed_number_of_queries_up_to_its_limit(
    manager: Client, world: StockWorld, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any,
) -> None:
    from catalog import exports

    more = Listing.objects.bulk_create([
        Listing(account=world.wb, external_id=str(880000 + n), offer_id=f"BAG-{n:03d}", title=f"Городской рюкзак {n}")
        for n in range(30)
    ])
    # The title search of the catalogue list (trigram index), the marketplace filter, article order: the
    # session, the user and its role, the search's exact branches (one query), the plan setting, then one
    # cursor (DECLARE … NO SCROLL, not WITH HOLD: inside a transaction, a savepoint here) whatever the
    # number of rows.
    with django_assert_max_num_queries(8):
        _, rows = _csv(manager.get("/catalog/export/listings.csv?marketplace=wildberries&q=рюкзак"))
    assert [row[4] for row in rows[1:]] == [x.offer_id for x in more]
    assert all(row[1] == "Wildberries" and row[2] == "WB Одежда" and row[8] == "" for row in rows[1:])
    list_page = manager.get("/catalog/?marketplace=wildberries&q=рюкзак").content.decode()
    assert all(x.offer_id in list_page for x in more[:20])
    # At most LISTING_EXPORT_LIMIT cards, in article order; the list says so next to its export links.
    assert "до 100\u00a0000 карточек" in manager.get("/catalog/").content.decode()
    monkeypatch.setattr(exports, "LISTING_EXPORT_LIMIT", 10)
    _, rows = _csv(manager.get("/catalog/export/listings.csv?marketplace=wildberries"))
    assert [row[4] for row in rows[1:]] == [x.offer_id for x in more[:10]]


def test_the_cards_export_search_finds_what_the_list_search_finds(world: StockWorld) -> None:
    """The export matches titles in its own scan and hands the exact branches' cards by id: the same cards
    as the list's search (catalog.filters.listing_search_ids) for every kind of match, on one marketplace
    and on all, and past EXACT_IDS_INLINE exact matches too."""
    from django.http import QueryDict

    from catalog import exports
    from catalog.filters import ListingFilter
    from catalog.selectors import listing_list

    other = make_account("wildberries", name="WB Второй")
    product = Product.objects.create(article="Рюкзак-77", name="Рюкзак")  # the product article branch
    Listing.objects.bulk_create([
        Listing(account=world.wb, external_id="990001", offer_id="BAG-1", title="Городской рюкзак"),
        Listing(account=world.wb, external_id="990002", offer_id="РЮКЗАК-2", title="Сумка"),  # article prefix
        Listing(account=world.wb, external_id="990003", offer_id="X-3", title="Сумка", barcodes=["рюкзак"]),
        Listing(account=world.wb, external_id="990004", offer_id="X-4", title="Сумка", product=product),
        Listing(account=other, external_id="990005", offer_id="X-5", title="Рюкзак детский"),
        Listing(account=world.ozon, external_id="990006", offer_id="X-6", title="рюкзак", marketplace_sku="rukzak"),
        Listing(account=world.ozon, external_id="рюкзак", offer_id="X-7", title="Кружка"),  # marketplace id
    ])

    def exported(query: str) -> list[int]:
        return [row[0] for row in exports.listing_export_rows(QueryDict(query))]

    def listed(query: str) -> list[int]:
        rows = ListingFilter(QueryDict(query), queryset=listing_list()).qs.order_by("offer_id", "id")
        return list(rows.values_list("pk", flat=True))

    for query in ("marketplace=wildberries&q=рюкзак", "q=рюкзак", "q=rukzak", "q=RUKZAK", "q=рюк",
                  "marketplace=ozon&q=рюкзак", "q=Сумка", "q=нет-такого"):
        assert exported(query) == listed(query), query
    assert len(exported("marketplace=wildberries&q=рюкзак")) == 5  # title, article, barcode, product, account
    for limit in (0, 1):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(exports, "EXACT_IDS_INLINE", limit)
            assert exported("q=рюкзак") == listed("q=рюкзак")


# -- imports ------------------------------------------------------------------------------------

def _csv_upload(rows: list[list[Any]], name: str = "stock.csv") -> SimpleUploadedFile:
    text = "\r\n".join(";".join(str(cell) for cell in row) for row in rows)
    return SimpleUploadedFile(name, ("\ufeff" + text).encode("utf-8"), content_type="text/csv")


def _xlsx_upload(rows: list[list[Any]], name: str = "cards.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def _exported_stock(manager: Client) -> list[list[str]]:
    return _csv(manager.get("/catalog/export/stock.csv"))[1]


def _set(rows: list[list[str]], article: str, size: str, warehouse: str, available: str) -> None:
    row = next(r for r in rows if r[5] == article and r[10] == size and r[8] == warehouse)
    row[-1] = available


def test_stock_import_previews_old_to_new_then_applies_through_the_outbox(manager: Client, world: StockWorld) -> None:
    rows = _exported_stock(manager)
    _set(rows, "DRESS-1", "M", "Склад продавца Подольск", "25")
    _set(rows, "MUG-1", "", "Мой склад Ozon", "8")
    response = manager.post("/catalog/import/", {"kind": "stock", "file": _csv_upload(rows)})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert [(c.row, c.old, c.new) for c in plan.changes] == [(3, "2", "25"), (6, "0", "8")]
    assert plan.unchanged == 3
    html = response.content.decode()
    assert "Доступно на складе «Склад продавца Подольск», размер M" in html and "Подтвердить и отправить" in html
    assert not OutboxChange.objects.exists()  # a preview writes nothing

    response = manager.post("/catalog/import/confirm/", {"token": response.context["token"]})
    assert response.status_code == 302 and response["Location"] == "/catalog/stock/"
    pushed = {(c.payload["offer_id"], c.payload["variant_id"], c.payload["quantity"], c.created_by_id is not None)
              for c in OutboxChange.objects.filter(kind=OutboxChange.Kind.STOCK)}
    assert pushed == {("DRESS-1", "222", 25, True), ("MUG-1", "", 8, True)}
    audit = AuditEvent.objects.get(action="catalog.import")
    assert audit.details == {"kind": "stock", "file": "stock.csv", "changes": 2}
    # the preview is used once
    assert manager.post("/catalog/import/confirm/", {"token": response.wsgi_request.POST["token"]}).status_code == 302
    assert OutboxChange.objects.count() == 2


def test_a_file_with_bad_rows_is_rejected_whole_with_row_and_column(manager: Client, world: StockWorld) -> None:
    rows = _exported_stock(manager)
    _set(rows, "DRESS-1", "S", "Склад продавца Подольск", "15")  # a good row
    _set(rows, "DRESS-1", "M", "Склад продавца Подольск", "много")  # row 3: not a number
    _set(rows, "DRESS-1", "M", "Коледино", "41")  # row 5: an FBO warehouse
    rows.append(["999999", str(world.wb_own.pk), "", "", "", "", "", "", "", "", "", "", "", "3"])  # row 7
    response = manager.post("/catalog/import/", {"kind": "stock", "file": _csv_upload(rows)})
    assert response.status_code == 400
    errors = [(e.row, e.column.split(" ")[0]) for e in response.context["plan"].errors]
    assert errors == [(3, "N"), (5, "N"), (7, "A")]
    html = response.content.decode()
    assert "Файл не загружен" in html and "Ничего не изменено." in html
    assert "«много» — не целое число." in html and "Карточки с ID 999999 нет." in html
    assert "ведёт сам маркетплейс" in html
    assert not OutboxChange.objects.exists() and not AuditEvent.objects.filter(action="catalog.import").exists()
    assert "catalog_import" not in manager.session


def test_content_import_from_xlsx(manager: Client, world: StockWorld) -> None:
    exported = load_workbook(io.BytesIO(b"".join(manager.get("/catalog/export/listings.xlsx").streaming_content)))
    rows = [list(row) for row in exported.active.iter_rows(values_only=True)]
    dress = next(r for r in rows if r[4] == "DRESS-1")
    dress[6] = "Платье летнее льняное"
    response = manager.post("/catalog/import/", {"kind": "content", "file": _xlsx_upload(rows)})
    plan = response.context["plan"]
    # The neutralised formula title comes back as it was: only the edited title changes
    assert [(c.card, c.old, c.new) for c in plan.changes] == [
        (f"DRESS-1 · {world.wb.name}", "Платье летнее", "Платье летнее льняное")
    ]
    manager.post("/catalog/import/confirm/", {"token": response.context["token"]})
    change = OutboxChange.objects.get(kind=OutboxChange.Kind.LISTING_CONTENT)
    assert change.payload["title"] == "Платье летнее льняное"
    assert change.payload["description"] == "Лёгкое платье"


def test_links_import(manager: Client, world: StockWorld) -> None:
    rows = [["ID карточки", "Артикул товара"], [world.mug.pk, "MUG-SPARE"], [world.dress.pk, "DRESS-1"]]
    response = manager.post("/catalog/import/", {"kind": "links", "file": _csv_upload(rows, "links.csv")})
    assert [(c.old, c.new) for c in response.context["plan"].changes] == [("—", "MUG-SPARE")]
    manager.post("/catalog/import/confirm/", {"token": response.context["token"]})
    mug = Listing.objects.get(pk=world.mug.pk)
    assert mug.product.article == "MUG-SPARE" and mug.link_source == Listing.LinkSource.MANUAL
    assert AuditEvent.objects.filter(action="listing.link").count() == 1


def test_an_unchanged_file_changes_nothing(manager: Client, world: StockWorld) -> None:
    exported = _csv(manager.get("/catalog/export/listings.csv"))[1]
    response = manager.post("/catalog/import/", {"kind": "content", "file": _csv_upload(exported, "cards.csv")})
    assert response.status_code == 302
    assert not OutboxChange.objects.exists()


@pytest.mark.parametrize(
    "upload, message",
    [
        (SimpleUploadedFile("cards.pdf", b"%PDF-1.4"), "только файлы .xlsx и .csv"),
        (SimpleUploadedFile("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "Книга Excel (.xlsx)"),
        (SimpleUploadedFile("broken.xlsx", b"PK\x03\x04not a zip"), "не читается как книга Excel"),
        (SimpleUploadedFile("empty.csv", b""), "файл пуст"),
        (SimpleUploadedFile("cards.csv", "ID карточки;Бренд\r\n1;x".encode()), "нет ни столбца «Название»"),
    ],
)
def test_wrong_files_are_refused_with_a_clear_message(
    manager: Client, world: StockWorld, upload: SimpleUploadedFile, message: str
) -> None:
    response = manager.post("/catalog/import/", {"kind": "content", "file": upload})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_file_over_the_size_limit_is_refused(manager: Client, world: StockWorld, monkeypatch: Any) -> None:
    monkeypatch.setattr(files, "MAX_UPLOAD_BYTES", 100)
    upload = _csv_upload([["ID карточки", "Название"]] + [[world.dress.pk, "x" * 50]] * 5)
    response = manager.post("/catalog/import/", {"kind": "content", "file": upload})
    assert response.status_code == 400
    assert "можно не больше" in response.content.decode()


def test_a_windows_1251_csv_with_commas_is_read(manager: Client, world: StockWorld) -> None:
    upload = SimpleUploadedFile("cards.csv", f"ID карточки,Название\r\n{world.dress.pk},Платье новое".encode("cp1251"))
    response = manager.post("/catalog/import/", {"kind": "content", "file": upload})
    assert [c.new for c in response.context["plan"].changes] == ["Платье новое"]


def test_apply_is_one_transaction_a_refused_change_undoes_all(world: StockWorld) -> None:
    user = make_user(Role.MANAGER)
    good = {"card_id": world.dress.pk, "warehouse_id": world.wb_own.pk, "size_id": "111", "quantity": 4}
    fbo = {"card_id": world.dress.pk, "warehouse_id": world.wb_fbo.pk, "size_id": "222", "quantity": 4}
    with pytest.raises(CatalogChangeError):
        apply_plan(ImportKind.STOCK, [{"values": good}, {"values": fbo}], user)
    assert not OutboxChange.objects.exists() and not AuditEvent.objects.filter(action="catalog.import").exists()


def test_an_analyst_cannot_import(world: StockWorld) -> None:
    analyst = client_for(make_user(Role.ANALYST))
    upload = _csv_upload([["ID карточки", "Название"], [world.dress.pk, "Новое"]])
    assert analyst.post("/catalog/import/", {"kind": "content", "file": upload}).status_code == 403
    assert not OutboxChange.objects.exists()


def test_the_catalogue_list_links_its_export_with_the_filter_on_screen(manager: Client, world: StockWorld) -> None:
    html = manager.get("/catalog/?marketplace=ozon&q=MUG").content.decode()
    assert "/catalog/export/listings.csv?marketplace=ozon&amp;q=MUG" in html
    assert "/catalog/import/?kind=content" in html
    analyst_html = client_for(make_user(Role.ANALYST)).get("/catalog/").content.decode()
    assert "/catalog/export/listings.xlsx" in analyst_html and "/catalog/import/" not in analyst_html
