"""Browser journey of the price editor (issue 12): set one price for a product, preview what each
marketplace receives and the margin, push through the outbox to the in-process sandbox, see the
per-card result, roll the batch back; the guard rail asks for a written reason below the floor."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from catalog.models import Product
from core.roles import Role
from integrations.models import OutboxChange
from pricing.models import PriceBatch
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the Chromium fixture)
from tests.test_browser_catalog import _login, _russian, _user  # noqa: F401
from tests.test_outbox_sandbox import Sandbox, next_price, seed_listings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_previews_pushes_sees_the_result_and_rolls_back(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    sandbox = Sandbox("ozon")
    listings = seed_listings(sandbox, 3)
    card = listings[1]
    old = card.price.price
    Product.objects.filter(pk=card.product_id).update(cost_price=(old * Decimal("0.6")).quantize(Decimal("1")))
    new = next_price(card)
    _user(django_user_model, "maria", Role.MANAGER)
    page = browser_page
    _login(page, live_server, "maria")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/prices/")
    page.screenshot(path=str(SCREENSHOTS / "prices_list.png"), full_page=True)
    page.click(f"a[href='/prices/editor/product/{card.product_id}/']")
    page.wait_for_url(re.compile(rf".*/prices/editor/product/{card.product_id}/$"))

    # Below the floor first: the preview says so and the push is refused without a reason.
    page.fill("#id_price", str(int(old * Decimal("0.5"))))
    page.click("form.price-form button[type=submit]")
    page.wait_for_load_state("load")
    assert "Ниже порога" in page.locator("table.price-preview").inner_text()
    page.click("#push-batch")
    page.wait_for_load_state("load")
    assert "укажите причину" in page.locator("div.refused").inner_text()
    assert not PriceBatch.objects.exists()
    page.screenshot(path=str(SCREENSHOTS / "price_editor_refused.png"), full_page=True)

    # The right price: the fields Ozon will receive, profit and margin after fees.
    page.goto(f"{live_server.url}/prices/editor/product/{card.product_id}/")
    page.fill("#id_price", str(new))
    page.click("form.price-form button[type=submit]")
    page.wait_for_load_state("load")
    preview = page.locator(f"#plan-{card.pk}").inner_text()
    assert "offer_id" in preview and "currency_code" in preview and "%" in preview
    page.screenshot(path=str(SCREENSHOTS / "price_editor_preview.png"), full_page=True)
    page.click("#push-batch")
    page.wait_for_url(re.compile(r".*/prices/history/\d+/$"))
    batch = PriceBatch.objects.get()
    item = batch.items.get()
    assert "в очереди" in page.locator(f"#item-{item.pk}").inner_text()

    # The worker pushes to the sandbox; the page follows the result by itself.
    sandbox.push()
    assert OutboxChange.objects.get(pk=item.outbox_change_id).status == OutboxChange.Status.APPLIED
    # Selectors, not string predicates: Playwright evaluates those with eval, which the CSP refuses.
    expect(page.locator(f"#item-{item.pk} [data-status]").first).to_have_attribute(
        "data-status", "applied", timeout=10_000
    )
    assert "применено" in page.locator(f"#item-{item.pk}").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "price_batch_applied.png"), full_page=True)

    # Roll the whole batch back: a new batch with the old price, pushed and applied too.
    page.click("#rollback-batch")
    page.wait_for_url(re.compile(r".*/prices/history/\d+/$"))
    back = PriceBatch.objects.exclude(pk=batch.pk).get()
    assert back.rollback_of_id == batch.pk and back.items.get().new_price == old
    sandbox.push()
    expect(page.locator("#batch-items [data-status]").first).to_have_attribute(
        "data-status", "applied", timeout=10_000
    )
    assert f"#{batch.pk}" in page.locator("div.batch-summary").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "price_batch_rollback.png"), full_page=True)
    page.goto(f"{live_server.url}/prices/history/card/{card.pk}/")
    assert page.locator("table.card-history tbody tr").count() == 2
    page.screenshot(path=str(SCREENSHOTS / "price_card_history.png"), full_page=True)


def test_analyst_sees_prices_and_history_without_edit_controls_and_a_forged_push_is_refused(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    sandbox = Sandbox("ozon")
    card = seed_listings(sandbox, 2)[0]
    _user(django_user_model, "olga", Role.ANALYST)
    page = browser_page
    _login(page, live_server, "olga")
    page.goto(f"{live_server.url}/prices/")
    assert page.locator("input[name=listings]").count() == 0 and page.locator("#bulk-change").count() == 0
    assert page.locator("a[href*='/prices/editor/']").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "prices_list_analyst.png"), full_page=True)
    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    response = page.request.post(
        f"{live_server.url}/prices/editor/batches/new/",
        form={f"change_{card.pk}": "1.00", "formula": "взлом", "override": "on", "reason": "взлом"},
        headers={"X-CSRFToken": token, "Referer": page.url},
    )
    assert response.status == 403 and "CSRF verification failed" not in response.text()
    assert not PriceBatch.objects.exists() and not OutboxChange.objects.exists()
