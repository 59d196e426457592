from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.filters import marketplace_param
from core.models import Marketplace
from core.pagination import paginate
from core.roles import EVERYONE, require_role
from pricing.selectors import price_list


@require_role(*EVERYONE)
def prices(request: HttpRequest) -> HttpResponse:
    marketplace = marketplace_param(request)
    search = request.GET.get("q", "").strip()[:100]
    context = {
        "marketplaces": Marketplace.choices,
        "marketplace": marketplace,
        "search": search,
        **paginate(request, price_list(marketplace=marketplace, search=search)),
    }
    return render(request, "pricing/price_list.html", context)
