"""The stock screen: stock per card, warehouse and size; the seller's own (FBS) stock edited inline and
pushed through the outbox, with a per-item result that updates itself."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from catalog.models import StockLevel
from catalog.services import CatalogChangeError, set_stock
from catalog.stock_filters import StockFilter
from catalog.stock_page import STOCK_SORTS, change_state, stock_lines, stock_list
from core.filters import filter_context
from core.pagination import keyset_page
from core.roles import EDITORS, EVERYONE, has_role, require_role
from integrations import outbox
from integrations.models import OutboxChange


@require_GET
@require_role(*EVERYONE)
def stock(request: HttpRequest) -> HttpResponse:
    filterset = StockFilter(request.GET, queryset=stock_list())
    context = filter_context(filterset)
    threshold = filterset.threshold_value()
    page = keyset_page(request, filterset.qs, STOCK_SORTS)
    context.update(
        page=page,
        rows=stock_lines(page.rows, threshold),
        threshold=threshold,
        can_edit=has_role(request.user, EDITORS),
        export_query=request.GET.urlencode(),
    )
    return render(request, "catalog/stock_list.html", context)


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))  # django_htmx.middleware.HtmxMiddleware


def _result(request: HttpRequest, change: OutboxChange | None, error: str = "") -> HttpResponse:
    state = change_state(change) if change else None
    return render(
        request,
        "catalog/stock_change.html",
        {"change": change, "state": state, "error": error, "can_edit": has_role(request.user, EDITORS)},
    )


@require_POST
@require_role(*EDITORS)
def stock_set(request: HttpRequest, level_id: int) -> HttpResponse:
    """Set the available quantity of one row (card, own warehouse, size) and queue it for the marketplace."""
    level = get_object_or_404(StockLevel.objects.select_related("listing__account", "warehouse"), pk=level_id)
    try:
        change = set_stock(
            level.listing, level.warehouse, request.POST.get("quantity", ""), request.user, variant_id=level.variant_id
        )
    except CatalogChangeError as error:
        if _htmx(request):
            return _result(request, None, str(error))
        messages.error(request, str(error))
        return redirect(reverse("catalog:stock"))
    if _htmx(request):
        return _result(request, change)
    messages.success(request, _("The stock change is queued for the marketplace."))
    return redirect(reverse("catalog:stock"))


@require_GET
@require_role(*EVERYONE)
def stock_change(request: HttpRequest, change_id: int) -> HttpResponse:
    """The current result of one stock change (the result cell asks for it until it is final)."""
    change = get_object_or_404(
        OutboxChange.objects.select_related("created_by"), pk=change_id, kind=OutboxChange.Kind.STOCK
    )
    return _result(request, change)


@require_POST
@require_role(*EDITORS)
def stock_retry(request: HttpRequest, change_id: int) -> HttpResponse:
    change = get_object_or_404(OutboxChange, pk=change_id, kind=OutboxChange.Kind.STOCK)
    try:
        change = outbox.retry_change(change, user=request.user)
    except outbox.OutboxError:
        message = _("Only a change that was not delivered can be sent again; a newer change replaces this one.")
        return _result(request, OutboxChange.objects.get(pk=change.pk), message)
    return _result(request, change)
