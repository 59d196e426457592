from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.filters import choice_param, marketplace_param
from core.models import Marketplace
from core.pagination import paginate
from core.roles import EVERYONE, require_role
from orders.models import OrderStatus, Scheme
from orders.selectors import order_list


@require_role(*EVERYONE)
def orders(request: HttpRequest) -> HttpResponse:
    filters = {
        "marketplace": marketplace_param(request),
        "status": choice_param(request, "status", OrderStatus.values),
        "scheme": choice_param(request, "scheme", Scheme.values),
    }
    context = {
        "marketplaces": Marketplace.choices,
        "statuses": OrderStatus.choices,
        "schemes": Scheme.choices,
        **filters,
        **paginate(request, order_list(**filters)),
    }
    return render(request, "orders/order_list.html", context)
