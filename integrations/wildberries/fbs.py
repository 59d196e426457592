"""Wildberries FBS assembly-task actions (integrations.base.FulfilmentClient), 03-orders-fbs.yaml:

- assemble = add the tasks to a supply: PATCH /api/marketplace/v3/supplies/{supplyId}/orders (up to
  100 a request; the tasks move to `confirm`). Without a supply id a new one is created first
  (POST /api/v3/supplies). WB refuses a whole batch for one bad task (409), so a refused batch is
  sent again task by task to tell which ones WB refuses.
- deliver_supply: PATCH /api/v3/supplies/{supplyId}/deliver, then the supply's task ids
  (GET /api/marketplace/v3/supplies/{supplyId}/order-ids) as the per-task results.
- labels: POST /api/v3/orders/stickers?type=png&width=58&height=40 (PDF is not among the spec's
  types: svg, zplv, zplh, png). Tasks WB gives no sticker for are rejected with the reason.
- cancel: PATCH /api/v3/orders/{orderId}/cancel (no reason in the API).
- hand over a single task: not in the API; a whole supply is delivered.
DBS tasks (05-orders-dbs.yaml) have their own methods and are not covered here yet.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from integrations.base import (
    ActionResult,
    AuthError,
    FulfilmentAction,
    FulfilmentRequest,
    LabelResult,
    NotAvailableError,
    PermanentError,
    WriteStatus,
)
from integrations.payloads import frozen_payload
from integrations.wildberries import mapping
from integrations.wildberries.client import WildberriesClient
from integrations.wildberries.limits import Bucket, Host

SUPPLY_BATCH = 100
STICKER_BATCH = 100
MOSCOW = timedelta(hours=3)
UNSUPPORTED = {
    FulfilmentAction.HAND_OVER: _("Wildberries hands over whole supplies, not single tasks: deliver the supply"),
}
NOT_FBS = _("Only FBS assembly tasks have supplies, stickers and cancels in this version")
NO_STICKER = _("Wildberries gives stickers only for tasks on assembly (confirm) or in delivery (complete)")


@frozen_payload
class SupplyCreated:
    id: str


@frozen_payload
class SupplyOrderIds:  # v3.SupplyOrderIDsAPI
    orderIds: list[int] = ()  # type: ignore[assignment]


@frozen_payload
class Sticker:
    orderId: int
    file: str  # base64
    partA: str = ""
    partB: str = ""
    barcode: str = ""


@frozen_payload
class StickersResponse:
    stickers: list[Sticker] = ()  # type: ignore[assignment]


def _task_id(request: FulfilmentRequest) -> int | None:
    return int(request.order_external_id) if request.order_external_id.isdigit() else None


class WildberriesFulfilmentClient(WildberriesClient):
    def unsupported(self) -> dict[str, str]:
        return {str(action): str(reason) for action, reason in UNSUPPORTED.items()}

    def scheme_limits(self) -> dict[str, dict[str, str]]:
        """scheme -> action -> why not: DBS tasks have their own methods, not built here."""
        every = (FulfilmentAction.ASSEMBLE, FulfilmentAction.LABEL, FulfilmentAction.CANCEL,
                 FulfilmentAction.CREATE_SUPPLY)
        return {scheme: {str(action): str(NOT_FBS) for action in every} for scheme in ("DBS", "EXPRESS")}

    def create_supply(self, name: str) -> str:
        created = self._fetch(SupplyCreated, "create supply", "POST", Host.MARKETPLACE, "/api/v3/supplies",
                              Bucket.FBS, body={"name": name[:128]})
        return created.id

    def assemble(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]:
        results: dict[str, ActionResult] = {}
        valid = []
        for request in requests:
            if _task_id(request) is None or request.scheme not in ("", "FBS"):
                results[request.key] = ActionResult(request.key, WriteStatus.REJECTED, str(NOT_FBS))
            else:
                valid.append(request)
        new_supply = ""
        by_supply: dict[str, list[FulfilmentRequest]] = {}
        for request in valid:
            if not request.supply_id and not new_supply:
                new_supply = self.create_supply(f"Прилавок {(self._now() + MOSCOW):%d.%m.%Y %H:%M}")
            by_supply.setdefault(request.supply_id or new_supply, []).append(request)
        for supply_id, batch in by_supply.items():
            for start in range(0, len(batch), SUPPLY_BATCH):
                chunk = batch[start : start + SUPPLY_BATCH]
                if len(chunk) > 1 and self._add_to_supply(supply_id, chunk) is None:
                    results.update({r.key: _added(r, supply_id) for r in chunk})
                    continue
                for request in chunk:  # one by one: which task does WB refuse, and why
                    problem = self._add_to_supply(supply_id, [request])
                    results[request.key] = _added(request, supply_id) if problem is None else ActionResult(
                        request.key, WriteStatus.REJECTED, problem, remote_ref=supply_id)
        return [results[r.key] for r in requests]

    def _add_to_supply(self, supply_id: str, requests: Sequence[FulfilmentRequest]) -> str | None:
        """None when WB added them all, else its message."""
        try:
            self._call("PATCH", Host.MARKETPLACE, f"/api/marketplace/v3/supplies/{supply_id}/orders", Bucket.FBS,
                       body={"orders": [_task_id(r) for r in requests]}, expect_json=False)
        except (AuthError, NotAvailableError):  # the key or its scope: the whole call, not one order
            raise
        except PermanentError as exc:
            return exc.message
        return None

    def deliver_supply(self, supply_id: str) -> list[ActionResult]:
        self._call("PATCH", Host.MARKETPLACE, f"/api/v3/supplies/{supply_id}/deliver", Bucket.FBS,
                   expect_json=False)
        ids = self._fetch(SupplyOrderIds, "supply order ids", "GET", Host.MARKETPLACE,
                          f"/api/marketplace/v3/supplies/{supply_id}/order-ids", Bucket.FBS)
        status = mapping.assembly_status("complete", "waiting")
        return [ActionResult(str(task), WriteStatus.APPLIED, order_status=status, raw_status="complete",
                             remote_ref=supply_id) for task in ids.orderIds]

    def hand_over(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]:
        reason = str(UNSUPPORTED[FulfilmentAction.HAND_OVER])
        return [ActionResult(r.key, WriteStatus.REJECTED, reason) for r in requests]

    def cancel(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]:
        results = []
        for request in requests:
            task = _task_id(request)
            if task is None or request.scheme not in ("", "FBS"):
                results.append(ActionResult(request.key, WriteStatus.REJECTED, str(NOT_FBS)))
                continue
            try:
                self._call("PATCH", Host.MARKETPLACE, f"/api/v3/orders/{task}/cancel", Bucket.FBS, expect_json=False)
            except (AuthError, NotAvailableError):  # the key or its scope: the whole call, not one order
                raise
            except PermanentError as exc:
                results.append(ActionResult(request.key, WriteStatus.REJECTED, exc.message))
                continue
            results.append(ActionResult(request.key, WriteStatus.APPLIED, raw_status="cancel",
                                        order_status=mapping.assembly_status("cancel", "waiting")))
        return results

    def labels(self, requests: Sequence[FulfilmentRequest]) -> list[LabelResult]:
        results: dict[str, LabelResult] = {}
        tasks = [(r, _task_id(r)) for r in requests]
        for request, task in tasks:
            if task is None or request.scheme not in ("", "FBS"):
                results[request.key] = LabelResult(request.key, WriteStatus.REJECTED, str(NOT_FBS))
        wanted = [(r, t) for r, t in tasks if r.key not in results and t is not None]
        for start in range(0, len(wanted), STICKER_BATCH):
            chunk = wanted[start : start + STICKER_BATCH]
            try:
                answer = self._fetch(StickersResponse, "stickers", "POST", Host.MARKETPLACE, "/api/v3/orders/stickers",
                                     Bucket.FBS, params={"type": "png", "width": 58, "height": 40},
                                     body={"orders": [t for _, t in chunk]})
            except (AuthError, NotAvailableError):  # the key or its scope: the whole call, not one order
                raise
            except PermanentError as exc:
                results.update({r.key: LabelResult(r.key, WriteStatus.REJECTED, exc.message) for r, _ in chunk})
                continue
            files = {s.orderId: s.file for s in answer.stickers}
            for request, task in chunk:
                picture = base64.b64decode(files[task]) if task in files else b""
                results[request.key] = LabelResult(request.key, WriteStatus.APPLIED, content=picture,
                                                   content_type="image/png") if picture else LabelResult(
                    request.key, WriteStatus.REJECTED, str(NO_STICKER))
        return [results[r.key] for r in requests]


def _added(request: FulfilmentRequest, supply_id: str) -> ActionResult:
    return ActionResult(request.key, WriteStatus.APPLIED, order_status=mapping.assembly_status("confirm", "waiting"),
                        raw_status="confirm", remote_ref=supply_id)
