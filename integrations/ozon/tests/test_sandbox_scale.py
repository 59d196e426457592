"""The Ozon sandbox at benchmark size: building is quick and a page costs the same anywhere."""

from __future__ import annotations

import time

import httpx
import pytest

from integrations.sandbox import credentials
from integrations.sandbox import ozon as fake
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.world import SandboxConfig, SandboxWorld

pytestmark = pytest.mark.slow

HEADERS = {"Client-Id": credentials.OZON_CLIENT_ID, "Api-Key": credentials.OZON_API_KEY}


def test_150k_orders_build_in_seconds_and_page_without_rescanning() -> None:
    world = SandboxWorld(SandboxConfig(seed=5, products=2000, orders=150_000))
    started = time.perf_counter()
    state = world.state("ozon", fake.build_state)
    assert time.perf_counter() - started < 30
    assert state.scheduled >= 150_000 and len(state.return_orders) > 10_000

    app = SandboxApp(world)
    body = {"filter": {"since": "2026-08-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"}, "limit": 100}
    with httpx.Client(transport=httpx.MockTransport(app.handle), base_url="http://sandbox.test") as http:
        first = http.post("/ozon/v3/posting/fbo/list", headers=HEADERS, json=body).json()
        late_cursor = fake._encode_cursor(140_000)  # a cursor near the end of the shop's history
        started = time.perf_counter()
        late = http.post("/ozon/v3/posting/fbo/list", headers=HEADERS, json={**body, "cursor": late_cursor}).json()
        late_page = time.perf_counter() - started
    assert len(first["postings"]) == 100 and first["has_next"]
    assert len(late["postings"]) == 100 and late_page < 2.0
    assert late["postings"][0]["created_at"] > first["postings"][-1]["created_at"]
