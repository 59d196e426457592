"""Yandex Market sandbox: a leaf category's characteristics (POST /v2/category/{categoryId}/parameters),
for the categories the sandbox's offers use (yandex_market.CATEGORY_IDS).

Deterministic: clothes and textiles require «Материал», which the sandbox's offers never carry.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrations.sandbox.app import Route, SandboxRequest
from integrations.sandbox.world import _COLOURS, SandboxWorld
from integrations.sandbox.yandex_market import CATEGORY_IDS, YMState, _error, _handler, _ok

NEEDS_MATERIAL = {"Одежда", "Текстиль"}


def _parameter(parameter_id: int, name: str, kind: str, *, required: bool, **extra: Any) -> dict[str, Any]:
    return {"id": parameter_id, "name": name, "type": kind, "required": required, "filtering": required,
            "distinctive": False, "multivalue": False, "allowCustomValues": kind == "ENUM", **extra}


@_handler
def parameters(world: SandboxWorld, state: YMState, request: SandboxRequest, categoryId: str) -> httpx.Response:
    name = next((n for n, cid in CATEGORY_IDS.items() if str(cid) == categoryId), None)
    if name is None:
        return _error(404, "NOT_FOUND", f"Category {categoryId} not found or is not a leaf category")
    result = [
        _parameter(14871214, "Цвет товара", "ENUM", required=True,
                   values=[{"id": 15000000 + n, "value": colour} for n, colour in enumerate(_COLOURS)]),
        _parameter(23674510, "Материал", "TEXT", required=name in NEEDS_MATERIAL, constraints={"maxLength": 100}),
        _parameter(7893318, "Комплектация", "TEXT", required=False, constraints={"maxLength": 200}),
        _parameter(15341921, "Вес", "NUMERIC", required=False, constraints={"minValue": 0, "maxValue": 100}),
    ]
    return _ok({"categoryId": int(categoryId), "parameters": result})


ROUTES = [Route("POST", "/v2/category/{categoryId}/parameters", parameters)]  # its scopes: yandex_market.SCOPES
