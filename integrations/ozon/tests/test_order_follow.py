"""Open postings older than the change read's window are followed by number until their final status
(issue 9, point 1): the sandbox moves some postings delivering -> delivered weeks after creation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from integrations.base import OpenOrderRef, OrderDTO
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount
from integrations.ozon import client as ozon_client
from integrations.ozon.client import OzonClient
from integrations.ozon.tests.conftest import ozon_config
from integrations.sandbox import credentials
from integrations.sandbox import ozon as fake
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import ContractChecker, RecordingTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.sync import engine
from orders.ingest import FINAL_STATUSES
from orders.models import Order, OrderStatusChange

# See test_reads.py: the spec's since/to `pattern` is a placeholder no timestamp matches.
SPEC_PLACEHOLDER_PATTERN = "does not match ' YYYY-MM-DDThh:mm:ssZ'"
DAY = 86400


def late_finishers(world: SandboxWorld) -> dict[int, tuple[int, int, str]]:
    """Per scheme (FBS, FBO): a posting created before the start, still open at the start, whose
    final status comes later than the change read's lookback after its creation, within 60 days."""
    state: fake.OzonState = world.state("ozon", fake.build_state)
    start = state.start_ts
    lookback = {fake.FBS: ozon_client.FBS_LOOKBACK, fake.FBO: ozon_client.FBO_LOOKBACK}
    chosen: dict[int, tuple[int, int, str]] = {}
    for i in range(state.visible_orders(start)):
        scheme, path, times = state.order_core(i)
        if scheme not in lookback or scheme in chosen:
            continue
        statuses = fake.PATHS[path][2]
        late = times[0] + lookback[scheme].total_seconds() + 2 * DAY
        if times[-1] > max(start + 5 * DAY, late) and times[-1] < start + 60 * DAY and times[-2] < start:
            chosen[scheme] = (i, times[-1], statuses[-1])
    assert set(chosen) == set(lookback), "the seeded sandbox has a late finisher of each kind"
    return chosen


def open_refs(orders: list[OrderDTO]) -> list[OpenOrderRef]:
    refs = [OpenOrderRef(o.external_id, o.scheme, o.ordered_at, o.raw_status) for o in orders
            if o.status not in FINAL_STATUSES]
    return sorted(refs, key=lambda r: (r.ordered_at, r.external_id))


def at_world_time(clock: FakeClock, world: SandboxWorld) -> None:
    clock.current = world.now.timestamp()


@pytest.fixture
def world() -> SandboxWorld:
    return SandboxWorld(SandboxConfig(seed=7, products=40, orders=120))


def test_old_open_postings_are_read_by_number_with_few_requests_and_follow_the_spec(
    world: SandboxWorld, recorder: RecordingTransport, clock: FakeClock
) -> None:
    client = OzonClient(ozon_config(), transport=recorder, clock=clock, limiter=LocalLimiter())
    at_world_time(clock, world)
    since = world.now - timedelta(days=90)
    known = [o for page in client.iter_orders(since) for o in page.items]
    refs = open_refs(known)
    late = late_finishers(world)
    numbers = {scheme: fake._order_numbers(i)[2] for scheme, (i, _, _) in late.items()}
    assert set(numbers.values()) <= {r.external_id for r in refs}

    world.advance(int(max(at for _, at, _ in late.values()) - world.now.timestamp()) // 60 + 60)
    at_world_time(clock, world)
    recorder.exchanges.clear()
    pages = list(client.iter_order_updates(refs))

    followed = {o.external_id: o for page in pages for o in page.items}
    for scheme, (_, _, final) in late.items():
        assert followed[numbers[scheme]].raw_status == final, scheme
    # Only what the change read no longer covers is asked for...
    fbs_cut = world.now - ozon_client.FBS_LOOKBACK + ozon_client.FOLLOW_OVERLAP
    fbo_cut = world.now - ozon_client.FBO_LOOKBACK + ozon_client.FOLLOW_OVERLAP
    expected = {r.external_id for r in refs if r.ordered_at < (fbo_cut if r.scheme == "FBO" else fbs_cut)}
    assert expected and set(followed) == expected
    # ...and in one list request per scheme (100 numbers a request), not one per posting.
    paths = Counter(request.url.path.removeprefix("/ozon") for request, _ in recorder.exchanges)
    assert paths == {"/v4/posting/fbs/list": 1, "/v3/posting/fbo/list": 1}, paths
    assert pages[-1].done and not any(p.done for p in pages[:-1])

    # A lone posting, or one a list does not return, is looked up by number.
    lone = [r for r in refs if r.external_id == numbers[fake.FBS]] + [
        r for r in refs if r.external_id == numbers[fake.FBO]]
    odd = OpenOrderRef("0000-unknown", "FBS", lone[0].ordered_at)
    recorder.exchanges.clear()
    again = [o for page in client.iter_order_updates([lone[0], odd, lone[1]]) for o in page.items]
    assert {o.external_id for o in again} == {numbers[fake.FBS], numbers[fake.FBO]}
    paths = Counter(request.url.path.removeprefix("/ozon") for request, _ in recorder.exchanges)
    assert paths == {"/v4/posting/fbs/list": 1, "/v3/posting/fbs/get": 1, "/v2/posting/fbo/get": 1}, paths

    checker = ContractChecker.for_marketplace("ozon")
    violations = [v for request, response in recorder.exchanges for v in checker.check_exchange(request, response)
                  if SPEC_PLACEHOLDER_PATTERN not in v]
    assert violations == []


def test_the_follow_cursor_resumes_after_a_page_though_the_open_list_changed(
    world: SandboxWorld, make_client: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ozon_client, "FBS_ORDER_NUMBERS", 3)
    monkeypatch.setattr(ozon_client, "FBO_POSTING_NUMBERS", 3)
    # Short windows, so that many open postings are followed in several chunks of three.
    monkeypatch.setattr(ozon_client, "FBS_LOOKBACK", timedelta(days=3))
    monkeypatch.setattr(ozon_client, "FBO_LOOKBACK", timedelta(days=3))
    at_world_time(clock, world)
    known = [o for page in make_client().iter_orders(world.now - timedelta(days=90)) for o in page.items]
    refs = open_refs(known)
    # Each read starts at the same moment: the client's rate-limit waits move the fake clock, and
    # with it the date windows the lists are asked for.
    at_world_time(clock, world)
    full = list(make_client().iter_order_updates(refs))
    everything = [o.external_id for page in full for o in page.items]
    assert len(full) >= 4 and len(everything) == len(set(everything))
    fbo_first = next(n for n, p in enumerate(full) if p.cursor["part"] == "fbo")

    for stop_after in (1, fbo_first + 1):
        at_world_time(clock, world)
        interrupted = make_client().iter_order_updates(refs)
        done = [next(interrupted) for _ in range(stop_after)]
        seen = {o.external_id for p in done for o in p.items}
        # Meanwhile the pages read were stored; some of those postings left the open list.
        still_open = [r for r in refs if r.external_id not in seen or r.external_id in everything[::2]]
        at_world_time(clock, world)
        rest = [o.external_id for p in make_client().iter_order_updates(still_open, done[-1].cursor)
                for o in p.items]
        assert not seen & set(rest)
        assert sorted(seen | set(rest)) == sorted(everything)


@pytest.mark.django_db
def test_a_sync_follows_an_old_posting_to_its_final_status(world: SandboxWorld) -> None:
    world = SandboxWorld(SandboxConfig(seed=7, products=40, orders=120,
                                       start=datetime.now(UTC).replace(microsecond=0)))
    app = SandboxApp(world)
    clock = FakeClock()
    account = MarketplaceAccount(marketplace="ozon", name="Ozon sandbox", base_url="http://sandbox.test/ozon",
                                 client_id=credentials.OZON_CLIENT_ID)
    account.set_credentials({"api_key": credentials.OZON_API_KEY})
    account.save()
    client = OzonClient(ozon_config(base_url=account.base_url), transport=SandboxTransport(app), clock=clock,
                        limiter=LocalLimiter())
    late = late_finishers(world)
    numbers = {scheme: fake._order_numbers(i)[2] for scheme, (i, _, _) in late.items()}
    at_world_time(clock, world)
    engine.run_stream(account, "listings", client=client, heartbeat=False)
    engine.run_stream(account, "orders", client=client, heartbeat=False)
    before = dict(Order.objects.filter(external_id__in=numbers.values()).values_list("external_id", "status"))
    assert set(before.values()) == {"in_delivery"}

    # The shop keeps selling; orders sync every few days while the old postings stay in delivery.
    end = max(at for _, at, _ in late.values()) + DAY
    while world.now.timestamp() < end:
        world.advance(5 * 24 * 60)
        at_world_time(clock, world)
        engine.run_stream(account, "orders", client=client, heartbeat=False)

    for scheme, number in numbers.items():
        order = Order.objects.get(account=account, external_id=number)
        assert (order.status, order.raw_status) == ("delivered", "delivered"), scheme
        assert OrderStatusChange.objects.filter(order=order, from_status="in_delivery",
                                                to_status="delivered").count() == 1
    again = engine.run_stream(account, "orders", client=client, heartbeat=False)
    assert again.updated == 0
