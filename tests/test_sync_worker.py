"""The pull sync through real Redis, a real Celery worker (subprocess) and the sandbox over real HTTP
on loopback: a worker killed mid-sync is replaced and the sync ends with exactly one copy of every
row; two simultaneous triggers of one stream run once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings

from catalog.models import Listing
from config.env import database_url
from integrations.base import AccountConfig
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount, SyncRun
from integrations.registry import client_class
from integrations.sandbox import credentials as sandbox_credentials
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.tasks import sync_queue

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("SYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
MARKETPLACE = "wildberries"
SECRETS = {"token": sandbox_credentials.WB_TOKEN}
# Short enough for a test, in the order production keeps: soft < hard < visibility timeout.
WORKER_ENV = {
    "CELERY_VISIBILITY_TIMEOUT": "16",
    "SYNC_TASK_SOFT_TIME_LIMIT": "12",
    "SYNC_TASK_TIME_LIMIT": "14",
    "SYNC_LEASE_STALE_SECONDS": "3",
    "MARKETPLACE_LIMITS_ENABLED": "0",
}

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker() -> Iterator[Celery]:
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        store.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    store.flushdb()  # this test's own database number only
    # Not the current app: shared tasks of later tests must keep publishing through config.celery.
    producer = Celery("sync-test-producer", broker=REDIS_URL, set_as_current=False)
    producer.conf.broker_transport_options = {"visibility_timeout": int(WORKER_ENV["CELERY_VISIBILITY_TIMEOUT"])}
    yield producer
    producer.close()
    store.flushdb()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    now = datetime.now(UTC).replace(microsecond=0)
    world = SandboxWorld(SandboxConfig(seed=11, products=2000, orders=50, start=now))
    world.faults.latency_ms = 120  # slow enough to kill the worker in the middle of the sync
    server = SandboxServer(SandboxApp(world)).start()
    yield server
    server.stop()


@pytest.fixture
def account(sandbox: SandboxServer) -> MarketplaceAccount:
    acc = MarketplaceAccount(marketplace=MARKETPLACE, name="WB (sandbox)", base_url=sandbox.base_url(MARKETPLACE))
    acc.set_credentials(SECRETS)
    acc.save()
    return acc


class Worker:
    def __init__(self, name: str, log: Path, concurrency: int = 1) -> None:
        db = settings.DATABASES["default"]
        env = {
            **os.environ,
            **WORKER_ENV,
            "REDIS_URL": REDIS_URL,
            "DATABASE_URL": database_url(db),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", sync_queue(MARKETPLACE),
             f"--concurrency={concurrency}", "--pool=prefork", "-n", f"{name}@%h", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def results(self) -> list[str]:
        """Return values of finished tasks, from the worker's log."""
        pattern = r"Task integrations\.sync_stream\[[^\]]+\] succeeded in [\d.]+s: '(\w+)'"
        return re.findall(pattern, self.log.read_text())

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children die at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def sandbox_listing_ids(server: SandboxServer) -> set[str]:
    """What the marketplace has, read with the same adapter in-process (no latency, fake clock)."""
    config = AccountConfig(marketplace=MARKETPLACE, name="reader", secrets=SECRETS, base_url=f"http://sandbox/{MARKETPLACE}")
    saved, server.app.world.faults.latency_ms = server.app.world.faults.latency_ms, 0
    try:
        client = client_class(MARKETPLACE)(config, transport=SandboxTransport(server.app), clock=FakeClock(),
                                           limiter=LocalLimiter())
        return {item.external_id for page in client.iter_listings() for item in page.items}
    finally:
        server.app.world.faults.latency_ms = saved


def trigger(producer: Celery, account: MarketplaceAccount, stream: str) -> None:
    producer.send_task("integrations.sync_stream", args=(account.pk, stream), kwargs={"trigger": "test"},
                       queue=sync_queue(MARKETPLACE))


def test_a_worker_killed_mid_sync_is_replaced_and_every_row_ends_up_once(
    broker: Celery, sandbox: SandboxServer, account: MarketplaceAccount, tmp_path: Path
) -> None:
    first = Worker("first", tmp_path / "first.log")
    second = None
    try:
        trigger(broker, account, "listings")
        wait_for(lambda: SyncRun.objects.filter(account=account, stream="listings", pages__gte=3).exists(), 60,
                 "the first worker to store 3 pages")
        first.kill()
        killed = SyncRun.objects.get(account=account, stream="listings")
        stored_before = Listing.objects.filter(account=account).count()
        assert killed.status == SyncRun.Status.RUNNING  # nobody closed it: the worker died
        assert 0 < stored_before < 2000

        # The message was never acked: after the visibility timeout Redis hands it to the new
        # worker, whose task reclaims the stale lease and resumes from the saved cursor.
        second = Worker("second", tmp_path / "second.log")
        wait_for(lambda: SyncRun.objects.filter(account=account, stream="listings", status="succeeded").exists(), 90,
                 "the redelivered task to finish the sync")

        killed.refresh_from_db()
        resumed = SyncRun.objects.get(account=account, stream="listings", status="succeeded")
        assert killed.status == SyncRun.Status.ABANDONED
        assert resumed.progress["resumed"] is True and resumed.progress["task_id"] == killed.progress["task_id"]
        expected = sandbox_listing_ids(sandbox)
        stored = list(Listing.objects.filter(account=account).values_list("external_id", flat=True))
        assert len(stored) == len(set(stored)) == len(expected)
        assert set(stored) == expected
        # Later runs (the soft time limit may split the rest in two) stored only what was missing.
        later = SyncRun.objects.filter(account=account, stream="listings").exclude(pk=killed.pk)
        assert all(run.progress["resumed"] for run in later)
        assert sum(run.created for run in later) == len(expected) - stored_before
    finally:
        first.kill()
        if second is not None:
            second.kill()


def test_two_simultaneous_triggers_of_one_stream_run_once(
    broker: Celery, sandbox: SandboxServer, account: MarketplaceAccount, tmp_path: Path
) -> None:
    worker = Worker("pair", tmp_path / "pair.log", concurrency=2)
    try:
        trigger(broker, account, "listings")
        trigger(broker, account, "listings")
        wait_for(lambda: len(worker.results()) == 2, 90, "both tasks to finish")

        assert sorted(worker.results()) == ["busy", "done"]
        assert SyncRun.objects.filter(account=account, stream="listings").count() == 1
        stored = list(Listing.objects.filter(account=account).values_list("external_id", flat=True))
        assert len(stored) == len(set(stored)) == len(sandbox_listing_ids(sandbox))
    finally:
        worker.kill()
