"""Sales and profit, ABC × XYZ and the overview, checked against figures computed by hand on a small
fixed data set (to the kopeck), through the real ingests and roll-ups."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from analytics import finance_rollup
from analytics.abc import abc_classes, variation, xyz_class
from analytics.ingest import ingest_finance
from analytics.models import FinanceDaily
from analytics.period import Period
from analytics.profit import profit_report
from catalog.models import Listing, Product
from core.roles import Role
from dashboard.selectors import overview
from integrations.base import FeeDTO, FinanceOperationDTO, OrderDTO, OrderLineDTO
from orders.ingest import ingest_orders
from orders.models import OrderStatus, Scheme
from pricing.models import LegalEntity, LegalEntityAccount
from tests.foundation_support import client_for, compile_translations, make_account, make_user

pytestmark = pytest.mark.django_db


def _order(external_id: str, offer: str, qty: int, price: str, at: Any, status: str = OrderStatus.NEW) -> OrderDTO:
    return OrderDTO(
        external_id=external_id, scheme=Scheme.FBS, status=status, raw_status=status, ordered_at=at,
        lines=(OrderLineDTO(line_key="1", offer_id=offer, quantity=qty, price=D(price), currency="RUB"),),
        currency="RUB", total_amount=D(price) * qty,
    )


def _operation(external_id: str, offer: str, qty: int, sale: str, at: Any, **fees: str) -> FinanceOperationDTO:
    lines = tuple(FeeDTO(kind=kind, name=kind.title(), amount=-D(value)) for kind, value in fees.items())
    amount = D(sale) + sum((fee.amount for fee in lines), D(0))
    return FinanceOperationDTO(
        external_id=external_id, operation_type="sale" if qty else "service", operation_at=at, amount=amount,
        currency="RUB", offer_id=offer, quantity=qty, sale_amount=D(sale), fees=lines,
    )


@pytest.fixture
def dataset() -> dict[str, Any]:
    """Yesterday: SKU-1 (cost 100.00) 2 × 500.00, SKU-2 (no cost) 1 × 333.33, one cancelled order;
    the finance reports: commission, logistics, acquiring, an account-level storage charge. The
    account's legal entity pays УСН 6 % of revenue."""
    account = make_account("ozon", name="Ozon main")
    entity = LegalEntity.objects.create(name="ИП Иванов", tax_regime="usn_income")
    LegalEntityAccount.objects.create(account=account, legal_entity=entity)
    one = Product.objects.create(article="A-1", name="Чайник", brand="Brand1", cost_price=D("100.00"))
    two = Product.objects.create(article="A-2", name="Кружка", brand="Brand2")
    Listing.objects.create(account=account, external_id="1", offer_id="SKU-1", product=one, category="Кухня")
    Listing.objects.create(account=account, external_id="2", offer_id="SKU-2", product=two, category="Посуда")
    at = timezone.now() - timedelta(days=1)
    with transaction.atomic():
        ingest_orders(account.pk, [
            _order("O1", "SKU-1", 2, "500.00", at), _order("O2", "SKU-2", 1, "333.33", at),
            _order("O3", "SKU-1", 1, "500.00", at, OrderStatus.CANCELLED),
        ])
        ingest_finance(account.pk, [
            _operation("F1", "SKU-1", 2, "1000.00", at, commission="150.00", logistics="80.50", acquiring="15.25"),
            _operation("F2", "SKU-2", 1, "333.33", at, commission="50.00"),
            _operation("F3", "", 0, "0", at, storage="12.34"),
        ])
    return {"account": account, "one": one, "two": two, "at": at}


def _week() -> Period:
    today = timezone.localdate()
    return Period(today - timedelta(days=6), today, 7)


def test_profit_per_product_after_every_fee_and_tax(dataset: dict[str, Any]) -> None:
    report = profit_report(_week(), "product")
    by_label = {g.label: g.figures for g in report.groups}
    kettle = by_label["Чайник"]
    assert (kettle.orders, kettle.units, kettle.predicted, kettle.accrued) == (1, 2, D("1000.00"), D("1000.00"))
    assert (kettle.fee("commission"), kettle.fee("logistics"), kettle.fee("acquiring")) == (
        D("150.00"), D("80.50"), D("15.25"))
    assert (kettle.fees_total, kettle.paid, kettle.cost, kettle.tax) == (
        D("245.75"), D("754.25"), D("200.00"), D("60.00"))
    assert kettle.profit == D("494.25") and kettle.margin == D("49.4")
    mug = by_label["Кружка"]
    # No cost price: flagged, not assumed; УСН 6 % of 333.33 = 19.9998 → 20.00.
    assert (mug.paid, mug.cost, mug.tax, mug.profit, mug.cost_unknown) == (
        D("283.33"), D("0"), D("20.00"), D("263.33"), 1)
    charges = next(g for g in report.groups if g.key == f"a{dataset['account'].pk}:")  # no article: storage
    assert (charges.label, charges.figures.fee("storage"), charges.figures.profit) == (
        "Удержания без артикула", D("12.34"), D("-12.34"))
    assert (report.total.paid, report.total.profit) == (D("1025.24"), D("745.24"))


@pytest.mark.parametrize(("dimension", "expected"), [
    ("brand", {"Brand1": D("494.25"), "Brand2": D("263.33"), "": D("-12.34")}),  # "": no brand (the storage)
    ("category", {"Кухня": D("494.25"), "Посуда": D("263.33"), "": D("-12.34")}),
    ("marketplace", {"ozon": D("745.24")}),
    ("account", {"Ozon main": D("745.24")}),
])
def test_profit_by_dimension(dataset: dict[str, Any], dimension: str, expected: dict[str, D]) -> None:
    report = profit_report(_week(), dimension)
    assert {g.label: g.figures.profit for g in report.groups} == expected


def test_the_finance_roll_up_follows_re_reads_and_equals_the_rebuild(dataset: dict[str, Any]) -> None:
    account, at = dataset["account"], dataset["at"]

    def rows() -> list[tuple[Any, ...]]:
        return sorted(FinanceDaily.objects.filter(account=account).values_list(
            "day", "offer_id", "operations", "quantity", "sale_amount", "payout", "commission", "storage"))

    with transaction.atomic():  # a re-read changes one fee: the roll-up moves by the difference only
        ingest_finance(account.pk, [_operation("F1", "SKU-1", 2, "1000.00", at, commission="160.00",
                                               logistics="80.50", acquiring="15.25")])
    incremental = rows()
    day = timezone.localtime(at).date()
    assert (day, "SKU-1", 1, 2, D("1000.00"), D("744.25"), D("-160.00"), D("0.00")) in incremental
    finance_rollup.rebuild(account.pk)
    assert rows() == incremental
    FinanceDaily.objects.all().delete()
    call_command("rebuild_sales_rollup", stdout=io.StringIO())
    assert rows() == incremental


def test_abc_classes_by_hand() -> None:
    measures = {"a": D(50), "b": D(30), "c": D(15), "d": D(5), "e": D(0), "f": D(-3)}
    assert abc_classes(measures) == {"a": "A", "b": "A", "c": "B", "d": "C", "e": "C", "f": "C"}


def test_xyz_by_hand() -> None:
    assert variation([10, 10, 10, 10]) == D("0.0") and xyz_class(D(0)) == "X"
    assert variation([10, 12, 8, 10]) == D("14.1") and xyz_class(D("14.1")) == "Y"
    assert variation([0, 0, 20, 0]) == D("173.2") and xyz_class(D("173.2")) == "Z"
    assert variation([0, 0]) is None and xyz_class(None) == "Z"
    assert variation([2, -2]) is None and variation([1, -3]) is None  # returns outweigh sales


def test_abc_page_matrix_and_cell_list(dataset: dict[str, Any]) -> None:
    compile_translations()
    client = client_for(make_user(Role.ANALYST))
    response = client.get("/analytics/abc/?days=7")
    matrix = response.context["matrix"]
    # Revenue (orders net of returns): 1000.00 is 75 % → A; 333.33 starts at 75 % → A as well.
    assert {i.group.label: i.abc for i in matrix.items} == {"Чайник": "A", "Кружка": "A"}
    # Sales in one week of seven days' single whole week: one week, no variation → X.
    assert matrix.weeks == 1 and {i.cell for i in matrix.items} == {"AX"}
    page = client.get("/analytics/abc/?days=7&cell=AX").content.decode()
    assert "Чайник" in page and "Кружка" in page
    by_profit = client.get("/analytics/abc/?days=30&measure=profit").context["matrix"]
    assert {i.group.label: (i.measure, i.abc) for i in by_profit.items} == {
        "Чайник": (D("494.25"), "A"), "Кружка": (D("263.33"), "A")}  # the mug starts at 65.2 % of 757.58
    assert {i.group.label: i.xyz for i in by_profit.items} == {"Чайник": "Z", "Кружка": "Z"}  # 1 week of 4 sold


def test_profit_page_and_exports(dataset: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    compile_translations()
    client = client_for(make_user(Role.ANALYST))
    client.get("/analytics/profit/?days=7")
    with django_assert_max_num_queries(12):
        page = client.get("/analytics/profit/?days=7&by=product").content.decode()
    assert "Продажи и прибыль" in page and "494,25\u00a0₽" in page and "745,24\u00a0₽" in page
    workbook = load_workbook(io.BytesIO(b"".join(client.get("/analytics/profit.xlsx?days=7").streaming_content)))
    table, by_day = workbook.worksheets
    rows = list(table.iter_rows(values_only=True))
    assert rows[0][0] == "Товар" and rows[-1][0] == "Итого"
    header = list(rows[0])
    assert D(str(rows[-1][header.index("Прибыль")])) == D("745.24")
    assert by_day.max_row == 8 and by_day._charts  # seven days and their chart
    text = b"".join(client.get("/analytics/profit.csv?days=7&by=brand").streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0][0] == "Бренд"
    assert lines[1][:7] == ["Brand1", "", "1", "2", "0", "1000,00", "1000,00"]


def test_overview_period_figures_and_links(dataset: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    compile_translations()
    result = overview(_week())
    assert result is not None
    total = result.total
    assert (total.period.orders, total.period.revenue, total.period.profit) == (2, D("1333.33"), D("745.24"))
    assert total.previous.orders == 0 and total.orders_change is None
    assert result.money_at_risk is None or isinstance(result.money_at_risk, int)
    assert len(result.chart["labels"]) == 7 and result.chart["revenue"][-2] == "1333.33"
    client = client_for(make_user(Role.ANALYST))
    client.get("/?days=7")  # warm the minute's cache
    with django_assert_max_num_queries(10):
        page = client.get("/?days=7").content.decode()
    assert "745,24\u00a0₽" in page and "1\u202f333,33\u00a0₽" in page
    assert "/reviews/?answered=no" in page and "stock=low" in page and "stock=out" in page
    start = _week().start.isoformat()
    assert f"/orders/?ordered_from={start}" in page


def test_overview_compares_with_the_previous_period(dataset: dict[str, Any]) -> None:
    account, at = dataset["account"], dataset["at"]
    with transaction.atomic():
        ingest_orders(account.pk, [_order("P1", "SKU-1", 1, "500.00", at - timedelta(days=7))])
    cache.clear()
    result = overview(_week())
    assert result is not None
    assert (result.total.previous.orders, result.total.period.orders, result.total.orders_change) == (1, 2, D(100))
    assert result.total.revenue_change == D("167")  # 1333.33 against 500.00


def test_a_long_period_export_runs_as_a_job_with_progress_and_a_download(
    dataset: dict[str, Any], django_capture_on_commit_callbacks: Any, eager_celery: None,
) -> None:
    compile_translations()
    owner, other = make_user(Role.ANALYST), make_user(Role.ANALYST)
    client = client_for(owner)
    start = (timezone.localdate() - timedelta(days=120)).isoformat()
    end = timezone.localdate().isoformat()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(f"/analytics/profit.xlsx?start={start}&end={end}&by=marketplace")
    assert response.status_code == 302 and len(callbacks) == 1
    job_url = response["Location"]
    page = client.get(job_url).content.decode()
    assert "Готово" in page and "100" in page
    status = client.get(job_url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in status  # finished: the fragment stops polling
    download = client.get(job_url + "download/")
    workbook = load_workbook(io.BytesIO(download.content))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == "ozon" and D(str(rows[-1][list(rows[0]).index("Прибыль")])) == D("745.24")
    assert workbook.worksheets[1].max_row == 122  # the chart's data: every day of the 121
    assert client_for(other).get(job_url).status_code == 404  # someone else's report


def test_weekly_report_email(dataset: dict[str, Any], settings: Any, mailoutbox: list[Any]) -> None:
    from analytics.weekly import send_weekly_report

    compile_translations()
    settings.ANALYTICS_WEEKLY_REPORT_RECIPIENTS = []
    assert send_weekly_report() == 0 and mailoutbox == []
    settings.ANALYTICS_WEEKLY_REPORT_RECIPIENTS = ["owner@example.com"]
    assert send_weekly_report() == 1
    message = mailoutbox[0]
    assert message.to == ["owner@example.com"]
    assert "прибыль 745,24\u00a0₽" in message.body  # yesterday is in last week
    name, content, _mime = message.attachments[0]
    assert name.endswith(".xlsx") and load_workbook(io.BytesIO(content)).worksheets[0].max_row == 5


def test_the_weekly_report_is_on_the_beat_schedule() -> None:
    from config.schedule import BEAT_SCHEDULE

    assert BEAT_SCHEDULE["analytics-weekly-report"]["task"] == "analytics.send_weekly_report"
