"""Browser journeys over the catalogue (issue 11, point 8): find a product, edit a card's title and push
it through the outbox to the in-process sandbox marketplace, watch the result panel turn "applied" by
itself; an analyst sees no edit controls and a forged POST is refused."""

from __future__ import annotations

import re

import pytest

from catalog.models import Listing, Product, StockLevel, Warehouse
from core.roles import Role
from integrations.models import OutboxChange
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the Chromium fixture)
from tests.test_outbox_sandbox import Sandbox, seed_listings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Sekret-Pass-2026"


@pytest.fixture(scope="module", autouse=True)
def _russian() -> None:
    from tests.foundation_support import compile_translations

    compile_translations()


def _user(django_user_model, name: str, role: Role):
    from core.roles import ensure_roles, set_role

    ensure_roles()
    user = django_user_model.objects.create_user(name, password=PASSWORD)
    set_role(user, role)
    return user


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _catalogue() -> tuple[Sandbox, list[Listing]]:
    """Ozon cards as the sync leaves them, read from the sandbox, with a product each and some stock."""
    sandbox = Sandbox("ozon")
    listings = seed_listings(sandbox, 6)
    warehouse = Warehouse.objects.create(account=sandbox.account, external_id="w1", name="Склад Подольск")
    StockLevel.objects.bulk_create(
        StockLevel(listing=x, warehouse=warehouse, present=3 * n, reserved=1) for n, x in enumerate(listings)
    )
    Product.objects.filter(pk=listings[2].product_id).update(brand="Север")
    return sandbox, listings


def test_manager_finds_a_product_edits_a_card_title_and_sees_it_applied(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    sandbox, listings = _catalogue()
    card = listings[2]
    _user(django_user_model, "maria", Role.MANAGER)
    page = browser_page
    _login(page, live_server, "maria")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.click("nav.mainnav >> text=Каталог")
    page.wait_for_url(f"{live_server.url}/catalog/products/")
    assert page.locator("table.catalogue tbody tr").count() == 6
    page.screenshot(path=str(SCREENSHOTS / "catalog_products.png"), full_page=True)

    # Find it by the card's marketplace id, open its page from the row.
    page.fill("input[name=q]", card.external_id)
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator("table.catalogue tbody tr").count() == 1
    page.click("table.catalogue tbody tr a.rowlink")
    page.wait_for_url(re.compile(rf".*/catalog/products/{card.product_id}/$"))
    assert page.locator("section.mp-card").count() == 1
    assert "Склад Подольск" in page.locator(f"#card-{card.pk}").inner_text()

    # Edit the title and push it.
    page.fill(f"#id_card{card.pk}-title", "Кружка «Север», 350 мл, синяя")
    page.click(f"#card-{card.pk} form.content-form button[type=submit]")
    page.wait_for_load_state("load")
    panel = page.locator(f"#results-{card.pk}")
    assert "в очереди" in panel.inner_text()
    assert "поставлено в очередь" in page.locator("ul.messages").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "catalog_product_queued.png"), full_page=True)

    # The worker's push, against the in-process sandbox marketplace (Ozon answers with a task to poll).
    row = OutboxChange.objects.get(listing=card)
    sandbox.push()
    sandbox.settle([row])
    assert OutboxChange.objects.get(pk=row.pk).status == OutboxChange.Status.APPLIED

    # The panel polls and shows the result without a reload.
    page.wait_for_selector(f"#results-{card.pk} [data-status='applied']", timeout=10_000)
    assert "применено" in panel.inner_text()
    assert page.locator(f"#results-{card.pk}[hx-trigger]").count() == 0  # polling stopped
    page.screenshot(path=str(SCREENSHOTS / "catalog_product_applied.png"), full_page=True)
    # The history says who changed what, old → new, and its result followed the panel's.
    history = page.locator("section.history").inner_text()
    assert "maria" in history and "Кружка «Север», 350 мл, синяя" in history
    assert page.locator(f"#history-change-{row.pk}").inner_text().strip() == "применено"
    # Until the next sync reads the card back, the form keeps the title just sent, not the old one.
    page.reload()
    assert page.input_value(f"#id_card{card.pk}-title") == "Кружка «Север», 350 мл, синяя"


def test_analyst_sees_no_edit_controls_and_a_forged_post_is_refused(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    _, listings = _catalogue()
    card = listings[0]
    _user(django_user_model, "olga", Role.ANALYST)
    page = browser_page
    _login(page, live_server, "olga")
    page.goto(f"{live_server.url}/catalog/products/")
    assert page.locator("form.bulkbar").count() == 0
    assert page.locator("input[name=products]").count() == 0
    page.goto(f"{live_server.url}/catalog/products/{card.product_id}/")
    assert page.locator("section.mp-card").count() == 1
    edit_controls = ("form.content-form, form.media-form, form.unlink, form.linkform, "
                     "button:has-text('Отправить снова')")
    assert page.locator(edit_controls).count() == 0
    page.screenshot(path=str(SCREENSHOTS / "catalog_product_analyst.png"), full_page=True)

    # A forged POST with a valid CSRF token (the one the page sends with htmx requests) is refused.
    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    response = page.request.post(
        f"{live_server.url}/catalog/cards/{card.pk}/content/",
        form={f"card{card.pk}-title": "Взлом"},
        headers={"X-CSRFToken": token, "Referer": page.url},
    )
    # Refused for the role (the app's 403 page), not for the token (Django's CSRF failure page).
    assert response.status == 403 and "CSRF verification failed" not in response.text()
    assert not OutboxChange.objects.exists()


def test_manager_edits_a_characteristic_and_the_photos_and_sees_them_applied(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    from integrations.sync.engine import run_stream

    sandbox, listings = _catalogue()
    client = sandbox.client()
    try:  # the cards' categories and their dictionaries, as the sync leaves them
        run_stream(sandbox.account, "listings", client=client, heartbeat=False)
        run_stream(sandbox.account, "categories", client=client, heartbeat=False)
    finally:
        client.close()
    card = Listing.objects.get(pk=listings[1].pk)
    _user(django_user_model, "maria", Role.MANAGER)
    page = browser_page
    _login(page, live_server, "maria")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/catalog/products/{card.product_id}/")
    form = page.locator(f"#card-{card.pk} form.media-form")
    assert "Характеристики и фото" in form.inner_text()
    material = f"#id_media{card.pk}-attr_4975"  # «Материал» of the sandbox's Ozon dictionary
    photos = ["https://cdn.example.ru/mug/front.jpg", "https://cdn.example.ru/mug/side.jpg"]
    page.fill(material, "фарфор")
    page.fill(f"#id_media{card.pk}-images", "\n".join(photos))
    page.screenshot(path=str(SCREENSHOTS / "catalog_card_media_form.png"), full_page=True)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    panel = page.locator(f"#results-{card.pk}")
    assert "в очереди" in panel.inner_text() and "2 фото" in panel.inner_text()

    row = OutboxChange.objects.get(listing=card)
    sandbox.push()
    sandbox.settle([row])
    page.wait_for_selector(f"#results-{card.pk} [data-status='applied']", timeout=10_000)
    assert "применено" in panel.inner_text()

    # The next catalogue sync reads the card back with the new characteristic and photos.
    client = sandbox.client()
    try:
        run_stream(sandbox.account, "listings", client=client, heartbeat=False)
    finally:
        client.close()
    assert OutboxChange.objects.get(pk=row.pk).confirmed_at is not None
    page.reload()
    section = page.locator(f"#card-{card.pk}")
    assert page.input_value(material) == "фарфор"
    assert section.locator(".gallery img").first.get_attribute("src") == photos[0]
    page.screenshot(path=str(SCREENSHOTS / "catalog_card_media_applied.png"), full_page=True)
