from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.filters import ListingFilter
from catalog.selectors import LISTING_SORTS, listing_list, product_get
from core.filters import filter_context
from core.pagination import keyset_page
from core.roles import EVERYONE, require_role


@require_role(*EVERYONE)
def listings(request: HttpRequest) -> HttpResponse:
    filterset = ListingFilter(request.GET, queryset=listing_list())
    context = filter_context(filterset)
    product_id = context["filters"].get("product")
    page = keyset_page(request, filterset.qs, LISTING_SORTS)
    context.update(page=page, rows=page.rows, product=product_get(int(product_id)) if product_id else None)
    return render(request, "catalog/listing_list.html", context)
