from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.filters import filter_context
from core.pagination import keyset_page
from core.roles import EDITORS, EVERYONE, has_role, require_role
from pricing.filters import PriceFilter
from pricing.selectors import PRICE_SORTS, price_list


@require_role(*EVERYONE)
def prices(request: HttpRequest) -> HttpResponse:
    filterset = PriceFilter(request.GET, queryset=price_list())
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, PRICE_SORTS)
    context.update(page=page, rows=page.rows, can_edit=has_role(request.user, EDITORS))
    return render(request, "pricing/price_list.html", context)
