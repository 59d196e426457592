"""Browser journey over the reconciliation with what the marketplaces paid (issue 14 point 5): an analyst
opens it from the analytics tabs, widens the period, filters a kind of discrepancy, opens the order, and
downloads the list to take to the marketplace's support."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from core.roles import Role
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the Chromium fixture)
from tests.test_browser_catalog import _login, _russian, _user  # noqa: F401  (Russian, the sign-in)
from tests.test_reconciliation import world  # noqa: F401  (the fixed data set)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_analyst_filters_the_discrepancies_and_downloads_them(
    browser_page: Any, live_server: Any, django_user_model: Any, world: dict[str, Any],  # noqa: F811
) -> None:
    _user(django_user_model, "anna", Role.ANALYST)
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, live_server, "anna")

    page.goto(f"{live_server.url}/analytics/profit/")
    page.get_by_role("link", name="Сверка с выплатами").click()
    page.wait_for_url("**/analytics/reconciliation/**")
    assert page.locator("h1").inner_text() == "Сверка с выплатами"
    page.select_option("select[name=days]", "90")
    page.wait_for_url("**days=90**")
    summary = page.locator("#reconciliation-summary")
    ozon = summary.locator("tbody tr", has_text="Ozon").inner_text()
    assert "3\u202f249,99" in ozon and "2\u202f200,00" in ozon and "1\u202f206,66" in ozon
    assert page.locator("#discrepancies tbody tr").count() == 8
    assert page.get_by_role("button", name="Пересчитать сейчас").count() == 0  # reads and exports only
    page.screenshot(path=str(SCREENSHOTS / "analytics_reconciliation.png"), full_page=True)

    page.select_option("select[name=kind]", "commission_high")
    page.wait_for_url("**kind=commission_high**")
    rows = page.locator("#discrepancies tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert "Комиссия выше тарифа" in row and "тариф 15%" in row and "36,00" in row

    with page.expect_download() as download:
        page.locator("#export-csv").click()
    text = download.value.path().read_bytes().decode("utf-8-sig")
    header, *lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert header[4] == "Расхождение" and len(lines) == 1
    assert (lines[0][2], lines[0][4], lines[0][5], lines[0][6], lines[0][7], lines[0][10]) == (
        "O-4", "Комиссия выше тарифа", "-180,00", "-216,00", "36,00", "OZ-4")

    rows.first.locator("a", has_text="O-4").click()
    page.wait_for_url(f"**/orders/{world['orders']['O-4'].pk}/")
