"""Old FBS/DBS tasks not final yet are looked up by id (issue 9, point 1), through the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from integrations.base import OpenOrderRef
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.wildberries import limits
from integrations.wildberries.client import WildberriesClient


@pytest.fixture
def sandbox_world() -> SandboxWorld:
    return SandboxWorld(SandboxConfig(seed=42, products=40, orders=1000))  # six weeks of orders


def _refs(client: WildberriesClient, world: SandboxWorld) -> list[OpenOrderRef]:
    orders = [o for page in client.iter_orders(world.now - timedelta(days=90)) for o in page.items]
    return sorted((OpenOrderRef(o.external_id, o.scheme, o.ordered_at, o.raw_status) for o in orders),
                  key=lambda r: (r.ordered_at, r.external_id))


def test_old_tasks_are_looked_up_by_id_in_batches_and_resume_after_a_saved_page(
    make_client: Callable[..., WildberriesClient], recorder: RecordingTransport, sandbox_world: SandboxWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refs = _refs(make_client(), sandbox_world)
    window_start = sandbox_world.now - WildberriesClient.assembly_lookback
    old = [r for r in refs if r.scheme in ("FBS", "DBS") and r.ordered_at < window_start]
    assert {r.scheme for r in old} == {"FBS", "DBS"} and len(old) > 10
    monkeypatch.setattr(limits, "MAX_STATUS_IDS", 4)  # small batches: paging and resume on a small world

    seen = len(recorder.exchanges)
    pages = list(make_client().iter_order_updates(refs))

    items = [o for p in pages for o in p.items]
    assert {o.external_id for o in items} == {r.external_id for r in old}  # FBW and recent tasks are not asked
    assert all(o.status_only and not o.lines for o in items)
    assert {o.status for o in items} <= {"new", "processing", "in_delivery", "delivered", "cancelled"}
    bodies = [json.loads(r.content) for r, _ in recorder.exchanges[seen:]]
    assert all(len(b.get("orders") or b.get("ordersIds")) <= 4 for b in bodies)
    assert len(bodies) == sum(-(-sum(r.scheme == s for r in old) // 4) for s in ("FBS", "DBS"))  # fewest requests
    assert pages[-1].done and not any(p.done for p in pages[:-1])

    # A run stopped after its second page resumes with the rest, even if the list changed meanwhile.
    saved = pages[1].cursor
    rest = [o.external_id for p in make_client().iter_order_updates(refs[1:], saved) for o in p.items]
    assert rest == [o.external_id for p in pages[2:] for o in p.items]
