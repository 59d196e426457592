"""Ozon sandbox: the description-category tree and each (category, type)'s characteristics
(POST /v1/description-category/tree, POST /v1/description-category/attribute), for the categories
the sandbox's cards use (ozon._attributes: 17027900 + code, type 92000 + code).

Deterministic: clothes and textiles require a material the sandbox's cards never fill, so those
cards show a missing required characteristic in the listing checks.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrations.sandbox.app import Route, SandboxRequest, json_response
from integrations.sandbox.ozon import (
    _CATEGORY_CODES,
    BRAND_ATTRIBUTE,
    COLOUR_ATTRIBUTE,
    DESCRIPTION_ATTRIBUTE,
    NAME_ATTRIBUTE,
    OzonState,
    _bad_request,
    _error,
)
from integrations.sandbox.world import _NOUNS, SandboxWorld

ROOT_CATEGORY_ID = 17027800
CATEGORY_BASE = 17027900
TYPE_BASE = 92000
MATERIAL_ATTRIBUTE = 4975
NEEDS_MATERIAL = {"Одежда", "Текстиль"}


def _type_name(category: str) -> str:
    return next(noun for noun, name in _NOUNS if name == category)


def _tree() -> list[dict[str, Any]]:
    children = [
        {"description_category_id": CATEGORY_BASE + code, "category_name": name, "disabled": False,
         "children": [{"type_id": TYPE_BASE + code, "type_name": _type_name(name), "disabled": False, "children": []}]}
        for name, code in _CATEGORY_CODES.items()
    ]
    return [{"description_category_id": ROOT_CATEGORY_ID, "category_name": "Товары Прилавка", "disabled": True,
             "children": children}]


def _attribute(attribute_id: int, name: str, *, required: bool, kind: str = "String", dictionary_id: int = 0,
               collection: bool = False) -> dict[str, Any]:
    return {"id": attribute_id, "attribute_complex_id": 0, "name": name, "description": name, "type": kind,
            "is_collection": collection, "is_required": required, "is_aspect": False,
            "max_value_count": 5 if collection else 0, "group_name": "", "group_id": 0,
            "dictionary_id": dictionary_id, "category_dependent": dictionary_id != 0,
            "complex_is_collection": False}


def tree(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    return json_response({"result": _tree()})


def attributes(world: SandboxWorld, state: OzonState, request: SandboxRequest) -> httpx.Response:
    body = request.json() or {}
    try:
        category_id, type_id = int(body["description_category_id"]), int(body["type_id"])
    except (KeyError, TypeError, ValueError):
        return _bad_request("description_category_id and type_id are required")
    name = next((n for n, code in _CATEGORY_CODES.items()
                 if category_id == CATEGORY_BASE + code and type_id == TYPE_BASE + code), None)
    if name is None:
        return _error(404, 5, "description category or type not found")
    result = [
        _attribute(BRAND_ATTRIBUTE, "Бренд", required=True, dictionary_id=28732849),
        _attribute(NAME_ATTRIBUTE, "Название", required=False),
        _attribute(DESCRIPTION_ATTRIBUTE, "Аннотация", required=False),
        _attribute(COLOUR_ATTRIBUTE, "Цвет товара", required=True, dictionary_id=1495, collection=True),
        _attribute(MATERIAL_ATTRIBUTE, "Материал", required=name in NEEDS_MATERIAL, dictionary_id=1621,
                   collection=True),
    ]
    return json_response({"result": result})


ROUTES = [
    Route("POST", "/v1/description-category/tree", tree),
    Route("POST", "/v1/description-category/attribute", attributes),
]
