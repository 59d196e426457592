from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.selectors import listing_list, product_get
from core.filters import int_param, marketplace_param
from core.models import Marketplace
from core.pagination import paginate
from core.roles import EVERYONE, require_role


@require_role(*EVERYONE)
def listings(request: HttpRequest) -> HttpResponse:
    marketplace = marketplace_param(request)
    search = request.GET.get("q", "").strip()[:100]
    product_id = int_param(request, "product", low=1, high=2**62)
    product = product_get(product_id) if product_id else None
    queryset = listing_list(marketplace=marketplace, search=search, product_id=product.pk if product else None)
    context = {
        "marketplaces": Marketplace.choices,
        "marketplace": marketplace,
        "search": search,
        "product": product,
        **paginate(request, queryset),
    }
    return render(request, "catalog/listing_list.html", context)
