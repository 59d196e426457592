"""Browser journeys of the stock screen and the Excel import (Chromium through Playwright, as in
tests/test_browser.py): change the FBS stock of one size and see the result become "applied"; import a
file with one bad row and see it rejected whole."""

from __future__ import annotations

import pytest

from integrations.models import OutboxChange
from tests.test_browser import SCREENSHOTS, _login, browser_page, manager  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Sekret-Pass-2026"


def _sandbox_with_stock():
    """A WB account on the in-process sandbox, synced as the engine leaves it: cards, warehouses and stock."""
    from integrations.sync.engine import run_stream
    from tests.test_outbox_sandbox import Sandbox, seed_listings

    sandbox = Sandbox("wildberries")
    listing = next(x for x in seed_listings(sandbox, 12) if len(x.variants) == 3)
    client = sandbox.client()
    try:
        for stream in ("warehouses", "stocks"):
            run_stream(sandbox.account, stream, client=client, heartbeat=False)
    finally:
        client.close()
    return sandbox, listing


def test_change_fbs_stock_of_one_size_and_see_it_applied(browser_page, live_server, manager) -> None:  # noqa: F811
    sandbox, listing = _sandbox_with_stock()
    page = browser_page
    _login(page, live_server, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.click("nav.mainnav >> text=Остатки")
    page.wait_for_url(f"{live_server.url}/catalog/stock/")
    page.fill("input[name=q]", listing.offer_id)
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("load")
    row = page.locator(
        f"tr[data-article='{listing.offer_id}'][data-size='M'][data-warehouse-kind='seller']"
    ).first
    fbo_row = page.locator(f"tr[data-article='{listing.offer_id}'][data-warehouse-kind='marketplace']").first
    assert fbo_row.locator("input[name=quantity]").count() == 0  # the marketplace's warehouses are read-only
    assert "ведёт маркетплейс" in fbo_row.inner_text()

    row.locator("input[name=quantity]").fill("77")
    row.locator("button[type=submit]").click()
    row.locator(".push-result[data-status=pending]").wait_for()
    assert "В очереди" in row.locator(".push-result").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "stock_queued.png"), full_page=True)

    change = OutboxChange.objects.get(kind=OutboxChange.Kind.STOCK)
    assert change.payload["quantity"] == 77 and change.payload["variant_id"] == str(listing.variants[1]["id"])
    sandbox.push()  # the worker's drain, through the WB adapter into the sandbox
    assert OutboxChange.objects.get(pk=change.pk).status == OutboxChange.Status.APPLIED

    row.locator(".push-result[data-status=applied]").wait_for(timeout=10_000)  # the cell asks again by itself
    assert "Применено" in row.locator(".push-result").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "stock_applied.png"), full_page=True)


def test_import_a_file_with_one_bad_row_is_rejected_whole(browser_page, live_server, manager, tmp_path) -> None:  # noqa: F811
    from tests.stock_support import make_stock_world

    world = make_stock_world()
    own = world.wb_own.pk
    bad = tmp_path / "остатки.csv"
    bad.write_text(
        "ID карточки;ID склада;ID размера;Доступно\r\n"
        f"{world.dress.pk};{own};111;15\r\n"
        f"{world.dress.pk};{own};222;двадцать\r\n"
        f"{world.dress.pk};{own};333;4\r\n",
        encoding="utf-8-sig",
    )
    page = browser_page
    _login(page, live_server, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/catalog/stock/")
    page.click("text=Загрузить из Excel")
    page.wait_for_url("**/catalog/import/?kind=stock")
    page.set_input_files("input[name=file]", str(bad))
    page.click("form.panel button[type=submit]")
    errors = page.locator("#import-errors")
    errors.wait_for()
    text = errors.inner_text()
    assert "Файл не загружен" in text and "Ничего не изменено." in text
    rows = errors.locator("tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td").nth(0).inner_text() == "3"
    assert rows.first.locator("td").nth(1).inner_text() == "D «Доступно»"
    assert "«двадцать» — не целое число." in rows.first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "import_rejected.png"), full_page=True)
    assert not OutboxChange.objects.exists()

    # The same file fixed: a preview of old -> new, then confirm
    bad.write_text(bad.read_text(encoding="utf-8-sig").replace("двадцать", "20"), encoding="utf-8-sig")
    page.set_input_files("input[name=file]", str(bad))
    page.click("form.panel button[type=submit]")
    page.locator("table.import-preview").wait_for()
    assert page.locator("table.import-preview tbody tr").count() == 3
    page.screenshot(path=str(SCREENSHOTS / "import_preview.png"), full_page=True)
    page.click("text=Подтвердить и отправить")
    page.wait_for_url(f"{live_server.url}/catalog/stock/")
    assert "сохранены и поставлены в очередь" in page.locator("ul.messages").inner_text()
    assert OutboxChange.objects.filter(kind=OutboxChange.Kind.STOCK).count() == 3
    page.screenshot(path=str(SCREENSHOTS / "stock_after_import.png"), full_page=True)
