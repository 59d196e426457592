"""Fixtures for the Yandex Market adapter tests: a small seeded sandbox world, in-process, recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from integrations.base import AccountConfig
from integrations.limiter import FakeClock, LocalLimiter
from integrations.sandbox import credentials
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.yandex_market.client import YandexMarketClient

ACCOUNT_NAME = "Маркет: основной кабинет"
BASE_URL = "http://sandbox.test/yandex_market"


def ym_config(api_key: str = credentials.YM_API_KEY, **overrides: Any) -> AccountConfig:
    values: dict[str, Any] = {"business_id": str(credentials.YM_BUSINESS_ID), "base_url": BASE_URL, **overrides}
    return AccountConfig("yandex_market", ACCOUNT_NAME, {"api_key": api_key}, **values)


@pytest.fixture
def world() -> SandboxWorld:
    return SandboxWorld(SandboxConfig(seed=11, products=40, orders=120))


@pytest.fixture
def app(world: SandboxWorld) -> SandboxApp:
    return SandboxApp(world)


@pytest.fixture
def recording(app: SandboxApp) -> RecordingTransport:
    return RecordingTransport(SandboxTransport(app))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(recording: RecordingTransport, clock: FakeClock) -> Callable[..., YandexMarketClient]:
    def make(config: AccountConfig | None = None, **attributes: Any) -> YandexMarketClient:
        client = YandexMarketClient(config or ym_config(), transport=recording, clock=clock, limiter=LocalLimiter())
        for name, value in attributes.items():  # smaller pages, windows...
            setattr(client, name, value)
        return client

    return make


@pytest.fixture
def client(make_client: Callable[..., YandexMarketClient]) -> YandexMarketClient:
    return make_client()


def requests_to(recording: RecordingTransport, method: str, path_end: str) -> int:
    return sum(1 for request, _ in recording.exchanges
               if request.method == method and request.url.path.endswith(path_end))
