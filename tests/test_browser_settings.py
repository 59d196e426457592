"""An administrator's settings in Chromium: add a user, then start a sync by hand and watch it finish."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from core.roles import Role, role_of
from integrations.models import MarketplaceAccount, SyncRun
from integrations.sandbox import credentials as sandbox_credentials
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Sekret-Pass-2026"


@pytest.fixture
def admin(django_user_model):
    from core.roles import ensure_roles, set_role

    ensure_roles()
    user = django_user_model.objects.create_user("anna", password=PASSWORD)
    set_role(user, Role.ADMIN)
    return user


@pytest.fixture
def server(settings) -> Iterator[SandboxServer]:
    settings.MARKETPLACE_LIMITS_ENABLED = False
    world = SandboxWorld(SandboxConfig(seed=5, products=8, orders=6, start=datetime.now(UTC).replace(microsecond=0)))
    srv = SandboxServer(SandboxApp(world)).start()
    yield srv
    srv.stop()


def _login(page, live_server) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "anna")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_admin_adds_a_user_and_syncs_an_account_by_hand(
    browser_page, live_server, admin, server, django_user_model, settings  # noqa: F811
) -> None:
    page = browser_page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    account = MarketplaceAccount(marketplace="wildberries", name="WB магазин", base_url=server.base_url("wildberries"))
    account.set_credentials({"token": sandbox_credentials.WB_TOKEN})
    account.save()
    _login(page, live_server)

    page.goto(f"{live_server.url}/settings/")
    page.get_by_role("link", name="Добавить пользователя").click()
    page.fill("#id_username", "olga")
    page.fill("#id_email", "olga@example.com")
    page.select_option("#id_role", "analyst")
    page.fill("#id_password", "Kx9-pelmeni-Volga-2026")
    page.fill("#id_password_again", "Kx9-pelmeni-Volga-2026")
    page.get_by_role("button", name="Создать пользователя").click()
    assert "Пользователь olga создан" in page.locator("ul.messages").inner_text()
    assert role_of(django_user_model.objects.get(username="olga")) is Role.ANALYST

    # The worker is this process: sync tasks run as they are queued, once the request's transaction commits.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        page.get_by_role("link", name="Синхронизации").click()
        row = page.locator("tr[data-stream=warehouses]")
        assert "ещё не синхронизирован" in row.inner_text()
        row.get_by_role("button", name="Запустить").click()
        assert "поставлена в очередь" in page.locator("ul.messages").inner_text()
    finally:
        app.conf.task_always_eager = False
    assert "в порядке" in page.locator("tr[data-stream=warehouses]").inner_text()
    assert SyncRun.objects.get(account=account, stream="warehouses").trigger == "manual"
    assert "вручную" in page.locator("table.sync-runs").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "settings_syncs.png"), full_page=True)
    page.goto(f"{live_server.url}/settings/")
    page.screenshot(path=str(SCREENSHOTS / "settings_users.png"), full_page=True)
