"""Shared fixtures: the in-process sandbox and accounts connected to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Each test starts with an empty Django cache. With REDIS_URL the cache outlives a test's rolled-back
    rows (cached counts, a user's unread notifications by user id), so a later test would read them."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def sandbox_world() -> SandboxWorld:
    return SandboxWorld(SandboxConfig(seed=42, products=40, orders=120))


@pytest.fixture
def sandbox_app(sandbox_world: SandboxWorld) -> SandboxApp:
    return SandboxApp(sandbox_world)


@pytest.fixture
def sandbox_transport(sandbox_app: SandboxApp) -> SandboxTransport:
    return SandboxTransport(sandbox_app)


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Celery runs each task in the caller's process as it is sent (a report job, a reconciliation, the
    e-mails of a notification), for tests that follow a task to its end without a worker."""
    from config.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved
