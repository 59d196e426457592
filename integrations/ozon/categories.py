"""Ozon category dictionaries: POST /v1/description-category/tree and
POST /v1/description-category/attribute (swagger.json, CategoryAPI).

Ozon keys a card's characteristics by (description category, product type); the tree names both,
so it is read once per client and the attributes once per pair the seller's cards use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field

from integrations.base import CategoryAttributeDTO, CategoryDTO
from integrations.payloads import payload

# "DEFAULT" answers in Russian, the language of the names the checks show.
LANGUAGE = "DEFAULT"


@payload
class TreeNode:
    description_category_id: int | None = None
    category_name: str = ""
    type_id: int | None = None
    type_name: str = ""
    disabled: bool = False
    children: list[TreeNode] = Field(default_factory=list)


@payload
class TreeResponse:
    result: list[TreeNode] = Field(default_factory=list)


@payload
class Attribute:
    id: int
    name: str = ""
    type: str = ""
    is_required: bool = False
    is_collection: bool = False
    max_value_count: int | None = None
    dictionary_id: int | None = None


@payload
class AttributesResponse:
    result: list[Attribute] = Field(default_factory=list)


# (category key -> (type name, category path)), filled from the tree on first use.
Names = dict[str, tuple[str, str]]
Call = Callable[..., Any]


def category_names(tree: Sequence[TreeNode]) -> Names:
    """Every product type under its nearest description category: "cat:type" -> (type name, path)."""
    names: Names = {}

    def walk(nodes: Sequence[TreeNode], category_id: int | None, path: tuple[str, ...]) -> None:
        for node in nodes:
            if node.type_id and category_id:
                names[f"{category_id}:{node.type_id}"] = (node.type_name, " / ".join(path))
            here = node.description_category_id or category_id
            walk(node.children, here, (*path, node.category_name) if node.category_name else path)

    walk(tree, None, ())
    return names


def fetch_categories(call: Call, category_ids: Sequence[str], names: Names) -> list[CategoryDTO]:
    """`call` is OzonClient._call; `names` its per-client cache of the tree."""
    if not names:
        tree = call("POST /v1/description-category/tree", TreeResponse, {"language": LANGUAGE})
        names.update(category_names(tree.result))
    found = []
    for key in category_ids:
        if key not in names:
            continue  # not in Ozon's tree (any more): nothing to ask
        category_id, type_id = (int(part) for part in key.split(":", 1))
        body = {"description_category_id": category_id, "type_id": type_id, "language": LANGUAGE}
        answer = call("POST /v1/description-category/attribute", AttributesResponse, body)
        type_name, path = names[key]
        found.append(CategoryDTO(
            external_id=key, name=type_name, path=path,
            attributes=tuple(
                CategoryAttributeDTO(
                    external_id=str(a.id), name=a.name, required=a.is_required, kind=a.type,
                    max_values=(a.max_value_count or None) if a.is_collection else 1,
                )
                for a in answer.result
            ),
        ))
    return found
