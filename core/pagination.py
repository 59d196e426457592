"""Pagination shared by the list pages: a page of rows and the query string that keeps the filters."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PAGE_SIZE = 50


def paginate(request: HttpRequest, queryset: Any, per_page: int = PAGE_SIZE) -> dict[str, Any]:
    page: Page[Any] = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {"page_obj": page, "rows": list(page.object_list), "filter_query": params.urlencode()}
