"""The shipping desk in a real browser against the sandbox marketplaces over loopback HTTP: a manager
packs an Ozon FBS posting and downloads its label as a PDF; an analyst sees no action and a forged
POST is refused. Screenshots go to var/screenshots/."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from django.db import transaction

from core.roles import Role
from integrations.registry import get_client
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from orders.ingest import ingest_orders
from orders.models import Order
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the fixture)
from tests.test_outbox_sandbox import connect_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Sekret-Pass-2026"


@pytest.fixture(scope="module", autouse=True)
def _russian() -> None:
    from tests.foundation_support import compile_translations

    compile_translations()


@pytest.fixture
def sandbox_shop() -> Iterator[dict[str, object]]:
    server = SandboxServer(SandboxApp(SandboxWorld(SandboxConfig(seed=42, products=40, orders=120)))).start()
    try:
        accounts = {}
        for marketplace, name in (("ozon", "Ozon Главный"), ("wildberries", "WB Одежда"),
                                  ("yandex_market", "Маркет Дом")):
            account = connect_account(marketplace, server.base_url(marketplace))
            account.name = name
            account.save(update_fields=["name"])
            client = get_client(account)
            try:
                since = server.app.world.now - timedelta(days=29)
                read = [o for page in client.iter_orders(since) for o in page.items]
                with transaction.atomic():  # as the sync stores a page
                    ingest_orders(account.pk, read)
            finally:
                client.close()
            accounts[marketplace] = account
        yield accounts
    finally:
        server.stop()


def _user(django_user_model, username: str, role: Role):
    from core.roles import ensure_roles, set_role

    ensure_roles()
    user = django_user_model.objects.create_user(username, password=PASSWORD)
    set_role(user, role)
    return user


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_manager_ships_an_ozon_posting_and_downloads_its_label(
    browser_page, live_server, django_user_model, sandbox_shop  # noqa: F811
) -> None:
    page = browser_page
    _user(django_user_model, "maria", Role.MANAGER)
    posting = Order.objects.filter(account=sandbox_shop["ozon"], raw_status="awaiting_packaging",
                                   scheme="FBS").order_by("pk").first()
    assert posting is not None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _login(page, live_server, "maria")

    page.click("nav.mainnav >> text=Отгрузка")
    page.wait_for_url(f"{live_server.url}/orders/shipping/")
    assert page.locator("h1").inner_text() == "Сборка и отгрузка"
    page.screenshot(path=str(SCREENSHOTS / "shipping_desk.png"), full_page=True)

    page.select_option("select[name=marketplace]", "ozon")  # submits on change
    page.wait_for_url("**/orders/shipping/?*marketplace=ozon*")
    assert page.locator("#orders-bulk button[value=create_supply]").count() == 0  # no supplies on Ozon
    page.check(f"input[name=order][value='{posting.pk}']")
    page.select_option("#orders-bulk select[name=packing]", "per_line")
    page.click("#orders-bulk button[value=assemble]")
    results = page.locator("#fulfilment-results .fulfilment-results")
    results.wait_for()
    assert "выполнено: 1, отказано: 0" in results.inner_text()
    assert "Готов к отгрузке" in results.inner_text()
    posting.refresh_from_db()
    assert posting.status == "ready_to_ship"

    page.click("#orders-bulk button[value=labels]")
    link = page.locator("[data-labels-link]")
    link.wait_for()
    page.screenshot(path=str(SCREENSHOTS / "shipping_desk_results.png"), full_page=True)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF")
    assert download.suggested_filename.endswith(".pdf")
    assert len(pypdf.PdfReader(io.BytesIO(content)).pages) == posting.lines.count()

    # A bulk cancel asks first; declined, nothing is sent.
    other = Order.objects.filter(account=sandbox_shop["ozon"], raw_status="awaiting_packaging",
                                 scheme="FBS").exclude(pk=posting.pk).order_by("pk").first()
    assert other is not None
    page.uncheck(f"input[name=order][value='{posting.pk}']")
    page.check(f"input[name=order][value='{other.pk}']")
    page.select_option("#orders-bulk select[name=reason]", "out_of_stock")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#orders-bulk button[value=cancel]")
    page.wait_for_timeout(500)
    assert asked and "Отменить выбранные заказы" in asked[0]
    assert "Этикетки" in results.inner_text()  # the panel still shows the labels' results
    other.refresh_from_db()
    assert other.status != "cancelled"


def test_an_analyst_cannot_act_on_the_shipping_desk(
    browser_page, live_server, django_user_model, sandbox_shop  # noqa: F811
) -> None:
    page = browser_page
    _user(django_user_model, "maria", Role.ANALYST)
    posting = Order.objects.filter(account=sandbox_shop["ozon"], raw_status="awaiting_packaging",
                                   scheme="FBS").order_by("pk").first()
    assert posting is not None
    _login(page, live_server, "maria")
    page.goto(f"{live_server.url}/orders/shipping/")
    assert page.locator("table.shipping tbody tr").count() > 0
    assert page.locator("#orders-bulk").count() == 0
    assert page.locator("input[name=order]").count() == 0
    assert page.locator("button[name=action]").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "shipping_desk_analyst.png"), full_page=True)

    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    forged = page.request.post(f"{live_server.url}/orders/shipping/act/",
                               form={"action": "assemble", "order": str(posting.pk)},
                               headers={"X-CSRFToken": token, "Referer": f"{live_server.url}/orders/shipping/"})
    assert forged.status == 403
    posting.refresh_from_db()
    assert posting.status != "ready_to_ship"
