"""Browser journey over the promotions desk (issue 12, point 7): open a promotion, read the margin
at the promotion price of each card, join two cards, watch their per-item results turn "applied"
after the push to the sandbox marketplace; then the money-at-risk queue."""

from __future__ import annotations

import re

import pytest

from core.roles import Role
from integrations.models import OutboxChange
from pricing import risk
from pricing.models import PromotionOffer
from pricing.tests.desk_support import SyncedSandbox
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Sekret-Pass-2026"


@pytest.fixture(scope="module", autouse=True)
def _russian() -> None:
    from tests.foundation_support import compile_translations

    compile_translations()


def _login(page, live_server, django_user_model, username: str, role: Role) -> None:
    from core.roles import ensure_roles, set_role

    ensure_roles()
    set_role(django_user_model.objects.create_user(username, password=PASSWORD), role)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_manager_opens_a_promotion_sees_margins_joins_two_cards_and_sees_each_result(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    sandbox = SyncedSandbox("yandex_market", cost="300.00")
    promotion = sandbox.running_promotion()
    page = browser_page
    _login(page, live_server, django_user_model, "maria", Role.MANAGER)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/prices/promotions/")
    assert page.locator("table.promotions tbody tr").count() >= 2
    page.screenshot(path=str(SCREENSHOTS / "promotions_list.png"), full_page=True)
    page.click(f"table.promotions a:text-is('{promotion.title}')")
    page.wait_for_url(re.compile(rf".*/prices/promotions/{promotion.pk}/$"))
    page.click("nav.tabs >> text=Можно добавить")
    page.wait_for_url(re.compile(r".*\?tab=eligible$"))

    rows = page.locator("table.promotion-cards tbody tr")
    assert rows.count() >= 2
    first = rows.nth(0).inner_text()
    assert "₽" in first and "%" in first  # profit and margin at the promotion price
    page.screenshot(path=str(SCREENSHOTS / "promotion_eligible.png"), full_page=True)

    chosen = [rows.nth(i).get_attribute("data-offer") for i in range(2)]
    for i in range(2):
        rows.nth(i).locator("input[type=checkbox]").check()
    assert "Выбрано: 2" in page.locator("form.bulkbar").inner_text()
    page.click("[data-testid=join]")
    page.wait_for_load_state("load")
    assert "Товары добавляются в акцию" in page.locator("ul.messages").inner_text()
    panel = page.locator("#promotion-results")
    assert panel.locator("[data-status=pending]").count() == 2
    page.screenshot(path=str(SCREENSHOTS / "promotion_join_queued.png"), full_page=True)

    sandbox.push()  # the worker's push to the sandbox marketplace
    assert set(OutboxChange.objects.values_list("status", flat=True)) == {"applied"}
    # A selector, not a string predicate: Playwright evaluates those with eval, which the CSP refuses.
    page.locator("#promotion-results [data-status=applied]").nth(1).wait_for(timeout=10_000)
    for listing_id in OutboxChange.objects.values_list("listing_id", flat=True):  # each row's own result too
        assert page.locator(f"#offer-result-{listing_id} [data-status=applied]").count() == 1
    text = panel.inner_text()
    assert text.count("применено") == 2 and all(offer in text for offer in chosen)
    page.screenshot(path=str(SCREENSHOTS / "promotion_join_applied.png"), full_page=True)

    # The next promotions sync reads them back as joined; the «Участвуют» tab lists them.
    sandbox.sync("promotions")
    assert set(chosen) <= set(PromotionOffer.objects.filter(promotion=promotion, status="participating")
                              .values_list("offer_key", flat=True))
    page.click("nav.tabs >> text=Участвуют")
    page.wait_for_load_state("load")
    joined = page.locator("table.promotion-cards").inner_text()
    assert all(offer in joined for offer in chosen)
    page.screenshot(path=str(SCREENSHOTS / "promotion_joined.png"), full_page=True)

    # Money at risk: the quarantine Market lists, floors, and the queue.
    risk.sync_price_quarantine(sandbox.account, client_for=sandbox.client)
    risk.refresh_floors()
    risk.refresh_money_at_risk()
    page.goto(f"{live_server.url}/prices/risk/")
    assert page.locator("table.risk tbody tr[data-reason=quarantine]").count() >= 1
    assert page.locator("text=Подтвердить цену").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "money_at_risk.png"), full_page=True)
