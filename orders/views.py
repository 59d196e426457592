from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.filters import filter_context
from core.pagination import keyset_page
from core.roles import EVERYONE, require_role
from orders.filters import OrderFilter
from orders.models import OrderStatus, Scheme
from orders.selectors import ORDER_SORTS, order_list, with_line_totals


@require_role(*EVERYONE)
def orders(request: HttpRequest) -> HttpResponse:
    filterset = OrderFilter(request.GET, queryset=order_list())
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, ORDER_SORTS)
    context.update(
        page=page, rows=with_line_totals(page.rows), statuses=OrderStatus.choices, schemes=Scheme.choices
    )
    return render(request, "orders/order_list.html", context)
