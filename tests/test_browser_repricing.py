"""Browser journey of the repricing rules (issue 12, point 4): a manager enters a competitor's price, creates
a rule that follows it, sees the dry-run preview with the reason, runs it, and follows the run to the price
batch it created, which the outbox pushes to the in-process sandbox."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from catalog.models import Product
from core.roles import Role
from integrations.models import OutboxChange
from pricing import repricing
from pricing.models import CompetitorPrice, RepricingRule, RepricingRun
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the Chromium fixture)
from tests.test_browser_catalog import _login, _russian, _user  # noqa: F401
from tests.test_outbox_sandbox import Sandbox, seed_listings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_creates_a_rule_previews_runs_and_sees_the_batch(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    sandbox = Sandbox("ozon")
    listings = seed_listings(sandbox, 3)
    card = listings[1]
    old = card.price.price
    Product.objects.filter(pk=card.product_id).update(cost_price=(old * Decimal("0.5")).quantize(Decimal("1")))
    competitor_price = (old * Decimal("0.95")).quantize(Decimal("1"))
    _user(django_user_model, "maria", Role.MANAGER)
    page = browser_page
    page.on("dialog", lambda dialog: dialog.accept())  # the "send these prices?" confirmation
    _login(page, live_server, "maria")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # From the prices page to the rules (a tab of the prices section, no new top-level item).
    page.goto(f"{live_server.url}/prices/")
    page.click("nav.tabs a[href='/prices/rules/']")
    page.wait_for_url(re.compile(r".*/prices/rules/$"))
    assert "Правил репрайсинга пока нет" in page.locator("main").inner_text()

    # A competitor's price, by hand.
    page.click("a[href='/prices/rules/competitors/']")
    page.fill("#id_card", card.offer_id)
    page.fill("#id_competitor", "Магазин у дома")
    page.fill("#id_price", str(competitor_price).replace(".", ","))
    page.click("#add-competitor-price")
    expect(page.locator("table.competitor-prices")).to_contain_text("Магазин у дома")
    assert CompetitorPrice.objects.get().listing_id == card.pk
    page.screenshot(path=str(SCREENSHOTS / "repricing_competitors.png"), full_page=True)

    # The rule: follow the lowest competitor, 10 ₽ below, rounded down to …9.
    page.goto(f"{live_server.url}/prices/rules/new/")
    page.fill("#id_name", "Дешевле конкурента")
    page.select_option("#id_scope", "listing")
    page.fill("#id_target", card.offer_id)
    page.select_option("#id_strategy", "beat_competitor")
    page.fill("#id_step", "10")
    page.select_option("#id_rounding", "9")
    page.screenshot(path=str(SCREENSHOTS / "repricing_rule_form.png"), full_page=True)
    page.click("#save-rule")
    page.wait_for_url(re.compile(r".*/prices/rules/\d+/preview/$"))
    rule = RepricingRule.objects.get()
    expected = repricing.round_down_to_ending(competitor_price - 10, "9")
    row = page.locator(f"#change-{card.pk}").inner_text()
    assert "Магазин у дома" in row and f"{int(expected)},00" in row.replace("\u202f", "")
    page.screenshot(path=str(SCREENSHOTS / "repricing_preview.png"), full_page=True)

    # Run: queued for the worker; the page follows the run until its batch is there.
    page.click("#run-rule")
    page.wait_for_url(re.compile(r".*/prices/rules/runs/\d+/$"))
    run = RepricingRun.objects.get()
    assert "в очереди" in page.locator("#run-detail").inner_text()
    repricing.execute_run(run.pk)  # what the worker does with the queued task
    expect(page.locator("#run-batch")).to_be_visible(timeout=10_000)
    assert "выполнено" in page.locator("#run-detail").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "repricing_run.png"), full_page=True)

    # The batch is an ordinary price batch: the outbox pushes it and the result shows there.
    run.refresh_from_db()
    page.click("#run-batch a")
    page.wait_for_url(re.compile(rf".*/prices/history/{run.batch_id}/$"))
    item = run.batch.items.get()
    assert item.listing_id == card.pk and item.new_price == expected
    sandbox.push()
    assert OutboxChange.objects.get(pk=item.outbox_change_id).status == OutboxChange.Status.APPLIED
    expect(page.locator(f"#item-{item.pk} [data-status]").first).to_have_attribute(
        "data-status", "applied", timeout=10_000
    )
    page.goto(f"{live_server.url}/prices/rules/")
    assert f"#{run.pk}" in page.locator(f"#rule-{rule.pk}").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "repricing_rules.png"), full_page=True)
    page.goto(f"{live_server.url}/prices/rules/runs/")
    page.screenshot(path=str(SCREENSHOTS / "repricing_runs.png"), full_page=True)


def test_analyst_sees_rules_without_edit_controls(browser_page, live_server, django_user_model) -> None:  # noqa: F811
    sandbox = Sandbox("ozon")
    card = seed_listings(sandbox, 1)[0]
    RepricingRule.objects.create(name="Маржа 20 %", listing=card, strategy="target_margin",
                                 target_margin_percent=Decimal("20"))
    _user(django_user_model, "olga", Role.ANALYST)
    page = browser_page
    _login(page, live_server, "olga")
    page.goto(f"{live_server.url}/prices/rules/")
    assert page.locator("#add-rule").count() == 0 and page.locator("#run-all").count() == 0
    page.click("a.rowlink")
    assert page.locator("#save-rule").count() == 0 and "Держать целевую маржу" in page.locator("main").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "repricing_rule_analyst.png"), full_page=True)
