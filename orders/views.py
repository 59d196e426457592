from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.files import export_response
from core.filters import filter_context
from core.pagination import keyset_page
from core.roles import EVERYONE, require_role
from orders import exports
from orders.filters import SHIPMENT_CHOICES, OrderFilter, ReturnFilter
from orders.models import TO_SHIP, Order, OrderStatus, Return, Scheme
from orders.returns import RETURN_SORT_NOTES, RETURN_SORTS, known_return_statuses, return_list, returns_by_reason
from orders.saved_views import (
    PRESETS,
    TooManyViews,
    saved_view_delete,
    saved_view_save,
    saved_views_of,
    view_query,
)
from orders.selectors import (
    ORDER_SORTS,
    SORT_NOTES,
    known_cities,
    only_known,
    order_get,
    order_lines,
    order_list,
    order_payout,
    order_returns,
    order_reviews,
    status_history,
    warehouse_options,
    with_line_totals,
)
from orders.status import BADGES


def _export_query(request: HttpRequest) -> str:
    params = request.GET.copy()
    for key in ("after", "before"):
        params.pop(key, None)
    return params.urlencode()


@require_role(*EVERYONE)
def orders(request: HttpRequest) -> HttpResponse:
    filterset = OrderFilter(request.GET, queryset=order_list())
    context = filter_context(filterset)
    sort = ORDER_SORTS.pick(request.GET.get("sort"))
    page = keyset_page(request, only_known(filterset.qs, sort), ORDER_SORTS)
    rows = with_line_totals(page.rows)
    for order in rows:
        order.badge = BADGES.get(order.status, "muted")  # type: ignore[attr-defined]
    current = view_query(request.GET)
    context.update(
        page=page,
        rows=rows,
        statuses=OrderStatus.choices,
        schemes=Scheme.choices,
        shipments=SHIPMENT_CHOICES,
        cities=known_cities(),
        warehouses=warehouse_options(),
        sort_note=SORT_NOTES.get(page.sort.key),
        presets=PRESETS,
        saved_views=saved_views_of(request.user),
        current_view=current,
        export_query=_export_query(request),
        export_limit=exports.EXPORT_LIMIT,
    )
    return render(request, "orders/order_list.html", context)


@require_POST
@require_role(*EVERYONE)
def view_save(request: HttpRequest) -> HttpResponse:
    """Save the inbox's current filters (sent as the form's hidden fields) under a name of the user's."""
    name = request.POST.get("name", "").strip()
    if not name:
        messages.error(request, _("Give the view a name."))
    else:
        try:
            view = saved_view_save(user=request.user, name=name, params=request.POST)
        except TooManyViews:
            messages.error(request, _("You have too many saved views; delete one first."))
        else:
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
            return redirect(f"{reverse('orders:list')}?{view.query}")
    return redirect(f"{reverse('orders:list')}?{view_query(request.POST)}")


@require_POST
@require_role(*EVERYONE)
def view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    if not saved_view_delete(user=request.user, pk=pk):
        raise Http404(_("No such view"))
    messages.success(request, _("The view is deleted."))
    return redirect("orders:list")


@require_GET
@require_role(*EVERYONE)
def orders_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """/orders/export.<csv|xlsx>?<the inbox's filters>: every matching order up to the export limit."""
    if fmt not in exports.FORMATS:
        raise Http404(_("No such export"))
    header = exports.header(exports.ORDER_COLUMNS)
    return export_response(fmt, "orders", _("Orders"), header, exports.order_rows(request))


@require_role(*EVERYONE)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        order = order_get(pk)
    except Order.DoesNotExist:
        raise Http404(_("No such order")) from None
    lines = order_lines(order)
    order.overdue = bool(  # type: ignore[attr-defined]
        order.shipment_due_at and order.status in TO_SHIP and order.shipment_due_at < timezone.now()
    )
    context = {
        "order": order,
        "badge": BADGES.get(order.status, "muted"),
        "lines": lines,
        "history": status_history(order),
        "payout": order_payout(order),
        "returns": order_returns(order),
        "reviews": order_reviews(lines, order),
    }
    return render(request, "orders/order_detail.html", context)


@require_role(*EVERYONE)
def returns(request: HttpRequest) -> HttpResponse:
    filterset = ReturnFilter(request.GET, queryset=return_list())
    context = filter_context(filterset)
    sort = RETURN_SORTS.pick(request.GET.get("sort"))
    page = keyset_page(request, only_known(filterset.qs, sort), RETURN_SORTS)
    context.update(
        page=page,
        rows=page.rows,
        kinds=Return.Kind.choices,
        statuses=known_return_statuses(),
        sort_note=RETURN_SORT_NOTES.get(page.sort.key),
        export_query=_export_query(request),
        export_limit=exports.EXPORT_LIMIT,
    )
    return render(request, "orders/return_list.html", context)


@require_role(*EVERYONE)
def returns_reasons(request: HttpRequest) -> HttpResponse:
    """The articles returned most under the returns' filters, each with its reasons."""
    filterset = ReturnFilter(request.GET, queryset=Return.objects.all())
    context = filter_context(filterset)
    context.update(
        products=returns_by_reason(filterset.qs, searched=bool(filterset.form.cleaned_data.get("q"))),
        kinds=Return.Kind.choices, statuses=known_return_statuses(),
        export_query=_export_query(request),
    )
    return render(request, "orders/return_reasons.html", context)


@require_GET
@require_role(*EVERYONE)
def returns_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    if fmt not in exports.FORMATS:
        raise Http404(_("No such export"))
    header = exports.header(exports.RETURN_COLUMNS)
    return export_response(fmt, "returns", _("Returns"), header, exports.return_rows(request))
