"""Reconciliation with what the marketplaces paid (issue 14 point 5), checked against figures computed by
hand on a small fixed data set of the three marketplaces (to the kopeck): every kind of discrepancy, the
summary per marketplace, the page's queries, its exports, the refresh on demand and the API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from analytics.ingest import ingest_finance
from analytics.models import Discrepancy, ReconciliationRun
from analytics.period import Period
from analytics.reconciliation import reconciliation, refresh_account, refresh_due
from catalog.models import Listing
from core.models import AuditEvent
from core.roles import Role
from integrations.base import FeeDTO, FinanceOperationDTO
from integrations.models import SyncRun
from orders.models import Order, OrderLine, OrderStatus, Return, Scheme
from pricing.models import FeeRate
from tests.foundation_support import client_for, compile_translations, make_account, make_user

pytestmark = pytest.mark.django_db

K = Discrepancy.Kind


def _order(account: Any, external_id: str, lines: list[tuple[str, int, str, str | None]], *, days_ago: int,
           status: str = OrderStatus.DELIVERED, delivered_days_ago: int | None = None, srid: str = "",
           listing: Listing | None = None) -> Order:
    """An order placed `days_ago` days ago, delivered (its last status change) `delivered_days_ago` ago;
    lines of (article, quantity, line price, seller's price)."""
    now = timezone.now()
    changed = delivered_days_ago if delivered_days_ago is not None else days_ago
    order = Order.objects.create(
        account=account, external_id=external_id, order_number=external_id, scheme=Scheme.FBS, status=status,
        ordered_at=now - timedelta(days=days_ago), status_changed_at=now - timedelta(days=changed), srid=srid,
    )
    for n, (offer, quantity, price, seller) in enumerate(lines, start=1):
        OrderLine.objects.create(order=order, line_key=str(n), offer_id=offer, quantity=quantity, price=D(price),
                                 seller_price=D(seller) if seller else None, listing=listing)
    return order


def _op(external_id: str, order: str, sale: str, days_ago: int, **fees: str) -> FinanceOperationDTO:
    """An operation: the sale accrued, fees as the reports sign them (a charge negative), amount = their sum."""
    lines = tuple(FeeDTO(kind=kind, name=kind, amount=D(value)) for kind, value in fees.items())
    return FinanceOperationDTO(
        external_id=external_id, operation_type="operation", operation_at=timezone.now() - timedelta(days=days_ago),
        amount=D(sale) + sum((fee.amount for fee in lines), D(0)), currency="RUB", order_external_id=order,
        quantity=1 if D(sale) else 0, sale_amount=D(sale), fees=lines,
    )


@pytest.fixture
def world() -> dict[str, Any]:
    """Ozon, WB and YM accounts with one order or operation per case (see each test for the hand figures)."""
    ozon, wb, ym = make_account("ozon", name="Озон"), make_account("wildberries", name="ВБ"), make_account(
        "yandex_market", name="Маркет")
    kettle = Listing.objects.create(account=ozon, external_id="1", offer_id="SKU-A", category="Кухня")
    # Ozon's commission tariff for the category: 15 % (an older 10 % rate is superseded; another
    # category's 30 % does not apply).
    today = timezone.localdate()
    FeeRate.objects.create(account=ozon, category="Кухня", kind="commission", name="Комиссия", percent=D("10"),
                           effective_from=today - timedelta(days=400))
    FeeRate.objects.create(account=ozon, category="Кухня", kind="commission", name="Комиссия", percent=D("15"),
                           effective_from=today - timedelta(days=200))
    FeeRate.objects.create(account=ozon, category="Одежда", kind="commission", name="Комиссия", percent=D("30"),
                           effective_from=today - timedelta(days=200))
    orders = {
        # Ozon: paid as expected (2 × 500.00 at the seller's price; the line price 520.00 is not the seller's).
        "O-1": _order(ozon, "O-1", [("SKU-A", 2, "520.00", "500.00")], days_ago=25, delivered_days_ago=20,
                      listing=kettle),
        # Delivered 20 days ago, nothing from the finance reports: no payout (799.99).
        "O-2": _order(ozon, "O-2", [("SKU-A", 1, "799.99", None)], days_ago=25, delivered_days_ago=20,
                      listing=kettle),
        # Delivered 3 days ago: not due yet.
        "O-3": _order(ozon, "O-3", [("SKU-A", 1, "250.00", None)], days_ago=5, delivered_days_ago=3,
                      listing=kettle),
        # Charged 18 % (216.00) where the tariff says 15 % (180.00): 36.00 above.
        "O-4": _order(ozon, "O-4", [("SKU-A", 1, "1200.00", "1200.00")], days_ago=10, delivered_days_ago=8,
                      listing=kettle),
        # Cancelled, yet charged 45.00 of logistics: a deduction with no sale.
        "O-5": _order(ozon, "O-5", [("SKU-A", 1, "400.00", None)], days_ago=10, status=OrderStatus.CANCELLED),
        # WB: accrued 1450.00 for a 1500.00 order: 50.00 short.
        "W-1": _order(wb, "W-1", [("WB-A", 1, "1600.00", "1500.00")], days_ago=20, srid="srid-1"),
        # Sold and then reversed (a return) with no return recorded: 700.00.
        "W-2": _order(wb, "W-2", [("WB-B", 1, "700.00", "700.00")], days_ago=20, srid="srid-2"),
        # Sold, returned and recorded: nothing to claim.
        "W-3": _order(wb, "W-3", [("WB-C", 1, "300.00", "300.00")], days_ago=20, srid="srid-3"),
        # YM: two units at 450.50 (no seller's price reported: the line price), paid.
        "Y-1": _order(ym, "Y-1", [("YM-A", 2, "450.50", None)], days_ago=20),
        # Delivered 30 days ago; the report has only a logistics charge, no sale: no payout (2000.00).
        "Y-3": _order(ym, "Y-3", [("YM-B", 1, "2000.00", None)], days_ago=35, delivered_days_ago=30),
    }
    Return.objects.create(account=wb, external_id="R-3", order=orders["W-3"], order_external_id="W-3",
                          offer_id="WB-C", amount=D("300.00"), returned_at=timezone.now() - timedelta(days=15))
    with transaction.atomic():
        ingest_finance(ozon.pk, [
            _op("OZ-1", "O-1", "1000.00", 19, commission="-150.00", logistics="-70.00"),
            _op("OZ-4", "O-4", "1200.00", 7, commission="-216.00"),
            _op("OZ-5", "O-5", "0", 9, logistics="-45.00"),
            _op("OZ-P", "", "0", 6, penalty="-500.00"),  # a fine naming no order
            _op("OZ-S", "", "0", 6, storage="-12.34"),  # the account's storage: expected
        ])
        ingest_finance(wb.pk, [
            _op("WB-1", "srid-1", "1450.00", 15, commission="-217.50"),
            _op("WB-2a", "srid-2", "700.00", 15, commission="-105.00"),
            _op("WB-2b", "srid-2", "-700.00", 10, commission="105.00"),
            _op("WB-3a", "srid-3", "300.00", 15, commission="-45.00"),
            _op("WB-3b", "srid-3", "-300.00", 12, commission="45.00"),
            _op("WB-9", "srid-999", "900.00", 14, commission="-135.00"),  # not one of our orders
        ])
        ingest_finance(ym.pk, [
            _op("YM-1", "Y-1", "901.00", 17, commission="-90.10", acquiring="-9.01"),
            _op("YM-3", "Y-3", "0", 28, logistics="-150.00"),
        ])
    for account in (ozon, wb, ym):
        refresh_account(account.pk)
    return {"ozon": ozon, "wb": wb, "ym": ym, "orders": orders}


def _quarter() -> Period:
    today = timezone.localdate()
    return Period(today - timedelta(days=89), today, 90)


def _found() -> set[tuple[str, str, str, D, D, D]]:
    return set(Discrepancy.objects.values_list("account__name", "kind", "order_external_id", "expected", "actual",
                                               "difference"))


def test_every_kind_of_discrepancy_to_the_kopeck(world: dict[str, Any]) -> None:
    assert _found() == {
        ("Озон", K.NO_PAYOUT, "O-2", D("799.99"), D("0.00"), D("799.99")),
        ("Озон", K.COMMISSION_HIGH, "O-4", D("-180.00"), D("-216.00"), D("36.00")),
        ("Озон", K.UNEXPECTED_CHARGE, "", D("0.00"), D("-500.00"), D("500.00")),
        ("Озон", K.UNEXPECTED_CHARGE, "O-5", D("0.00"), D("-45.00"), D("45.00")),
        ("ВБ", K.UNDERPAID, "W-1", D("1500.00"), D("1450.00"), D("50.00")),
        ("ВБ", K.RETURN_UNRECORDED, "W-2", D("0.00"), D("-700.00"), D("700.00")),
        ("ВБ", K.UNKNOWN_ORDER, "srid-999", D("0.00"), D("765.00"), D("-765.00")),
        ("Маркет", K.NO_PAYOUT, "Y-3", D("2000.00"), D("0.00"), D("2000.00")),
    }
    rows = {row.kind + row.order_external_id: row for row in Discrepancy.objects.all()}
    assert rows["commission_highO-4"].rate == D("15")
    assert rows["commission_highO-4"].order_id == world["orders"]["O-4"].pk
    assert rows["return_unrecordedW-2"].operation_ids == ["WB-2b"]
    assert rows["unknown_ordersrid-999"].order_id is None and rows["unknown_ordersrid-999"].operation_ids == ["WB-9"]
    assert rows["unexpected_charge"].operation_ids == ["OZ-P"]
    assert rows["unexpected_chargeO-5"].operation_ids == ["OZ-5"]
    assert rows["no_payoutY-3"].operation_ids == ["YM-3"]  # the charge without a sale is named


def test_summary_per_marketplace_to_the_kopeck(world: dict[str, Any]) -> None:
    accounts = [world[name].pk for name in ("ozon", "wb", "ym")]
    report = reconciliation(_quarter(), accounts)
    by = {s.marketplace: s for s in report.marketplaces}
    ozon, wb, ym = by["ozon"], by["wildberries"], by["yandex_market"]
    # Ozon: delivered O-1..O-4 at 1000.00 + 799.99 + 250.00 + 1200.00; accrued 1000.00 + 1200.00;
    # paid 780.00 + 984.00 − 45.00 (the cancelled order's logistics) − 500.00 (the fine) − 12.34 (storage).
    assert (ozon.orders, ozon.predicted, ozon.accrued, ozon.paid) == (4, D("3249.99"), D("2200.00"), D("1206.66"))
    assert (ozon.fees["commission"], ozon.fees["logistics"], ozon.fees["penalty"], ozon.fees["storage"]) == (
        D("-366.00"), D("-115.00"), D("-500.00"), D("-12.34"))
    assert (ozon.fees_total, ozon.difference) == (D("993.34"), D("-1049.99"))
    assert (ozon.discrepancies, ozon.discrepancy_amount) == (4, D("1380.99"))
    # WB: predicted 1500.00 + 700.00 + (300.00 − 300.00 returned); accrued 1450.00 + 0 + 0 + 900.00 (the
    # unknown order); paid 1232.50 + 0 + 0 + 765.00; commission −217.50 − 135.00 (reversals net out).
    assert (wb.orders, wb.predicted, wb.accrued, wb.paid) == (3, D("2200.00"), D("2350.00"), D("1997.50"))
    assert wb.fees["commission"] == D("-352.50")
    assert (wb.discrepancies, wb.discrepancy_amount) == (3, D("-15.00"))
    # YM: 901.00 + 2000.00 predicted; 901.00 accrued; 801.89 − 150.00 paid.
    assert (ym.orders, ym.predicted, ym.accrued, ym.paid) == (2, D("2901.00"), D("901.00"), D("651.89"))
    assert (ym.fees["commission"], ym.fees["acquiring"], ym.fees["logistics"]) == (
        D("-90.10"), D("-9.01"), D("-150.00"))
    assert (report.total.predicted, report.total.accrued, report.total.paid) == (
        D("8350.99"), D("5451.00"), D("3856.05"))
    assert (report.total.discrepancies, report.total.discrepancy_amount) == (8, D("3365.99"))
    kinds = {k.kind: (k.count, k.amount) for k in report.kinds}
    assert kinds[K.NO_PAYOUT] == (2, D("2799.99")) and kinds[K.UNKNOWN_ORDER] == (1, D("-765.00"))
    assert kinds[K.UNEXPECTED_CHARGE] == (2, D("545.00"))
    # A week holds only the orders placed in it (O-3) and the operations of its days without our order.
    week = reconciliation(Period(timezone.localdate() - timedelta(days=6), timezone.localdate(), 7), accounts)
    ozon_week = {s.marketplace: s for s in week.marketplaces}["ozon"]
    assert (ozon_week.orders, ozon_week.predicted, ozon_week.paid, ozon_week.discrepancies) == (
        1, D("250.00"), D("-512.34"), 1)


def test_the_refresh_is_repeatable_and_follows_the_reports(world: dict[str, Any], settings: Any) -> None:
    before = _found()
    refresh_account(world["ozon"].pk)
    assert _found() == before
    # The payout arrives: O-2 is no longer unpaid. A shorter payout delay makes O-3 due.
    with transaction.atomic():
        ingest_finance(world["ozon"].pk, [_op("OZ-2", "O-2", "799.99", 1, commission="-120.00")])
    settings.RECONCILIATION_PAYOUT_DAYS = {"ozon": 2}
    refresh_account(world["ozon"].pk)
    ozon = {(kind, order) for name, kind, order, *_ in _found() if name == "Озон"}
    assert ozon == {(K.NO_PAYOUT, "O-3"), (K.COMMISSION_HIGH, "O-4"), (K.UNEXPECTED_CHARGE, ""),
                    (K.UNEXPECTED_CHARGE, "O-5")}
    # Within the tolerance, a difference is rounding: 36.00 above the tariff is not, 40.00 of tolerance is.
    settings.RECONCILIATION_TOLERANCE = "40.00"
    refresh_account(world["ozon"].pk)
    assert K.COMMISSION_HIGH not in {kind for _name, kind, *_ in _found()}


def test_the_beat_refreshes_accounts_whose_finance_ran_since(world: dict[str, Any]) -> None:
    now = timezone.now()
    first = refresh_due(now)
    assert len(first) == 3 and {run.status for run in first} == {ReconciliationRun.Status.DONE}
    assert sorted(run.discrepancies for run in first) == [1, 3, 4]
    assert refresh_due(now + timedelta(minutes=5)) == []  # nothing new
    SyncRun.objects.create(account=world["wb"], stream="finance", status="succeeded",
                           finished_at=now + timedelta(minutes=10))
    again = refresh_due(now + timedelta(minutes=15))
    assert [run.account_id for run in again] == [world["wb"].pk]
    assert len(refresh_due(now + timedelta(hours=25))) == 3  # once a day regardless


@pytest.fixture
def analyst_client() -> Any:
    compile_translations()
    return client_for(make_user(Role.ANALYST))


def test_page_figures_links_and_query_count(world: dict[str, Any], analyst_client: Any,
                                            django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(15):
        response = analyst_client.get("/analytics/reconciliation/?days=90")
    page = response.content.decode()
    assert response.status_code == 200 and "Сверка с выплатами" in page
    assert "Нет выплаты за доставленный заказ" in page and "Комиссия выше тарифа" in page
    assert f'href="/orders/{world["orders"]["O-4"].pk}/"' in page
    assert "3\u202f249,99" in page and "1\u202f206,66" in page  # Ozon's predicted and paid
    assert "Пересчитать" not in page  # an analyst reads and exports only
    filtered = analyst_client.get("/analytics/reconciliation/?days=90&marketplace=wildberries&kind=underpaid")
    text = filtered.content.decode()
    assert "W-1" in text and "O-2" not in text and "srid-999" not in text
    assert "Найдено: 1<" in text and "Найдено: 8<" in page  # the daily table's exact counts
    by_difference = analyst_client.get("/analytics/reconciliation/?days=90&sort=difference").content.decode()
    order = [by_difference.index(ref) for ref in ("Y-3", "O-2", "W-2", "srid-999")]
    assert order == sorted(order)


def test_page_queries_do_not_grow_with_the_rows(world: dict[str, Any], analyst_client: Any,
                                                django_assert_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    analyst_client.get("/analytics/reconciliation/?days=90")  # the first request of a session caches the role
    with CaptureQueriesContext(connection) as few:
        analyst_client.get("/analytics/reconciliation/?days=90")
    now = timezone.now()
    Discrepancy.objects.bulk_create([
        Discrepancy(account=world["ozon"], kind=K.UNKNOWN_ORDER, day=timezone.localdate(), occurred_at=now,
                    order_external_id=f"X-{n}", expected=D(0), actual=D(n), difference=-D(n), computed_at=now)
        for n in range(120)
    ])
    with django_assert_num_queries(len(few.captured_queries)):
        response = analyst_client.get("/analytics/reconciliation/?days=90")
    assert response.status_code == 200


def _csv_rows(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_exports_are_the_list_to_take_to_support(world: dict[str, Any], analyst_client: Any) -> None:
    response = analyst_client.get("/analytics/reconciliation.csv?days=90&sort=difference")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    header, *rows = _csv_rows(response)
    assert header == ["Маркетплейс", "Аккаунт", "Заказ", "Дата", "Расхождение", "Ожидалось", "Фактически",
                      "Разница", "Валюта", "Комиссия по тарифу, %", "Операции маркетплейса"]
    assert [row[2] for row in rows] == ["Y-3", "O-2", "W-2", "", "W-1", "O-5", "O-4", "srid-999"]
    y3 = rows[0]
    assert y3[0] == "Яндекс Маркет" and y3[4] == "Нет выплаты за доставленный заказ"
    assert (y3[5], y3[6], y3[7], y3[10]) == ("2000,00", "0,00", "2000,00", "YM-3")
    assert rows[6][9] == "15,00"
    wb_only = _csv_rows(analyst_client.get("/analytics/reconciliation.csv?days=90&marketplace=wildberries"))
    assert {row[2] for row in wb_only[1:]} == {"W-1", "W-2", "srid-999"}
    xlsx = analyst_client.get("/analytics/reconciliation.xlsx?days=90&kind=commission_high")
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 2 and values[1][2] == "O-4" and D(str(values[1][7])) == D("36.00")
    assert analyst_client.get("/analytics/reconciliation.pdf").status_code == 404


def test_refresh_on_demand_for_editors_only(world: dict[str, Any], analyst_client: Any, eager_celery: None,
                                            django_capture_on_commit_callbacks: Any) -> None:
    assert analyst_client.post("/analytics/reconciliation/refresh/").status_code == 403
    assert not ReconciliationRun.objects.exists()
    Discrepancy.objects.all().delete()
    manager = client_for(make_user(Role.MANAGER))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = manager.post("/analytics/reconciliation/refresh/", {"query": "days=90&kind=no_payout"})
    assert response.status_code == 302 and response["Location"] == "/analytics/reconciliation/?days=90&kind=no_payout"
    assert len(callbacks) == 1
    assert list(ReconciliationRun.objects.values_list("status", flat=True)) == [ReconciliationRun.Status.DONE] * 3
    assert len(_found()) == 8
    assert AuditEvent.objects.filter(action="reconciliation.refresh").count() == 1
    page = manager.get("/analytics/reconciliation/?days=90").content.decode()
    assert "Пересчитать" in page and "Рассчитано" in page


def test_api_lists_discrepancies_with_filters_and_cursor(world: dict[str, Any]) -> None:
    client = client_for(make_user(Role.ANALYST))
    body = client.get("/api/v1/discrepancies/?sort=difference&page_size=3").json()
    assert [row["order_external_id"] for row in body["results"]] == ["Y-3", "O-2", "W-2"]
    assert body["results"][0]["kind_label"] and body["results"][0]["difference"] == "2000.00"
    rest = client.get(body["next"]).json()
    assert [row["order_external_id"] for row in rest["results"]] == ["", "W-1", "O-5"]
    only = client.get("/api/v1/discrepancies/?marketplace=ozon&kind=commission_high").json()["results"]
    assert [(row["order"], row["rate"]) for row in only] == [(world["orders"]["O-4"].pk, "15.0000")]
