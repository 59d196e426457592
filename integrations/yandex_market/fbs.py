"""Yandex Market FBS/Express/DBS order actions (integrations.base.FulfilmentClient), openapi/paths:

- assemble: the box layout (PUT /v2/campaigns/{campaignId}/orders/{orderId}/boxes, setOrderBoxLayout),
  then PROCESSING/READY_TO_SHIP through POST /v2/campaigns/{campaignId}/orders/status-update
  (updateOrderStatuses: 30 orders a request, a per-order updateStatus OK/ERROR).
- hand_over: DBS only (the shop delivers): READY_TO_SHIP -> DELIVERY. For FBS and Express, Market
  sets SHIPPED itself when it takes the parcel; the API offers the shop no such move.
- cancel: CANCELLED/SHOP_FAILED, the one cancel reason the API gives the shop.
- labels: GET /v2/campaigns/{campaignId}/orders/{orderId}/delivery/labels (generateOrderLabels), a PDF.
Every path names the order's campaign, which the business orders read gives (orderIds filter, 50 a
request), with the status and items checked before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from integrations.yandex_market import limits, mapping
from integrations.yandex_market import schemas as s
from integrations.yandex_market.client import YandexMarketClient
from integrations.yandex_market.limits import Bucket

LOOKUP_BATCH = 50
STATUS_BATCH = 30
UNSUPPORTED = {
    FulfilmentAction.CREATE_SUPPLY: _("Yandex Market has no supplies in the API for FBS orders"),
    FulfilmentAction.DELIVER_SUPPLY: _("Yandex Market has no supplies in the API for FBS orders"),
}
FBS_HAND_OVER = _("Yandex Market sets SHIPPED itself when it takes the parcel; the API lets the shop hand over "
                  "only DBS orders it delivers itself")


@frozen_payload
class StatusRow:  # UpdateOrderStatusDTO
    id: int | None = None
    status: str | None = None
    substatus: str | None = None
    updateStatus: str | None = None
    errorDetails: str | None = None


@frozen_payload
class StatusRows:
    orders: list[StatusRow] = ()  # type: ignore[assignment]


@frozen_payload
class StatusesResponse:  # UpdateOrderStatusesResponse
    result: StatusRows | None = None


@frozen_payload
class BoxesResponse:  # SetOrderBoxLayoutResponse
    result: dict[str, Any] | None = None


class YandexMarketFulfilmentClient(YandexMarketClient):
    def unsupported(self) -> dict[str, str]:
        return {str(action): str(reason) for action, reason in UNSUPPORTED.items()}

    def scheme_limits(self) -> dict[str, dict[str, str]]:
        """scheme -> action -> why not, for actions the API offers only for some schemes."""
        return {scheme: {str(FulfilmentAction.HAND_OVER): str(FBS_HAND_OVER)} for scheme in ("FBS", "EXPRESS")}

    # ---- lookups ----------------------------------------------------------------------------
    def _lookup(self, requests: Sequence[FulfilmentRequest]) -> dict[str, s.BusinessOrder]:
        ids = sorted({int(r.order_external_id) for r in requests if r.order_external_id.isdigit()})
        found: dict[str, s.BusinessOrder] = {}
        for start in range(0, len(ids), LOOKUP_BATCH):
            page = self._call_parsed(
                s.BusinessOrdersResponse, "orders", "POST", f"/v1/businesses/{self._business()}/orders",
                Bucket.ORDERS, scope=self._business_scope(), params={"limit": LOOKUP_BATCH},
                body={"orderIds": ids[start : start + LOOKUP_BATCH]},
            )
            found.update({str(order.orderId): order for order in page.orders})
        return found

    def _targets(
        self, requests: Sequence[FulfilmentRequest], results: dict[str, ActionResult]
    ) -> list[tuple[FulfilmentRequest, s.BusinessOrder]]:
        orders = self._lookup(requests)
        chosen = []
        for request in requests:
            order = orders.get(request.order_external_id)
            if order is None:
                results[request.key] = ActionResult(request.key, WriteStatus.REJECTED,
                                                     "Yandex Market does not find this order")
            else:
                chosen.append((request, order))
        return chosen

    # ---- status moves -----------------------------------------------------------------------
    def _move(
        self, chosen: Sequence[tuple[FulfilmentRequest, s.BusinessOrder]], status: str, substatus: str | None,
        results: dict[str, ActionResult],
    ) -> None:
        by_campaign: dict[int, list[tuple[FulfilmentRequest, s.BusinessOrder]]] = {}
        for request, order in chosen:
            by_campaign.setdefault(order.campaignId, []).append((request, order))
        for campaign, pairs in by_campaign.items():
            for start in range(0, len(pairs), STATUS_BATCH):
                batch = pairs[start : start + STATUS_BATCH]
                rows = [{"id": order.orderId, "status": status, **({"substatus": substatus} if substatus else {})}
                        for _, order in batch]
                try:
                    answer = self._call_parsed(
                        StatusesResponse, "order statuses", "POST", f"/v2/campaigns/{campaign}/orders/status-update",
                        Bucket.ORDER_STATUSES, scope=f"campaign:{campaign}", body={"orders": rows},
                    )
                except (AuthError, NotAvailableError):  # the key or its scope: the whole call, not one order
                    raise
                except PermanentError as exc:
                    results.update({r.key: ActionResult(r.key, WriteStatus.REJECTED, exc.message) for r, _ in batch})
                    continue
                by_id = {row.id: row for row in (answer.result.orders if answer.result else ())}
                for request, order in batch:
                    results[request.key] = _status_result(request.key, by_id.get(order.orderId))

    def assemble(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]:
        results: dict[str, ActionResult] = {}
        laid_out = []
        for request, order in self._targets(requests, results):
            problem = self._set_boxes(request, order)
            if problem:
                results[request.key] = ActionResult(request.key, WriteStatus.REJECTED, problem)
            else:
                laid_out.append((request, order))
        self._move(laid_out, "PROCESSING", "READY_TO_SHIP", results)
        return [results[r.key] for r in requests]

    def _set_boxes(self, request: FulfilmentRequest, order: s.BusinessOrder) -> str:
        """"" when Market took the layout, else its message."""
        boxes = request.packages or (request.lines,)
        if not all(line.line_key.isdigit() for box in boxes for line in box) or not any(boxes):
            return "Yandex Market needs the order's items by item id to lay out its boxes"
        body = {"boxes": [{"items": [{"id": int(line.line_key), "fullCount": line.quantity} for line in box]}
                          for box in boxes if box]}
        try:
            self._call_parsed(BoxesResponse, "box layout", "PUT",
                              f"/v2/campaigns/{order.campaignId}/orders/{order.orderId}/boxes", Bucket.ORDER_BOXES,
                              scope=f"campaign:{order.campaignId}", body=body)
        except (AuthError, NotAvailableError):  # the key or its scope: the whole call, not one order
            raise
        except PermanentError as exc:
            return exc.message
        return ""

    def hand_over(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]:
        results: dict[str, ActionResult] = {}
        own_delivery = []
        for request, order in self._targets(requests, results):
            if order.programType == "DBS":
                own_delivery.append((request, order))
            else:
                results[request.key] = ActionResult(request.key, WriteStatus.REJECTED, str(FBS_HAND_OVER))
        self._move(own_delivery, "DELIVERY", None, results)
        return [results[r.key] for r in requests]

    def cancel(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]:
        results: dict[str, ActionResult] = {}
        self._move(self._targets(requests, results), "CANCELLED", "SHOP_FAILED", results)
        return [results[r.key] for r in requests]

    # ---- labels -----------------------------------------------------------------------------
    def labels(self, requests: Sequence[FulfilmentRequest]) -> list[LabelResult]:
        results: dict[str, LabelResult] = {}
        found: dict[str, ActionResult] = {}
        for request, order in self._targets(requests, found):
            path = f"/v2/campaigns/{order.campaignId}/orders/{order.orderId}/delivery/labels"
            try:
                response = self.http.request(
                    "GET", self._base_url + path, limit_key=f"{self._account_key}:{Bucket.ORDER_LABELS.value}",
                    rule=limits.RULES[Bucket.ORDER_LABELS], headers={"Api-Key": self._api_key},
                    params={"format": "A7"}, expect_json=False,
                )
            except (AuthError, NotAvailableError):  # the key or its scope: the whole call, not one order
                raise
            except PermanentError as exc:
                results[request.key] = LabelResult(request.key, WriteStatus.REJECTED, exc.message)
                continue
            if not response.content.startswith(b"%PDF"):
                results[request.key] = LabelResult(request.key, WriteStatus.REJECTED, "Yandex Market answered no PDF")
            else:
                results[request.key] = LabelResult(request.key, WriteStatus.APPLIED, content=response.content,
                                                   content_type="application/pdf")
        for key, refused in found.items():
            results[key] = LabelResult(key, WriteStatus.REJECTED, refused.message)
        return [results[r.key] for r in requests]

    def create_supply(self, name: str) -> str:
        raise PermanentError(str(UNSUPPORTED[FulfilmentAction.CREATE_SUPPLY]))

    def deliver_supply(self, supply_id: str) -> list[ActionResult]:
        raise PermanentError(str(UNSUPPORTED[FulfilmentAction.DELIVER_SUPPLY]))


def _status_result(key: str, row: StatusRow | None) -> ActionResult:
    if row is None:
        return ActionResult(key, WriteStatus.REJECTED, "Yandex Market did not answer for this order")
    if row.updateStatus != "OK":
        return ActionResult(key, WriteStatus.REJECTED, row.errorDetails or f"update status {row.updateStatus}")
    raw = row.status or ""
    return ActionResult(key, WriteStatus.APPLIED, order_status=mapping.order_status(raw, row.substatus),
                        raw_status=raw)
