"""Fixtures: the in-process sandbox (root conftest), a recording transport and a client bound to both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from integrations.base import AccountConfig
from integrations.limiter import FakeClock, LocalLimiter
from integrations.sandbox import wildberries as wb_sandbox
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.credentials import WB_TOKEN
from integrations.sandbox.world import SandboxWorld
from integrations.wildberries.client import WildberriesClient

SANDBOX_URL = "http://sandbox.test/wildberries"


def account(token: str = WB_TOKEN, name: str = "WB Основной", base_url: str = SANDBOX_URL) -> AccountConfig:
    return AccountConfig(
        marketplace="wildberries", name=name, secrets={"token": token}, base_url=base_url, account_id=7
    )


@pytest.fixture
def recorder(sandbox_app: SandboxApp) -> RecordingTransport:
    return RecordingTransport(SandboxTransport(sandbox_app))


@pytest.fixture
def clock(sandbox_world: SandboxWorld) -> FakeClock:
    # The adapter's "now" (FBS windows, report dates) is the sandbox world's now.
    return FakeClock(sandbox_world.now.timestamp())


@pytest.fixture
def make_client(recorder: RecordingTransport, clock: FakeClock) -> Callable[..., WildberriesClient]:
    def build(config: AccountConfig | None = None, **overrides: Any) -> WildberriesClient:
        client = WildberriesClient(
            config or account(),
            transport=recorder,
            clock=clock,
            limiter=LocalLimiter(),
            max_retries=overrides.pop("max_retries", 4),
        )
        for name, value in overrides.items():
            setattr(client, name, value)
        return client

    return build


@pytest.fixture
def client(make_client: Callable[..., WildberriesClient]) -> WildberriesClient:
    return make_client()


@pytest.fixture
def wb_state(sandbox_world: SandboxWorld) -> wb_sandbox.WBState:
    state: wb_sandbox.WBState = sandbox_world.state("wildberries", wb_sandbox.build_state)
    return state
