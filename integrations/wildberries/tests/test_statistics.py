"""WB statistics reports (12-reports `orders` and `sales`): flag=0 answers the rows changed at or
after dateFrom ("больше или равно"), and the adapter's lastChangeDate paging neither misses nor
loops on a boundary row (issue 9, point 12)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from integrations.sandbox import wildberries as wb_sandbox
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import RecordingTransport
from integrations.sandbox.credentials import WB_TOKEN
from integrations.sandbox.world import SandboxWorld
from integrations.wildberries.client import WildberriesClient

from .conftest import SANDBOX_URL

REPORTS = ["/api/v1/supplier/orders", "/api/v1/supplier/sales"]


def _report(app: SandboxApp, path: str, date_from: str) -> list[dict[str, Any]]:
    with httpx.Client(transport=SandboxTransport(app), headers={"Authorization": WB_TOKEN}) as http:
        response = http.get(f"{SANDBOX_URL}{path}", params={"dateFrom": date_from, "flag": 0})
    assert response.status_code == 200
    rows: list[dict[str, Any]] = response.json()
    return rows


def _read(client: WildberriesClient, path: str, since: Any, cursor: dict[str, Any] | None = None) -> list[str]:
    """Keys of what the adapter hands on from one report: FBW order srids or saleIDs."""
    if path.endswith("orders"):
        pages = client.iter_orders(since, cursor)
        return [o.srid for p in pages if p.cursor.get("phase") == "fbo" for o in p.items]
    return [s.external_id for p in client.iter_sales(since, cursor) for s in p.items]


@pytest.mark.parametrize("path", REPORTS)
def test_flag_0_answers_the_rows_changed_at_or_after_date_from(
    path: str, sandbox_app: SandboxApp, sandbox_world: SandboxWorld
) -> None:
    start = wb_sandbox._msk(sandbox_world.now - timedelta(days=90))
    rows = _report(sandbox_app, path, start)
    assert len(rows) > 10
    boundary = rows[len(rows) // 2]
    again = _report(sandbox_app, path, boundary["lastChangeDate"])
    # The row changed exactly at dateFrom is in the answer, and so is everything after it.
    key = "saleID" if path.endswith("sales") else "srid"
    assert again[0][key] == boundary[key] or boundary[key] in {r[key] for r in again}
    assert {r[key] for r in again} == {r[key] for r in rows if r["lastChangeDate"] >= boundary["lastChangeDate"]}


@pytest.mark.parametrize("path", REPORTS)
def test_a_row_changed_exactly_at_the_saved_date_from_is_not_missed(
    path: str, make_client: Callable[..., WildberriesClient], sandbox_app: SandboxApp, sandbox_world: SandboxWorld
) -> None:
    since = sandbox_world.now - timedelta(days=90)
    rows = _report(sandbox_app, path, wb_sandbox._msk(since))
    last = rows[-1]["lastChangeDate"]
    at_last = {r["saleID"] if path.endswith("sales") else r["srid"] for r in rows if r["lastChangeDate"] == last}
    if path.endswith("orders"):  # the adapter keeps the FBW rows; FBS/DBS come from their own methods
        at_last = {r["srid"] for r in rows if r["lastChangeDate"] == last and r["warehouseType"] == "Склад WB"}
        cursor: dict[str, Any] = {"phase": "fbo", "dateFrom": last}
    else:
        cursor = {"dateFrom": last}
    assert at_last

    # A run resumed at the last row's lastChangeDate (what the cursor saves) hands that row on.
    assert set(_read(make_client(), path, since, cursor)) == at_last


@pytest.mark.parametrize("path", REPORTS)
def test_paging_by_last_change_date_reads_every_row_and_stops(
    path: str, make_client: Callable[..., WildberriesClient], recorder: RecordingTransport,
    wb_state: wb_sandbox.WBState, sandbox_world: SandboxWorld, sandbox_app: SandboxApp,
) -> None:
    since = sandbox_world.now - timedelta(days=90)
    whole = _read(make_client(), path, since)
    report_rows = len(_report(sandbox_app, path, wb_sandbox._msk(since - timedelta(minutes=30))))
    assert len(whole) > 20
    asked_before = sum(1 for request, _ in recorder.exchanges if request.url.path.endswith(path))

    # WB caps an answer (80,000 rows); a cap of 7 makes the same paging happen on a small world.
    wb_state.statistics_page_rows = 7
    paged = _read(make_client(statistics_max_rows=7), path, since)

    assert set(paged) == set(whole)  # nothing missed at the page boundaries
    # Rows sharing a boundary come again (harmless upserts), but the read ends: no loop.
    requests = [r for r, _ in recorder.exchanges if r.url.path.endswith(path)][asked_before:]
    date_froms = [r.url.params["dateFrom"] for r in requests]
    assert len(date_froms) == len(set(date_froms))  # never the same question twice
    assert len(requests) <= report_rows // 6 + 2


def test_the_sales_report_is_asked_at_most_once_a_minute(
    make_client: Callable[..., WildberriesClient], clock: Any, sandbox_world: SandboxWorld
) -> None:
    client = make_client()
    since = sandbox_world.now - timedelta(days=90)
    list(client.iter_sales(since))
    waited = sum(clock.sleeps)
    list(client.iter_sales(since))  # one request a minute, burst 1 (12-reports, sales)
    assert sum(clock.sleeps) - waited >= 59
