"""The API's documentation page in a real browser: Swagger UI renders every endpoint from our own static
files, with no request to any other host."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.test_browser import _login, browser_page, manager  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_renders_the_api_from_local_assets(browser_page, live_server, manager) -> None:  # noqa: F811
    page = browser_page
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    _login(page, live_server, "Sekret-Pass-2026")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .opblock-tag")
    page.locator(".swagger-ui .opblock").nth(59).wait_for()  # a selector: string predicates need eval (CSP)

    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Prilavok API")
    assert hosts == {urlsplit(live_server.url).netloc}
    page.screenshot(path="var/screenshots/api_docs.png", full_page=False)
