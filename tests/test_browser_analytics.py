"""Browser journey over the analytics (issue 14): the overview with its period figures and trend
chart, from its profit figure to the sales and profit report, its XLSX export, and the ABC × XYZ matrix."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from analytics.ingest import ingest_finance
from core.roles import Role
from orders.ingest import ingest_orders
from tests.test_analytics_reports import _operation, _order, dataset  # noqa: F401  (the fixed data set)
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Sekret-Pass-2026"


@pytest.fixture(scope="module", autouse=True)
def _russian() -> None:
    from tests.foundation_support import compile_translations

    compile_translations()


def _analyst(django_user_model):
    from core.roles import ensure_roles, set_role

    ensure_roles()
    user = django_user_model.objects.create_user("anna", password=PASSWORD)
    set_role(user, Role.ANALYST)
    return user


def _more_days(account) -> None:
    """Sales on the days before the fixed data set, so the chart has a shape (and the previous period)."""
    now = timezone.now()
    with transaction.atomic():
        ingest_orders(account.pk, [
            _order(f"H{n}", "SKU-1", 1 + n % 3, "500.00", now - timedelta(days=2 + n)) for n in range(50)
        ])
        ingest_finance(account.pk, [
            _operation(f"HF{n}", "SKU-1", 1, "500.00", now - timedelta(days=2 + n), commission="75.00",
                       logistics="40.00") for n in range(25)
        ])


def test_analyst_reads_the_overview_the_profit_report_and_exports_it(
    browser_page, live_server, django_user_model, dataset,  # noqa: F811
) -> None:
    _more_days(dataset["account"])
    _analyst(django_user_model)
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "anna")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/?days=30")
    total = page.locator("#overview-total")
    assert total.get_by_text("Прибыль").is_visible() and total.get_by_text("Вопросы без ответа").is_visible()
    page.locator("#trend").wait_for()  # no string predicates: the CSP refuses the eval they need
    box = page.locator("#trend").bounding_box()
    assert box is not None and box["height"] > 100
    page.screenshot(path=str(SCREENSHOTS / "analytics_overview.png"), full_page=True)

    total.locator("dt:text-is('Прибыль') + dd a").click()
    page.wait_for_url("**/analytics/profit/**")
    assert page.locator("h1").inner_text() == "Продажи и прибыль"
    page.select_option("select[name=by]", "product")
    page.wait_for_url("**by=product**")
    row = page.locator("#profit-table tbody tr", has_text="Кружка")
    assert "263,33" in row.inner_text()  # paid 283.33 − УСН 6 % (20.00), no cost price
    page.screenshot(path=str(SCREENSHOTS / "analytics_profit.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_text("Скачать XLSX").click()
    workbook = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    mug = next(r for r in rows if r[0] == "Кружка")
    assert D(str(mug[header.index("Прибыль")])) == D("263.33")
    assert workbook.worksheets[1].title == "По дням"

    page.get_by_role("link", name="ABC × XYZ").click()
    page.wait_for_url("**/analytics/abc/**")
    page.locator("#abc-matrix a", has_text="CZ").click()  # the mug: one sale among the kettle's fifty
    page.wait_for_url("**cell=CZ**")
    assert page.locator("#abc-items").get_by_text("Кружка").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "analytics_abc.png"), full_page=True)
