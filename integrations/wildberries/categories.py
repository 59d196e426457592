"""WB category dictionaries: GET content-api /content/v2/object/charcs/{subjectId} (a subject's
characteristics) and GET /content/v2/object/all (subjects with their parent category), 02-items.

A card's category is its subject (subjectID). Both methods count against the Content category's
limit (100 a minute), the bucket cards/list uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field

from integrations.base import CategoryAttributeDTO, CategoryDTO
from integrations.payloads import payload
from integrations.wildberries.limits import Bucket, Host

SUBJECTS_PAGE = 1000  # object/all: "максимум 1000"


@payload
class Charc:
    charcID: int
    subjectID: int | None = None
    subjectName: str = ""
    name: str = ""
    required: bool = False
    maxCount: int = 0
    charcType: int = 0
    # True: set in the card's own field (title, brand, dimensions…), not in `characteristics`.
    existNamedField: bool = False


@payload
class CharcsResponse:
    data: list[Charc] | None = Field(default_factory=list)


@payload
class Subject:
    subjectID: int
    parentID: int | None = None
    subjectName: str = ""
    parentName: str = ""


@payload
class SubjectsResponse:
    data: list[Subject] | None = Field(default_factory=list)


# WildberriesClient._fetch(model, operation, method, host, path, bucket, params=…)
Fetch = Callable[..., Any]
CHARC_TYPES = {1: "strings", 4: "number", 0: "unused"}


def fetch_categories(fetch: Fetch, subject_ids: Sequence[str]) -> list[CategoryDTO]:
    found = []
    for subject_id in subject_ids:
        if not subject_id.isdigit():
            continue
        charcs = fetch(CharcsResponse, "subject characteristics", "GET", Host.CONTENT,
                       f"/content/v2/object/charcs/{subject_id}", Bucket.CONTENT_READ, params={"locale": "ru"}).data
        if not charcs:
            continue  # WB knows no characteristics of this subject
        name = charcs[0].subjectName
        found.append(CategoryDTO(
            external_id=subject_id, name=name, path=_parent_name(fetch, int(subject_id), name),
            attributes=tuple(
                CategoryAttributeDTO(
                    external_id=str(c.charcID), name=c.name, required=c.required,
                    kind=CHARC_TYPES.get(c.charcType, str(c.charcType)), max_values=c.maxCount or None,
                )
                for c in charcs if not c.existNamedField and c.charcType != 0
            ),
        ))
    return found


def _parent_name(fetch: Fetch, subject_id: int, name: str) -> str:
    """The subject's parent category, found by searching object/all for the subject's name."""
    if not name:
        return ""
    subjects = fetch(SubjectsResponse, "subjects", "GET", Host.CONTENT, "/content/v2/object/all", Bucket.CONTENT_READ,
                     params={"name": name, "limit": SUBJECTS_PAGE, "offset": 0, "locale": "ru"}).data or []
    return next((s.parentName for s in subjects if s.subjectID == subject_id), "")
