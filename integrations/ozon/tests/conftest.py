"""Fixtures: a small seeded sandbox world and Ozon clients talking to it in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from integrations.base import AccountConfig
from integrations.limiter import FakeClock, LocalLimiter
from integrations.ozon.client import OzonClient
from integrations.sandbox import credentials
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld

SANDBOX_URL = "http://sandbox.test/ozon"


def ozon_config(api_key: str = credentials.OZON_API_KEY, client_id: str = credentials.OZON_CLIENT_ID,
                base_url: str = SANDBOX_URL, name: str = "Ozon «Главный магазин»") -> AccountConfig:
    return AccountConfig(marketplace="ozon", name=name, secrets={"api_key": api_key}, client_id=client_id,
                         base_url=base_url, account_id=11)


@pytest.fixture
def world() -> SandboxWorld:
    return SandboxWorld(SandboxConfig(seed=7, products=40, orders=120))


@pytest.fixture
def app(world: SandboxWorld) -> SandboxApp:
    return SandboxApp(world)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder(app: SandboxApp) -> RecordingTransport:
    return RecordingTransport(SandboxTransport(app))


@pytest.fixture
def make_client(recorder: RecordingTransport, clock: FakeClock) -> Callable[..., OzonClient]:
    def build(config: AccountConfig | None = None, transport: httpx.BaseTransport | None = None,
              **kwargs: Any) -> OzonClient:
        kwargs.setdefault("max_retries", 3)
        return OzonClient(config or ozon_config(), transport=transport or recorder, clock=clock,
                          limiter=LocalLimiter(), **kwargs)

    return build


@pytest.fixture
def client(make_client: Callable[..., OzonClient]) -> OzonClient:
    return make_client()
