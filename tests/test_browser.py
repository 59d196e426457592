"""The web shell in a real browser: Debian's Chromium driven by Playwright against a live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.roles import Role

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (CI installs it).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the live
    # server happen in its own thread, so this only silences Django's guard for the test thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            page = browser.new_page()
            page.set_default_timeout(15_000)
            # A script or style the Content-Security-Policy blocks is a broken screen, even if the test's
            # own checks happen not to notice it.
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
            yield page
            browser.close()
            assert blocked == [], blocked
            # While Playwright's loop runs, Django keeps this thread's connections in a separate
            # (context-local) slot; close them here or one outlives the test database.
            from django.db import connections

            connections.close_all()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def manager(django_user_model):
    from core.roles import ensure_roles, set_role

    ensure_roles()
    user = django_user_model.objects.create_user("maria", password="Sekret-Pass-2026")
    set_role(user, Role.MANAGER)
    return user


def _login(page, live_server, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "maria")
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_login_shows_russian_shell_and_switches_to_english(browser_page, live_server, manager) -> None:
    page = browser_page
    _login(page, live_server, "Sekret-Pass-2026")
    page.wait_for_url(f"{live_server.url}/")
    nav = page.locator("nav.mainnav")
    assert nav.get_by_text("Каталог").is_visible()
    assert nav.get_by_text("Заказы").is_visible()
    # A manager is not an administrator: no Settings in the navigation.
    assert nav.get_by_text("Настройки").count() == 0

    page.select_option("select[name=language]", "en")
    page.wait_for_load_state("load")
    page.wait_for_selector("html[lang='en']", state="attached")
    assert page.locator("nav.mainnav").get_by_text("Catalog").is_visible()

    page.click("nav.mainnav >> text=Orders")
    page.wait_for_url(f"{live_server.url}/orders/")
    assert page.locator("h1").inner_text().strip() != ""


def test_wrong_password_is_refused_with_a_message(browser_page, live_server, manager) -> None:
    page = browser_page
    _login(page, live_server, "wrong-password")
    assert page.url.startswith(f"{live_server.url}/login/")
    assert page.locator("nav.mainnav").count() == 0
    assert page.locator("p.errors").inner_text() == "Неверное имя пользователя или пароль."


SCREENSHOTS = Path(os.environ.get("PRILAVOK_VAR_DIR", "var")) / "screenshots"


def _seed_lists() -> None:
    from decimal import Decimal

    from orders.models import OrderLine
    from tests.foundation_support import make_account, make_listing, make_order

    ozon, wb = make_account("ozon", name="Ozon Главный"), make_account("wildberries", name="WB Одежда")
    for n in range(60):
        listing = make_listing(ozon if n % 2 else wb)
        if n % 3 == 0:
            listing.title = f"Платье летнее, размер {40 + n % 10}"
            listing.save()
        order = make_order(ozon if n % 2 else wb, status=["new", "delivered", "cancelled"][n % 3])
        OrderLine.objects.create(order=order, line_key="2", offer_id=listing.offer_id, quantity=1 + n % 3,
                                 price=Decimal("1499.90"))


def test_catalogue_and_orders_lists_search_filter_and_page(browser_page, live_server, manager) -> None:
    _seed_lists()
    page = browser_page
    _login(page, live_server, "Sekret-Pass-2026")
    page.wait_for_url(f"{live_server.url}/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/catalog/")
    assert page.locator("tbody tr").count() == 50
    assert "Найдено: 60" in page.locator("nav.pagination").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "catalog.png"), full_page=True)
    page.click("nav.pagination >> text=Вперёд")
    assert page.locator("tbody tr").count() == 10
    page.click("nav.pagination >> text=Назад")
    assert page.locator("tbody tr").count() == 50

    page.fill("input[name=q]", "платье")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator("tbody tr").count() == 20
    assert "Найдено: 20" in page.locator("nav.pagination").inner_text()

    page.goto(f"{live_server.url}/orders/")
    page.screenshot(path=str(SCREENSHOTS / "orders.png"), full_page=True)
    page.select_option("select[name=status]", "delivered")  # submits on change
    page.wait_for_url("**/orders/?*status=delivered*")
    assert page.locator("tbody tr").count() == 20
    assert page.locator("tbody").get_by_text("Доставлен").count() == 20
