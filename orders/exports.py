"""Excel/CSV exports of the orders inbox and the returns list.

Each filters with the FilterSet and the sort of its screen, from the same query string, so the file holds
what the filter on screen shows, every page of it, up to ``EXPORT_LIMIT`` rows (the page says so): an
export of a million orders would hold a worker for minutes; narrowing the dates gets the rest. Rows are
read with ``.iterator()`` and written as they come (core.files): CSV streams, XLSX goes through a
temporary file in openpyxl's write-only mode, so memory stays flat either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.filters import OrderFilter, ReturnFilter
from orders.models import Order, OrderLine, OrderStatus
from orders.returns import RETURN_SORTS, return_list
from orders.selectors import ORDER_SORTS, only_known, order_list

EXPORT_LIMIT = 100_000
CHUNK = 2000
FORMATS = ("csv", "xlsx")

ORDER_COLUMNS = [
    gettext_lazy("Order"), gettext_lazy("Number for the buyer"), gettext_lazy("Marketplace"),
    gettext_lazy("Account"), gettext_lazy("Scheme"), gettext_lazy("Status"), gettext_lazy("Marketplace code"),
    gettext_lazy("Ordered (Moscow)"), gettext_lazy("Ship by (Moscow)"), gettext_lazy("Warehouse"),
    gettext_lazy("City"), gettext_lazy("Tracking number"), gettext_lazy("Lines"), gettext_lazy("Units"),
    gettext_lazy("Seller articles"), gettext_lazy("Paid by buyer"), gettext_lazy("Seller's price"),
    gettext_lazy("Currency"),
]
RETURN_COLUMNS = [
    gettext_lazy("Return"), gettext_lazy("Date (Moscow)"), gettext_lazy("Marketplace"), gettext_lazy("Account"),
    gettext_lazy("Type"), gettext_lazy("Marketplace status"), gettext_lazy("Reason"), gettext_lazy("Order"),
    gettext_lazy("Seller article"), gettext_lazy("Units"), gettext_lazy("Amount"), gettext_lazy("Currency"),
]


def header(columns: list[Any]) -> list[str]:
    return [str(column) for column in columns]


def _status_words(status: str) -> str:
    try:
        return _(OrderStatus(status).label)
    except ValueError:
        return status


def order_rows(request: HttpRequest) -> Iterator[list[Any]]:
    sort = ORDER_SORTS.pick(request.GET.get("sort"))
    queryset: QuerySet[Order] = only_known(OrderFilter(request.GET, queryset=order_list()).qs, sort)
    lines = OrderLine.objects.filter(order_id=OuterRef("pk")).order_by()
    queryset = queryset.annotate(
        line_count=Subquery(lines.values("order_id").annotate(n=Count("id")).values("n"), output_field=IntegerField()),
        units=Subquery(lines.values("order_id").annotate(n=Sum("quantity")).values("n"), output_field=IntegerField()),
        articles=ArraySubquery(lines.order_by("line_key").values("offer_id")),
    ).order_by(*sort.fields)[:EXPORT_LIMIT]
    for order in queryset.iterator(chunk_size=CHUNK):
        yield [
            order.external_id, order.order_number, order.account.get_marketplace_display(), order.account.name,
            order.scheme, _status_words(order.status), order.raw_status, order.ordered_at, order.shipment_due_at,
            order.warehouse.name if order.warehouse else "", order.buyer_city, order.tracking_number,
            order.line_count or 0, order.units or 0, order.articles, order.buyer_total, order.seller_total,
            order.currency,
        ]


def return_rows(request: HttpRequest) -> Iterator[list[Any]]:
    sort = RETURN_SORTS.pick(request.GET.get("sort"))
    queryset = only_known(ReturnFilter(request.GET, queryset=return_list()).qs, sort)
    queryset = queryset.annotate(order_ref=Coalesce("order__external_id", "order_external_id"))
    for item in queryset.order_by(*sort.fields)[:EXPORT_LIMIT].iterator(chunk_size=CHUNK):
        yield [
            item.external_id, item.returned_at, item.account.get_marketplace_display(), item.account.name,
            _(item.get_kind_display()), item.raw_status, item.reason, item.order_ref, item.offer_id, item.quantity,
            item.amount, item.currency,
        ]
