"""Generic pieces of the JSON API. Permissions: core.permissions.RolePermission (the DRF default in settings).

* ``KeysetPagination``: the lists' keyset pages (core.pagination.keyset_page) as a DRF paginator: the
  view's ``sorts`` (the screens' own, one index each) are offered as ``?sort=``, ``?after=`` / ``?before=``
  carry the cursor. No OFFSET and no COUNT, so the last page of a million rows costs what the first does.
* ``DescribedModelSerializer``: every field of the schema carries a description (the model field's
  help_text, else the serializer's ``Meta.help_texts``, else the shared wording below, else its verbose name).
* ``field_errors``: a service's refusal (a ValueError with a message) as a 400 that names the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Model, QuerySet, prefetch_related_objects
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from core.pagination import PAGE_SIZE, KeysetPage, Sort, Sorts, keyset_page

MAX_PAGE_SIZE = 200
NEWEST = Sort("newest", _("Newest first"), ("-id",))


class IdCursorPagination(CursorPagination):
    """Stable paging for tables without a `created` column (DRF's default cursor ordering)."""

    ordering = "id"


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the schema describes core.authentication.ApiTokenAuthentication (registered on import)."""

    target_class = "core.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>` (or `Bearer <token>`): a personal API token; it acts with its "
                           "user's role. Tokens are issued by an administrator on /settings/tokens/.",
        }


def newest_first(model: type[Model]) -> Sorts:
    """The primary key's own order: the one sort every table has an index for."""
    return Sorts(model, [NEWEST, Sort("oldest", _("Oldest first"), ("id",))])


class KeysetPagination(BasePagination):
    """Keyset pages in the view's ``sorts`` order (default: newest first by id).

    The rows of a page are fetched by id after the page's ids are found on the listed table alone, so
    the queryset's ``select_related`` carries over and its ``prefetch_related`` is applied to the page."""

    def _sorts(self, queryset: QuerySet[Any], view: Any) -> Sorts:
        sorts = getattr(view, "sorts", None)
        return sorts if sorts is not None else newest_first(queryset.model)

    @staticmethod
    def _page_size(request: Request) -> int:
        raw = request.query_params.get("page_size", "")
        return min(int(raw), MAX_PAGE_SIZE) if raw.isdigit() and int(raw) > 0 else PAGE_SIZE

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        self.page: KeysetPage = keyset_page(
            request, queryset, self._sorts(queryset, view), per_page=self._page_size(request)
        )
        lookups = getattr(queryset, "_prefetch_related_lookups", ())
        if lookups and self.page.rows:
            prefetch_related_objects(self.page.rows, *lookups)
        return self.page.rows

    def _absolute(self, link: str) -> str | None:
        return self.request.build_absolute_uri(self.request.path + link) if link else None

    def get_paginated_response(self, data: Any) -> Response:
        return Response({
            "next": self._absolute(self.page.next_url),
            "previous": self._absolute(self.page.previous_url),
            "results": data,
        })

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next page, or null on the last one."},
                "previous": {**link, "description": "The previous page, or null on the first one."},
                "results": {**schema, "description": "The rows of this page."},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        queryset = view.get_queryset()
        sorts = self._sorts(queryset, view)
        cursor = {"type": "string"}
        return [
            {
                "name": "sort", "in": "query", "required": False,
                "description": f"Order of the rows; each one is served by an index. Default: {sorts.default.key}.",
                "schema": {"type": "string", "enum": [sort.key for sort in sorts.options]},
            },
            {
                "name": "after", "in": "query", "required": False, "schema": cursor,
                "description": "Cursor: the rows after this one (taken from the `next` link).",
            },
            {
                "name": "before", "in": "query", "required": False, "schema": cursor,
                "description": "Cursor: the rows before this one (taken from the `previous` link).",
            },
            {
                "name": "page_size", "in": "query", "required": False,
                "description": f"Rows per page, at most {MAX_PAGE_SIZE}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": PAGE_SIZE},
            },
        ]


# Wording for columns many tables share.
COMMON_HELP: dict[str, str] = {
    "id": "Identifier of the row in this system.",
    "account": "Marketplace account (its id) the row belongs to.",
    "listing": "Marketplace card (listing id) the row is about, if known.",
    "product": "Master product (its id), if linked.",
    "external_id": "The marketplace's own identifier.",
    "offer_id": "Seller article on the marketplace.",
    "currency": "ISO 4217 currency code of the amounts.",
    "created_at": "When the row was created here.",
    "updated_at": "When the row last changed here.",
    "external_updated_at": "When the marketplace last changed it.",
    "raw_status": "The marketplace's own status code.",
    "marketplace": "Marketplace: ozon, wildberries or yandex_market.",
    "title": "Title as the marketplace shows it.",
    "name": "Name.",
    "status": "Status.",
    "quantity": "Number of units.",
}


# A ModelSerializer whose every field has a description in the schema. (A comment, not a docstring: the
# schema would show a docstring as the description of every serializer that has none of its own.)
class DescribedModelSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]

    def build_field(self, field_name: str, info: Any, model_class: Any, nested_depth: int) -> Any:
        field_class, kwargs = super().build_field(field_name, info, model_class, nested_depth)
        if not kwargs.get("help_text"):
            kwargs["help_text"] = self.describe(field_name, model_class)
        return field_class, kwargs

    def describe(self, field_name: str, model_class: Any) -> str:
        own: Mapping[str, str] = getattr(self.Meta, "help_texts", {})
        if field_name in own:
            return own[field_name]
        if field_name in COMMON_HELP:
            return COMMON_HELP[field_name]
        try:
            verbose = str(model_class._meta.get_field(field_name).verbose_name)
        except Exception:  # a property or method, not a column
            verbose = field_name.replace("_", " ")
        return verbose[:1].upper() + verbose[1:] + "."


def field_errors(error: Exception, field: str = "non_field_errors") -> ValidationError:
    """A service's refusal as a 400 whose body names the field: {"quantity": ["…"]}."""
    return ValidationError({field: [str(error)]})
