"""The sandbox's hooks for the freshness benchmark and the bad-data tests: a clock that follows the
wall clock, the count of 429/420 answers, and altered answers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from integrations.sandbox import credentials
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.world import SandboxConfig, SandboxWorld

OZON_HEADERS = {"Client-Id": credentials.OZON_CLIENT_ID, "Api-Key": credentials.OZON_API_KEY}


def test_the_clock_follows_the_wall_clock_on_a_tick_grid() -> None:
    world = SandboxWorld(SandboxConfig(orders=10, start=datetime.now(UTC) - timedelta(minutes=3)))
    world.follow_wall_clock(0.2)
    time.sleep(1.5)  # the first tick also builds each marketplace's state
    lag = (datetime.now(UTC) - world.now).total_seconds()
    assert 0 <= lag < 0.45
    # On the grid of whole 0.2 s ticks, in whole microseconds: a float quotient of a 1.8e9 s timestamp carries
    # ~2e-6 of rounding error, which made the check fail now and then.
    micros = round(world.now.timestamp() * 1_000_000)
    assert micros % 200_000 == 0
    world.advance_to(world.now - timedelta(minutes=1))  # never backwards
    assert (datetime.now(UTC) - world.now).total_seconds() < 0.45


def test_limit_answers_are_counted_per_marketplace() -> None:
    world = SandboxWorld(SandboxConfig(limits_enabled=True))
    app = SandboxApp(world)
    with httpx.Client(transport=httpx.MockTransport(app.handle), base_url="http://sandbox.test") as http:
        codes = [http.post("/ozon/v1/roles", headers=OZON_HEADERS).status_code for _ in range(53)]
        state = http.get("/_control/state").json()
    assert codes.count(429) == 3
    assert state["limit_answers"] == {"ozon": 3, "wildberries": 0, "yandex_market": 0}


def test_forbidden_paths_and_body_replacements_alter_answers() -> None:
    app = SandboxApp(SandboxWorld())
    with httpx.Client(transport=httpx.MockTransport(app.handle), base_url="http://sandbox.test") as http:
        http.post("/_control/faults", json={"forbidden_paths": ["/v1/roles"],
                                            "body_replacements": [["PRL-00001", "PRL-\\u0000"]]})
        refused = http.post("/ozon/v1/roles", headers=OZON_HEADERS)
        listed = http.post("/ozon/v3/product/list", headers=OZON_HEADERS, json={"filter": {}, "limit": 5})
    assert refused.status_code == 403 and "Premium" in refused.json()["message"]
    assert b"PRL-\\u0000" in listed.content and b"PRL-00001" not in listed.content
    assert listed.json()["result"]["items"][0]["offer_id"] == "PRL-\x00"
