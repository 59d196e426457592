"""Cost price history by effective date, the form-side service, and all-or-nothing file import."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from catalog.models import CostPriceHistory, Product
from core.models import AuditEvent
from pricing.costs import CostError, cost_at, costs_at, import_costs, set_cost, today

pytestmark = pytest.mark.django_db
D = Decimal


def product(article: str = "A-1") -> Product:
    return Product.objects.create(article=article, name=article)


def test_the_cost_at_a_date_is_the_newest_effective_on_or_before_it():
    p = product()
    set_cost(p, "100.00", date(2026, 1, 1))
    set_cost(p, "120.50", date(2026, 3, 1))
    assert cost_at(p.pk, date(2025, 12, 31)) is None
    assert cost_at(p.pk, date(2026, 1, 1)) == D("100.00")
    assert cost_at(p.pk, date(2026, 2, 28)) == D("100.00")
    assert cost_at(p.pk, date(2026, 3, 1)) == D("120.50")
    assert costs_at([p.pk], date(2026, 2, 1)) == {p.pk: D("100.00")}


def test_setting_a_cost_mirrors_todays_cost_on_the_product_and_audits_it():
    p = product()
    set_cost(p, "99,90")  # a comma as Russian users type it
    set_cost(p, "150", date(2099, 1, 1))  # future: does not change today's
    p.refresh_from_db()
    assert p.cost_price == D("99.90")
    event = AuditEvent.objects.filter(action="cost_price.set").order_by("id").last()
    assert event is not None and event.details["new"] == "150.00"


def test_the_same_date_again_replaces_that_cost():
    p = product()
    set_cost(p, "10", date(2026, 1, 1))
    set_cost(p, "11", date(2026, 1, 1))
    assert list(CostPriceHistory.objects.values_list("cost_price", flat=True)) == [D("11.00")]


@pytest.mark.parametrize("bad", ["", "abc", "-1", "1.005", "NaN"])
def test_a_bad_cost_is_refused(bad):
    with pytest.raises(CostError):
        set_cost(product(), bad)


def test_a_csv_import_stores_every_row_with_its_date():
    a, b = product("A-1"), product("B-2")
    content = "артикул;себестоимость;дата\nA-1;100,50;01.02.2026\nB-2;200;\nA-1;110;2026-03-01\n".encode()
    result = import_costs(content, "costs.csv")
    assert result.ok and result.imported == 3
    assert cost_at(a.pk, date(2026, 2, 15)) == D("100.50")
    assert cost_at(a.pk, date(2026, 3, 2)) == D("110.00")
    assert cost_at(b.pk, today()) == D("200.00")


def test_an_import_with_any_bad_row_is_rejected_whole_naming_rows_and_columns():
    product("A-1")
    content = (
        b"article,cost,date\n"
        b"A-1,100,2026-01-01\n"  # fine, but must not be stored: the file is rejected whole
        b"NOPE,5,2026-01-01\n"
        b"A-1,-3,2026-01-02\n"
        b"A-1,7,31/12/2026\n"
        b"A-1,8,2026-01-01\n"
    )
    result = import_costs(content, "costs.csv")
    assert not result.ok and result.imported == 0
    assert [(p.row, p.column) for p in result.problems] == [(3, "article"), (4, "cost"), (5, "date"), (6, "article")]
    assert "NOPE" in str(result.problems[0]) and "row 2" in str(result.problems[3])
    assert not CostPriceHistory.objects.exists()


def test_an_import_without_the_needed_columns_is_rejected():
    result = import_costs(b"name,price\nx,1\n", "costs.csv")
    assert [(p.row, p.column) for p in result.problems] == [(1, "article"), (1, "cost")]


def test_an_xlsx_import_reads_numbers_and_dates_cells():
    p = product("A-1")
    book = Workbook()
    sheet = book.active
    sheet.append(["Артикул", "Себестоимость", "Дата"])
    sheet.append(["A-1", 123.45, date(2026, 1, 10)])
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_costs(buffer.getvalue(), "costs.xlsx")
    assert result.ok, result.problems
    assert cost_at(p.pk, date(2026, 1, 10)) == D("123.45")


def test_a_broken_xlsx_is_one_file_problem():
    result = import_costs(b"not a zip", "costs.xlsx")
    assert not result.ok and result.problems[0].row == 1
