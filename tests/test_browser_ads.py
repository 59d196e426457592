"""Browser journey over advertising: from the profit report (its ad column) to the advertising tab,
its table per card and marketplace, and the next page, on the fixed data set of tests/test_ads.py."""

from __future__ import annotations

import pytest

from core.roles import Role
from tests.test_ads import dataset  # noqa: F401  (the fixed data set)
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the Chromium fixture)
from tests.test_browser_catalog import _login, _russian, _user  # noqa: F401  (Russian, the sign-in)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def text(locator) -> str:
    """The element's text with no-break spaces as plain ones (money is written with them)."""
    return str(locator.inner_text()).replace("\u00a0", " ").replace("\u202f", " ")


def test_analyst_follows_the_ad_spend_from_the_profit_report_to_the_cards(
    browser_page, live_server, django_user_model, dataset, monkeypatch,  # noqa: F811
) -> None:
    from analytics import ads

    monkeypatch.setattr(ads, "PAGE_SIZE", 2)
    _user(django_user_model, "olga", Role.ANALYST)
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, live_server, "olga")

    page.goto(f"{live_server.url}/analytics/profit/?days=7")
    kettle = text(page.locator("#profit-table tbody tr", has_text="Чайник"))
    assert "85,10 ₽" in kettle and "409,15 ₽" in kettle
    page.get_by_role("link", name="Реклама по карточкам").click()
    page.wait_for_url("**/analytics/ads/**")
    assert page.locator("h1").inner_text() == "Реклама"
    assert page.locator("nav.tabs a.active").inner_text() == "Реклама"
    rows = page.locator("#ads-table tbody tr")
    assert rows.count() == 2
    first = text(rows.nth(0))
    assert "Чайник электрический" in first and "85,10 ₽" in first and "8,5" in first
    summary = text(page.locator("#ads-summary tbody tr", has_text="Ozon"))
    assert "105,00 ₽" in summary and "7,9" in summary
    page.screenshot(path=str(SCREENSHOTS / "analytics_ads.png"), full_page=True)
    page.get_by_role("link", name="Следующая страница").click()
    page.wait_for_url("**after=**")
    assert page.locator("#ads-table tbody tr").count() == 1
    assert "Карточка ещё не загружена" in page.locator("#ads-table").inner_text()
