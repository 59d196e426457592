"""The first-start path of scripts/run: demo admin + three sandbox accounts synced over real HTTP."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import Listing
from integrations.models import MarketplaceAccount, SyncRun
from integrations.sandbox.server import SandboxServer
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox_server():
    server = SandboxServer().start()
    try:
        yield server
    finally:
        server.stop()


def test_demo_setup_connects_and_syncs_the_three_sandbox_marketplaces(sandbox_server) -> None:
    call_command("demo_setup", sandbox_url=sandbox_server.url)

    accounts = MarketplaceAccount.objects.order_by("marketplace")
    assert [a.marketplace for a in accounts] == ["ozon", "wildberries", "yandex_market"]
    for account in accounts:
        assert account.base_url == f"{sandbox_server.url}/{account.marketplace}"
        assert account.last_success_at is not None, account.last_error
        assert Listing.objects.filter(account=account).count() > 0
        assert Order.objects.filter(account=account).count() > 0
    assert not SyncRun.objects.exclude(status=SyncRun.Status.SUCCEEDED).exists()
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("prilavok-demo")

    # Running it again (every start of scripts/run does) duplicates nothing.
    listings, orders = Listing.objects.count(), Order.objects.count()
    call_command("demo_setup", sandbox_url=sandbox_server.url)
    assert MarketplaceAccount.objects.count() == 3
    assert (Listing.objects.count(), Order.objects.count()) == (listings, orders)
