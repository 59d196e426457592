"""Ozon FBS/rFBS posting actions (integrations.base.FulfilmentClient) on top of the Ozon adapter.

- assemble: POST /v4/posting/fbs/ship (not deprecated; v3 is gone) with the packages; the posting
  moves to `awaiting_deliver`. A 200 does not promise the packing succeeded (the spec's warning):
  the next sync reads the posting's real status.
- labels: POST /v2/posting/fbs/package-label, one posting per request: Ozon prints nothing for a
  batch with one posting not ready, and one posting a request gives the per-item answer.
- cancel: POST /v2/posting/fbs/cancel with a documented reason id.
- hand over: nothing to call for FBS (Ozon's driver or drop-off point scans the parcel). rFBS has
  /v2/fbs/posting/delivering, /last-mile, /delivered: not built yet (the sandbox's rFBS postings
  walk via sent_by_seller, so it would need a new status path there first). Supplies are WB's notion.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from integrations.base import (
    ActionResult,
    AuthError,
    CancelReason,
    FulfilmentAction,
    FulfilmentRequest,
    LabelResult,
    NotAvailableError,
    PermanentError,
    ShipmentLine,
    WriteStatus,
)
from integrations.ozon import limits, mapping
from integrations.ozon.client import OzonClient
from integrations.payloads import frozen_payload, parse_json

PDF = "application/pdf"
CANCEL_REASON_IDS = {CancelReason.OUT_OF_STOCK: 352, CancelReason.DEFECT: 400, CancelReason.OTHER: 402}
UNSUPPORTED = {
    FulfilmentAction.HAND_OVER: _("Ozon: an FBS posting is handed over when Ozon's driver or drop-off point "
                                  "scans it; the API has no call for it (rFBS status moves are not built yet)"),
    FulfilmentAction.CREATE_SUPPLY: _("Ozon has no supplies: postings are packed one by one"),
    FulfilmentAction.DELIVER_SUPPLY: _("Ozon has no supplies: postings are packed one by one"),
}


@frozen_payload
class ShipResponse:  # fbsv4FbsPostingShipV4Response
    result: list[str] = ()  # type: ignore[assignment]


@frozen_payload
class BooleanResponse:  # postingBooleanResponse
    result: bool = False


def _sku(line: ShipmentLine) -> int | None:
    """Ozon's line key is "<posting>:<n>:<sku>" (integrations.ozon.mapping)."""
    tail = line.line_key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


class OzonFulfilmentClient(OzonClient):
    def unsupported(self) -> dict[str, str]:
        return {str(action): str(reason) for action, reason in UNSUPPORTED.items()}

    def _refused(self, request: FulfilmentRequest, action: FulfilmentAction) -> ActionResult:
        return ActionResult(request.key, WriteStatus.REJECTED, str(UNSUPPORTED[action]))

    def _act(self, request: FulfilmentRequest, operation: str, body: dict[str, Any], model: type[Any],
             raw_status: str) -> ActionResult:
        try:
            self._call(operation, model, body)
        except (AuthError, NotAvailableError):  # the key or its scope: the whole call, not one order
            raise
        except PermanentError as exc:
            return ActionResult(request.key, WriteStatus.REJECTED, exc.message)
        return ActionResult(request.key, WriteStatus.APPLIED, order_status=mapping.order_status(raw_status),
                            raw_status=raw_status)

    def assemble(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]:
        results = []
        for request in requests:
            boxes = request.packages or (request.lines,)
            packages = []
            for box in boxes:
                products = [{"product_id": _sku(line), "quantity": line.quantity} for line in box]
                if not products or any(p["product_id"] is None for p in products):
                    results.append(ActionResult(request.key, WriteStatus.REJECTED,
                                                "Ozon needs each package's products by SKU"))
                    break
                packages.append({"products": products})
            else:
                body = {"posting_number": request.order_external_id, "packages": packages}
                results.append(self._act(request, "POST /v4/posting/fbs/ship", body, ShipResponse,
                                         "awaiting_deliver"))
        return results

    def hand_over(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]:
        return [self._refused(request, FulfilmentAction.HAND_OVER) for request in requests]

    def cancel(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]:
        results = []
        for request in requests:
            reason = CANCEL_REASON_IDS.get(CancelReason(request.reason or CancelReason.OTHER))
            body: dict[str, Any] = {"posting_number": request.order_external_id, "cancel_reason_id": reason}
            if request.message:
                body["cancel_reason_message"] = request.message
            results.append(self._act(request, "POST /v2/posting/fbs/cancel", body, BooleanResponse, "cancelled"))
        return results

    def labels(self, requests: Sequence[FulfilmentRequest]) -> list[LabelResult]:
        results = []
        for request in requests:
            try:
                response = self.http.request(
                    "POST", self.base_url + "/v2/posting/fbs/package-label", limit_key=self._global_key,
                    rule=limits.GLOBAL, headers=self._headers,
                    json_body={"posting_number": [request.order_external_id]}, expect_json=False,
                )
            except (AuthError, NotAvailableError):  # the key or its scope: the whole call, not one order
                raise
            except PermanentError as exc:
                results.append(LabelResult(request.key, WriteStatus.REJECTED, exc.message))
                continue
            results.append(_label(request.key, response.content, response.headers.get("content-type", "")))
        return results

    def create_supply(self, name: str) -> str:
        raise PermanentError(str(UNSUPPORTED[FulfilmentAction.CREATE_SUPPLY]))

    def deliver_supply(self, supply_id: str) -> list[ActionResult]:
        raise PermanentError(str(UNSUPPORTED[FulfilmentAction.DELIVER_SUPPLY]))


@frozen_payload
class _FileResponse:  # postingPostingFBSPackageLabelResponse: the spec's JSON variant of the answer
    file_content: str = ""  # base64
    content_type: str = ""


def _label(key: str, content: bytes, content_type: str) -> LabelResult:
    """Ozon answers the PDF itself; the spec also describes a JSON with the file in base64."""
    if content.startswith(b"%PDF"):
        return LabelResult(key, WriteStatus.APPLIED, content=content, content_type=PDF)
    try:
        pdf = base64.b64decode(parse_json(_FileResponse, content).file_content)
    except (ValidationError, ValueError):
        pdf = b""
    if not pdf.startswith(b"%PDF"):
        return LabelResult(key, WriteStatus.REJECTED, f"Ozon answered no PDF ({content_type or 'no type'})")
    return LabelResult(key, WriteStatus.APPLIED, content=pdf, content_type=PDF)
