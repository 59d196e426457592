"""Shared fixtures: the in-process sandbox and accounts connected to it."""

from __future__ import annotations

import pytest

from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld


@pytest.fixture
def sandbox_world() -> SandboxWorld:
    return SandboxWorld(SandboxConfig(seed=42, products=40, orders=120))


@pytest.fixture
def sandbox_app(sandbox_world: SandboxWorld) -> SandboxApp:
    return SandboxApp(sandbox_world)


@pytest.fixture
def sandbox_transport(sandbox_app: SandboxApp) -> SandboxTransport:
    return SandboxTransport(sandbox_app)
