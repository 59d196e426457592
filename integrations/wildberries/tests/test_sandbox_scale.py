"""The Wildberries sandbox at benchmark size builds in seconds and pages without rescanning."""

from __future__ import annotations

import time
from datetime import timedelta

from integrations.limiter import FakeClock, LocalLimiter
from integrations.sandbox import wildberries as wb_sandbox
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.wildberries.client import WildberriesClient

from .conftest import account


def test_benchmark_world_builds_fast_and_order_pages_cost_the_same_deep_in_the_list() -> None:
    world = SandboxWorld(SandboxConfig(products=100_000, orders=150_000))
    started = time.perf_counter()
    state = world.state("wildberries", wb_sandbox.build_state)
    assert time.perf_counter() - started < 20  # seconds, not minutes (about 3 s on an idle machine)
    assert len(state.cards) == 100_000 and not state.order_cache  # orders are generated lazily

    client = WildberriesClient(
        account(),
        transport=SandboxTransport(SandboxApp(world)),
        clock=FakeClock(world.now.timestamp()),
        limiter=LocalLimiter(),
    )
    client.orders_page_size = 500
    pages = client.iter_orders(world.now - timedelta(days=2))
    timings = []
    for _ in range(12):
        tick = time.perf_counter()
        page = next(pages)
        timings.append(time.perf_counter() - tick)
        assert len(page.items) == 500 and page.cursor["phase"] == "fbs"
    # Later pages must not rescan what earlier pages passed (no O(n^2) paging).
    assert sum(timings[-3:]) < 3 * sum(timings[:3]) + 0.5
