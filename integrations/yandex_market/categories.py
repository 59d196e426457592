"""Yandex Market category dictionaries: POST /v2/category/{categoryId}/parameters
(paths/v2_category_categoryId_parameters.yaml, GetCategoryContentParametersResponse).

A card's category is its marketCategoryId. The answer lists each characteristic with its required
flag, TEXT length limit and ENUM values, so the values come at no extra cost and are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field

from integrations.base import CategoryAttributeDTO, CategoryDTO, PermanentError
from integrations.payloads import frozen_payload
from integrations.yandex_market.limits import Bucket

MAX_VALUES_KEPT = 500  # an ENUM of thousands (brands) is not worth storing for the checks


@frozen_payload
class ValueOption:
    id: int
    value: str


@frozen_payload
class Constraints:
    maxLength: int | None = None


@frozen_payload
class Parameter:
    id: int
    name: str = ""
    type: str = ""
    required: bool = False
    multivalue: bool = False
    values: list[ValueOption] | None = None
    constraints: Constraints | None = None


@frozen_payload
class ParametersResult:
    categoryId: int
    parameters: list[Parameter] | None = Field(default_factory=list)


@frozen_payload
class ParametersResponse:
    status: str = ""
    result: ParametersResult | None = None


# YandexMarketClient._call_parsed(model, operation, method, path, bucket, scope=…, params=…)
CallParsed = Callable[..., Any]


def fetch_categories(call: CallParsed, business_id: str, scope: str, category_ids: Sequence[str],
                     names: dict[str, str] | None = None) -> list[CategoryDTO]:
    found = []
    for category_id in category_ids:
        if not category_id.isdigit() or int(category_id) <= 0:
            continue
        try:
            answer = call(ParametersResponse, "category parameters", "POST", f"/v2/category/{category_id}/parameters",
                          Bucket.CATEGORY_PARAMETERS, scope=scope, params={"businessId": business_id})
        except PermanentError as exc:
            if exc.status in (400, 404):  # not a leaf category (any more): nothing to check against
                continue
            raise
        parameters = (answer.result.parameters if answer.result else None) or []
        found.append(CategoryDTO(
            external_id=category_id, name=(names or {}).get(category_id, ""),
            attributes=tuple(
                CategoryAttributeDTO(
                    external_id=str(p.id), name=p.name, required=p.required, kind=p.type,
                    max_length=p.constraints.maxLength if p.constraints else None,
                    max_values=None if p.multivalue else 1,
                    values=tuple(v.value for v in (p.values or [])[:MAX_VALUES_KEPT]),
                )
                for p in parameters
            ),
        ))
    return found
