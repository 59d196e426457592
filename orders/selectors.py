"""Reads for the orders pages."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from orders.models import Order


def order_list(*, marketplace: str = "", status: str = "", scheme: str = "") -> QuerySet[Order]:
    orders = Order.objects.select_related("account").annotate(line_count=Count("lines")).order_by("-ordered_at", "-id")
    if marketplace:
        orders = orders.filter(account__marketplace=marketplace)
    if status:
        orders = orders.filter(status=status)
    if scheme:
        orders = orders.filter(scheme=scheme)
    return orders
