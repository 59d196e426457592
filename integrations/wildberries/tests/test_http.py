"""The adapter over real HTTP on loopback against the sandbox server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from integrations.base import PriceUpdate, WriteStatus
from integrations.limiter import FakeClock, LocalLimiter
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxWorld
from integrations.wildberries.client import WildberriesClient

from .conftest import account


@pytest.fixture
def server(sandbox_app) -> Iterator[SandboxServer]:  # type: ignore[no-untyped-def]
    running = SandboxServer(sandbox_app, host="127.0.0.1", port=0).start()
    yield running
    running.stop()


def test_reads_and_an_async_price_write_over_loopback(server: SandboxServer, sandbox_world: SandboxWorld) -> None:
    client = WildberriesClient(
        account(base_url=server.base_url("wildberries")),
        clock=FakeClock(sandbox_world.now.timestamp()),
        limiter=LocalLimiter(),
    )
    try:
        assert client.check_auth() is not None
        listings = [i for page in client.iter_listings() for i in page.items]
        assert len(listings) == 40 and any("ё" in i.title or "й" in i.title for i in listings)
        orders = [o for page in client.iter_orders(sandbox_world.now - timedelta(days=30)) for o in page.items]
        assert {o.scheme for o in orders} == {"FBS", "DBS", "FBO"}
        target = listings[0]
        update = PriceUpdate(
            key=target.external_id,
            offer_id=target.offer_id,
            listing_external_id=target.external_id,
            price=Decimal("3100"),
        )
        accepted = client.update_prices([update])[0]
        assert accepted.status == WriteStatus.ACCEPTED
        resolved = client.fetch_write_results(accepted.remote_ref)
        assert resolved is not None and resolved[0].status == WriteStatus.APPLIED
        prices = {p.listing_external_id: p.price for page in client.iter_prices() for p in page.items}
        assert prices[target.external_id] == Decimal("3100")
    finally:
        client.close()
