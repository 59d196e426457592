"""A sandbox marketplace synced into the database, for the promotions desk and money-at-risk tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from catalog.models import Product
from integrations import outbox
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount, OutboxChange
from integrations.registry import get_client
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.sync import engine
from pricing.models import Promotion, PromotionOffer
from tests.test_sync_sandbox import make_account


class SyncedSandbox:
    """One sandbox world, an account connected to it, its catalogue, prices and promotions synced,
    and every product with a small cost (floors well under the sandbox's prices)."""

    def __init__(self, marketplace: str, *, products: int = 40, cost: str = "100.00") -> None:
        self.world = SandboxWorld(SandboxConfig(seed=42, products=products, orders=60,
                                                start=datetime.now(UTC).replace(microsecond=0)))
        self.app = SandboxApp(self.world)
        self.recording = RecordingTransport(SandboxTransport(self.app))
        self.clock = FakeClock()
        self.account: MarketplaceAccount = make_account(marketplace)
        self.sync("listings", "prices", "promotions", "fees")
        Product.objects.update(cost_price=Decimal(cost))

    def client(self, account: MarketplaceAccount | None = None) -> Any:
        return get_client(account or self.account, transport=self.recording, clock=self.clock, limiter=LocalLimiter())

    def sync(self, *streams: str) -> None:
        for stream in streams:
            engine.run_stream(self.account, stream, client=self.client(), heartbeat=False, full=True)

    def push(self) -> None:
        """Push the outbox, letting asynchronous uploads (WB) finish."""
        for _ in range(6):
            outbox.push_account(self.account, client=self.client())
            if not OutboxChange.objects.filter(account=self.account, status=OutboxChange.Status.SENT).exists():
                return
            self.world.advance(1)

    def running_promotion(self, *, priced: bool = True) -> Promotion:
        """A running promotion with at least two eligible cards known here."""
        for promotion in Promotion.objects.filter(account=self.account).order_by("pk"):
            if promotion.ends_at and promotion.ends_at <= datetime.now(UTC):
                continue
            if promotion.starts_at and promotion.starts_at > datetime.now(UTC):
                continue
            offers = PromotionOffer.objects.filter(promotion=promotion, status="eligible", listing__isnull=False)
            if priced:
                offers = offers.exclude(action_price__isnull=True, max_action_price__isnull=True)
            if offers.count() >= 2:
                return promotion
        raise AssertionError(f"no running promotion with eligible cards on {self.account.marketplace}")

    def writes_to(self, path_end: str) -> list[Any]:
        return [req for req, resp in self.recording.exchanges
                if req.method in ("POST", "PUT") and req.url.path.endswith(path_end) and resp.status_code < 300]
