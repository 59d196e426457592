"""The push path through real Redis and a real Celery worker: a change committed here is pushed
by the worker to the sandbox (real HTTP on loopback); a doorbell lost with Redis' data is made up
for by the sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis
from django.conf import settings

from config.env import database_url
from integrations.models import OutboxChange
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from pricing import services as pricing
from tests.test_outbox_sandbox import Sandbox, next_price, read_back, seed_listings

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("PUSH_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


def _start_worker() -> subprocess.Popen[bytes]:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": database_url(db),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "push_ozon,celery",
         "--concurrency=1", "--pool=prefork", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def _wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def _forget_connections(app) -> None:
    """Drop the cached broker pools so the next publish connects to the broker now configured."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_app():
    """This process's Celery app publishing to the test Redis (as a web process with REDIS_URL would)."""
    from config.celery import app

    store = _redis()
    store.flushdb()
    saved = (app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = REDIS_URL, False
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    _forget_connections(app)
    yield app, store
    app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager = saved
    _forget_connections(app)
    store.flushdb()


def test_worker_pushes_after_commit_and_the_sweep_recovers_a_lost_doorbell(redis_app):
    app, store = redis_app
    server = SandboxServer(SandboxApp(SandboxWorld(SandboxConfig(seed=7, products=12, orders=5)))).start()
    worker = None
    try:
        sandbox = Sandbox("ozon", base_url=server.url)
        sandbox.world = server.app.world
        sandbox.recording = RecordingTransport(httpx.HTTPTransport())  # reads go to the server too
        first, second = seed_listings(sandbox, 2)

        # 1. No worker yet; the doorbell waits in Redis, then Redis loses it (restart without persistence).
        lost = pricing.change_price(first, next_price(first), user=None, force=True)
        assert store.llen("push_ozon") == 1
        store.flushdb()

        # 2. A worker starts; a new change is pushed as soon as it is committed.
        worker = _start_worker()
        pushed = pricing.change_price(second, next_price(second), user=None, force=True)
        assert _wait_for(lambda: OutboxChange.objects.get(pk=pushed.pk).status == OutboxChange.Status.APPLIED)
        # The doorbell of `lost` never arrived, but the worker's push drains the whole account.
        assert OutboxChange.objects.get(pk=lost.pk).status == OutboxChange.Status.APPLIED

        # 3. The worker dies, a doorbell is lost with Redis' data, a new worker starts: the periodic
        #    sweep (sent here instead of by beat) finds the row.
        _stop(worker)
        again = pricing.change_price(first, next_price(first) + 1, user=None, force=True)
        store.flushdb()
        worker = _start_worker()
        app.send_task("integrations.sweep_outbox", queue="celery")
        assert _wait_for(lambda: OutboxChange.objects.get(pk=again.pk).status == OutboxChange.Status.APPLIED)

        prices = read_back(sandbox)
        assert prices[first.external_id] == Decimal(again.payload["price"])
        assert prices[second.external_id] == Decimal(pushed.payload["price"])
    finally:
        if worker is not None:
            _stop(worker)
        server.stop()
