"""WB sandbox: subjects (GET /content/v2/object/all) and a subject's characteristics
(GET /content/v2/object/charcs/{subjectId}), for the subjects the sandbox's cards use
(wildberries._card_json: subjectID 100 + index % 16, named after the item's category).

Deterministic: clothes and textiles require «Состав», which the sandbox's cards never fill.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrations.sandbox.app import Route, SandboxRequest, json_response
from integrations.sandbox.wildberries import WBState, _bad_request
from integrations.sandbox.world import _NOUNS, SandboxWorld

SUBJECT_BASE = 100
PARENTS = {"Одежда": 1, "Текстиль": 2, "Посуда": 3, "Сумки": 4, "Свет": 5, "Спорт": 6, "Канцелярия": 7, "Дом": 8}
PARENT_NAMES = {1: "Одежда", 2: "Дом", 3: "Дом", 4: "Аксессуары", 5: "Дом", 6: "Спорт", 7: "Канцтовары", 8: "Дом"}
NEEDS_COMPOSITION = {"Одежда", "Текстиль"}


def _subjects() -> list[dict[str, Any]]:
    rows = []
    for k, (_noun, category) in enumerate(_NOUNS):
        parent = PARENTS[category]
        rows.append({"subjectID": SUBJECT_BASE + k, "parentID": 1000 + parent, "subjectName": category,
                     "parentName": PARENT_NAMES[parent]})
    return rows


def _int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    return int(value)


def subjects(world: SandboxWorld, state: WBState, request: SandboxRequest) -> httpx.Response:
    try:
        limit = _int(request.arg("limit"), 30)
        offset = _int(request.arg("offset"), 0)
        parent = request.arg("parentID")
        parent_id = int(parent) if parent else None
    except ValueError:
        return _bad_request("Invalid query parameters", additionalErrors=None)
    if not 1 <= limit <= 1000 or offset < 0:
        return _bad_request("Invalid limit: maximum 1000", additionalErrors=None)
    name = (request.arg("name") or "").casefold()
    rows = [s for s in _subjects() if name in s["subjectName"].casefold()
            and (parent_id is None or s["parentID"] == parent_id)]
    return json_response({"data": rows[offset:offset + limit], "error": False, "errorText": "",
                          "additionalErrors": None})


def _charc(charc_id: int, subject: dict[str, Any], name: str, *, required: bool, kind: int = 1, max_count: int = 0,
           named: bool = False) -> dict[str, Any]:
    return {"charcID": charc_id, "subjectName": subject["subjectName"], "subjectID": subject["subjectID"],
            "name": name, "required": required, "unitName": "", "maxCount": max_count, "popular": required,
            "charcType": kind, "hasFilter": False, "isVariable": False, "existNamedField": named}


def charcs(world: SandboxWorld, state: WBState, request: SandboxRequest, subjectId: str) -> httpx.Response:
    subject = next((s for s in _subjects() if str(s["subjectID"]) == subjectId), None)
    if subject is None:
        return json_response({"data": [], "error": False, "errorText": "", "additionalErrors": None})
    data = [
        _charc(14177449, subject, "Цвет", required=True, max_count=5),
        _charc(88952, subject, "Бренд", required=False, max_count=1),
        _charc(14177450, subject, "Состав", required=subject["subjectName"] in NEEDS_COMPOSITION, max_count=3),
        _charc(90630, subject, "Вес товара без упаковки (г)", required=False, kind=4),
        _charc(0, subject, "Наименование", required=True, named=True),
    ]
    return json_response({"data": data, "error": False, "errorText": "", "additionalErrors": None})


ROUTES = [
    Route("GET", "/content/v2/object/all", subjects),
    Route("GET", "/content/v2/object/charcs/{subjectId}", charcs),
]
