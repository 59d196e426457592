"""Building blocks of the pull sync: the order status machine, the COPY-staged upsert, and the
Celery wiring (routing, beat schedule, dispatch of due streams onto per-marketplace queues)."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from django.db import connection, transaction

from config.schedule import BEAT_SCHEDULE
from core.bulk import Upsert, upsert
from integrations.models import MarketplaceAccount, SyncRun
from integrations.tasks import dispatch_due_syncs, route_task, sync_stream
from orders.models import OrderStatus as S
from orders.status import ALLOWED, TERMINAL, can_transition, resolve

# ---------------------------------------------------------------------------------------------
# Status machine


def test_terminal_statuses_never_move_back() -> None:
    for terminal in TERMINAL:
        for other in S.values:
            assert resolve(terminal, other) == terminal or other == terminal


def test_forward_jumps_are_allowed_and_backward_moves_ignored() -> None:
    assert resolve(S.NEW, S.DELIVERED) == S.DELIVERED
    assert resolve(S.IN_DELIVERY, S.PROCESSING) == S.IN_DELIVERY
    assert resolve(S.DELIVERED, S.RETURNED) == S.RETURNED
    assert resolve(S.DELIVERED, S.CANCELLED) == S.DELIVERED
    assert resolve(None, S.PROCESSING) == S.PROCESSING


def test_unknown_values_land_in_unknown_and_leave_it_for_any_known_status() -> None:
    assert resolve(None, "something-new") == S.UNKNOWN
    assert resolve(S.PROCESSING, "something-new") == S.UNKNOWN
    assert resolve(S.UNKNOWN, S.READY_TO_SHIP) == S.READY_TO_SHIP
    assert not can_transition(S.CANCELLED, S.UNKNOWN)
    assert set(ALLOWED) == set(S.values)


# ---------------------------------------------------------------------------------------------
# COPY-staged upsert (on a scratch table, so only the helper is under test)

SCRATCH = Upsert(
    table="scratch_item",
    stage=[("key", "text"), ("value", "numeric(10,2)"), ("tags", "text[]")],
    insert=["key", "value", "tags"],
    conflict=["key"],
    compare=["value", "tags"],
    on_insert=["updated_at"],
    on_update=["updated_at"],
)


@pytest.fixture
def scratch(db) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE scratch_item (id bigserial PRIMARY KEY, key text UNIQUE, value numeric(10,2), "
            "tags text[], updated_at timestamptz)"
        )


def stamps() -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, updated_at FROM scratch_item")
        return dict(cursor.fetchall())


def test_upsert_counts_and_leaves_unchanged_rows_alone(scratch) -> None:
    from decimal import Decimal

    with transaction.atomic():
        counts, written = upsert(SCRATCH, [("a", Decimal("1.10"), ["x"]), ("b", Decimal("2"), [])], returning=["key"])
    assert (counts.created, counts.updated, counts.unchanged) == (2, 0, 0)
    assert sorted(k for _, k in written) == ["a", "b"]
    before = stamps()

    with transaction.atomic():
        counts, written = upsert(
            SCRATCH, [("a", Decimal("1.1"), ["x"]), ("b", Decimal("3"), []), ("c", None, None)], returning=["key"]
        )
    assert (counts.created, counts.updated, counts.unchanged) == (1, 1, 1)
    assert sorted(k for _, k in written) == ["b", "c"]  # only what was written
    after = stamps()
    assert after["a"] == before["a"] and after["b"] != before["b"]


def test_batches_of_only_new_rows_skip_the_unchanged_lookup_and_counts_stay_exact(scratch, monkeypatch) -> None:
    """A first sync's batches after the first find nothing stored: the per-row lookup of unchanged
    rows is left out (ON CONFLICT alone decides) until a batch meets stored rows again."""
    from decimal import Decimal

    from django.test.utils import CaptureQueriesContext

    from core import bulk

    monkeypatch.setattr(bulk, "_last_batch_all_new", set())

    def batch(rows: list[tuple[object, ...]]) -> tuple[tuple[int, int, int], bool]:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            counts, _ = upsert(SCRATCH, rows)
        looked_up = any("IS NOT DISTINCT FROM" in q["sql"] for q in queries.captured_queries)
        return (counts.created, counts.updated, counts.unchanged), looked_up

    assert batch([("a", Decimal(1), []), ("b", Decimal(2), [])]) == ((2, 0, 0), True)
    assert batch([("c", Decimal(3), [])]) == ((1, 0, 0), False)
    before = stamps()
    # Stored rows again, met without the lookup: the counts are exact, the unchanged row untouched.
    assert batch([("a", Decimal(1), []), ("b", Decimal(5), []), ("d", Decimal(4), [])]) == ((1, 1, 1), False)
    after = stamps()
    assert after["a"] == before["a"] and after["b"] != before["b"]
    assert batch([("a", Decimal(1), [])]) == ((0, 0, 1), True)  # looked up again


def test_a_growing_table_is_analyzed_each_time_it_doubles(
    scratch, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """Fresh statistics keep the upserts' joins on the index as a first sync fills the tables
    (ANALYZE runs after the commit, outside the batch's transaction)."""
    from core import bulk

    monkeypatch.setattr(bulk, "ANALYZE_MIN_ROWS", 5)
    monkeypatch.setitem(bulk._inserted_since_analyze, "scratch_item", 0)
    monkeypatch.setitem(bulk._size_at_analyze, "scratch_item", 0)

    def planner_rows() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'scratch_item'::regclass")
            return float(cursor.fetchone()[0])

    def insert(keys: range) -> None:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            upsert(SCRATCH, [(f"k{n}", n, []) for n in keys])

    insert(range(4))
    assert planner_rows() == -1  # never analyzed
    insert(range(4, 6))  # 6 new rows >= 5: analyzed
    assert planner_rows() == 6
    insert(range(4))  # unchanged rows are not growth
    insert(range(6, 11))  # 5 new < 6 at the last ANALYZE
    assert planner_rows() == 6
    insert(range(11, 12))  # 6 new: the table doubled
    assert planner_rows() == 12



def test_a_table_is_analyzed_once_an_accounts_first_rows_are_in(
    scratch, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """Statistics taken before an account had rows would send its lookups through the wrong
    index; its first rows trigger an ANALYZE even when the table as a whole has not doubled."""
    from dataclasses import replace

    from core import bulk

    monkeypatch.setattr(bulk, "ACCOUNT_FIRST_ROWS", 3)
    monkeypatch.setattr(bulk, "ANALYZE_MIN_ROWS", 1000)
    monkeypatch.setattr(bulk, "_inserted_for_account", defaultdict(int))
    monkeypatch.setattr(bulk, "_analyzed_for_account", set())
    monkeypatch.setitem(bulk._inserted_since_analyze, "scratch_item", 0)
    monkeypatch.setitem(bulk._size_at_analyze, "scratch_item", 0)
    analyzed: list[str] = []
    original = bulk._analyze
    monkeypatch.setattr(bulk, "_analyze", lambda table: (analyzed.append(table), original(table)))

    def planner_rows() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'scratch_item'::regclass")
            return float(cursor.fetchone()[0])

    def insert(account: int, keys: range) -> None:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            upsert(replace(SCRATCH, params={"account": account}), [(f"{account}-{n}", n, []) for n in keys])

    insert(1, range(2))
    assert analyzed == []
    with transaction.atomic():  # account 1's first 3 rows: analyzed at once, the batch's own rows counted
        upsert(replace(SCRATCH, params={"account": 1}), [("1-2", 2, []), ("1-3", 3, [])])
        assert analyzed == ["scratch_item"]
        assert planner_rows() == 4
    insert(1, range(4, 20))  # once per account, then only when the table doubles (1000 here)
    insert(2, range(2))
    assert analyzed == ["scratch_item"]
    insert(2, range(2, 3))  # account 2's first 3 rows
    assert analyzed == ["scratch_item", "scratch_item"]

# ---------------------------------------------------------------------------------------------
# Celery wiring

REDIS_URL = os.environ.get("SYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")


def test_every_beat_entry_expires_and_dispatches_known_streams() -> None:
    from integrations.sync.streams import STREAMS

    for name, entry in BEAT_SCHEDULE.items():
        assert entry["options"]["expires"] > 0, name
        if entry["task"] == "integrations.dispatch_due_syncs":
            assert set(entry["args"][0]) <= set(STREAMS), name
    dispatches = [e for e in BEAT_SCHEDULE.values() if e["task"] == "integrations.dispatch_due_syncs"]
    dispatched = {stream for entry in dispatches for stream in entry["args"][0]}
    assert dispatched == set(STREAMS)  # every stream is scheduled by some entry


def test_the_sync_task_acks_late_and_has_time_limits(settings) -> None:
    assert sync_stream.acks_late and sync_stream.reject_on_worker_lost
    assert sync_stream.soft_time_limit < sync_stream.time_limit < settings.CELERY_VISIBILITY_TIMEOUT


@pytest.mark.django_db
def test_route_task_sends_a_sync_to_its_marketplace_queue() -> None:
    account = MarketplaceAccount(marketplace="yandex_market", name="YM")
    account.set_credentials({"api_key": "k"})
    account.save()
    assert route_task("integrations.sync_stream", [account.pk, "orders"], {}, {}) == {"queue": "sync_yandex_market"}
    assert route_task("integrations.sync_stream", [account.pk, "orders"], {}, {"queue": "x"}) is None
    assert route_task("integrations.sweep_outbox", [], {}, {}) is None


@pytest.fixture
def redis_broker() -> Iterator[redis.Redis]:
    """Point this process's Celery app at the test Redis, as a web/beat process with REDIS_URL is."""
    from config.celery import app

    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        store.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    store.flushdb()
    saved = (app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = REDIS_URL, False
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    app._pool, app.amqp._producer_pool = None, None
    yield store
    app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager = saved
    app._pool, app.amqp._producer_pool = None, None
    store.flushdb()


@pytest.mark.django_db
def test_dispatch_enqueues_due_streams_once_per_interval_on_each_marketplace_queue(redis_broker, settings) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "d"}}
    accounts = {}
    for marketplace in ("ozon", "wildberries"):
        account = MarketplaceAccount(marketplace=marketplace, name=marketplace, sync_intervals={"orders": 10})
        account.set_credentials({"api_key": "k"})
        account.save()
        accounts[marketplace] = account
    fresh = SyncRun.objects.create(account=accounts["wildberries"], stream="orders", status="succeeded")
    SyncRun.objects.filter(pk=fresh.pk).update(finished_at=fresh.started_at + timedelta(seconds=5))

    sent = dispatch_due_syncs(["orders"])
    again = dispatch_due_syncs(["orders"])  # the next tick, before the task even started

    assert (sent, again) == (1, 0)
    assert redis_broker.llen("sync_ozon") == 1 and redis_broker.llen("sync_wildberries") == 0
