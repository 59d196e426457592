"""The first-start path of scripts/run: demo admin + three sandbox accounts synced over real HTTP."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import CostPriceHistory, Listing, Product
from integrations.models import MarketplaceAccount, SyncRun
from integrations.sandbox.server import SandboxServer
from orders.models import Order
from pricing.fees import card_economics, tax_settings

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
    # Every synced product has a cost, every account a tax regime: margins show on the first start.
    priced = Product.objects.filter(listings__price__isnull=False).distinct()
    assert priced.exists() and not priced.filter(cost_price__isnull=True).exists()
    listing = Listing.objects.filter(price__isnull=False, account__marketplace="ozon").first()
    card = card_economics(listing)
    assert card.result is not None and card.result.profit is not None and card.result.margin_percent is not None
    assert card.floor is not None and card.floor < card.result.price
    assert all(tax_settings(a.pk) is not None for a in accounts)
    # The money-at-risk queue is counted on the first start: Market's seeded price quarantine is in it.
    from pricing.models import CardFloor, MoneyAtRisk

    assert CardFloor.objects.filter(floor__isnull=False).exists()
    assert MoneyAtRisk.objects.filter(reason="quarantine", account__marketplace="yandex_market").exists()
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("prilavok-demo")

    # Running it again (every start of scripts/run does) duplicates nothing.
    listings, orders = Listing.objects.count(), Order.objects.count()
    costs = CostPriceHistory.objects.count()
    call_command("demo_setup", sandbox_url=sandbox_server.url)
    assert CostPriceHistory.objects.count() == costs
    assert MarketplaceAccount.objects.count() == 3
    assert (Listing.objects.count(), Order.objects.count()) == (listings, orders)
