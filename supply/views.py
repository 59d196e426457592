"""Stock and supply: the forecast per product (days of stock, stock-out date, what to order by when) with
each card's warehouses, the order list as a file, and the suppliers with the products bought from them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from catalog.models import StockLevel
from core.files import export_response
from core.filters import filter_context
from core.pagination import keyset_page
from core.roles import EDITORS, EVERYONE, has_role, require_role
from supply.filters import FORECAST_SORTS, ForecastFilter
from supply.forms import ProductTermsForm, SupplierForm
from supply.models import CardForecast, ProductForecast, Supplier, SupplierProduct
from supply.services import SupplyError, remove_product, save_supplier, set_product_terms

EXPORT_LIMIT = 100_000


def _forecasts() -> QuerySet[ProductForecast]:
    return ProductForecast.objects.select_related("product", "supplier")


@require_GET
@require_role(*EVERYONE)
def forecast(request: HttpRequest) -> HttpResponse:
    filterset = ForecastFilter(request.GET, queryset=_forecasts())
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, FORECAST_SORTS)
    computed = ProductForecast.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    context.update(
        page=page, rows=page.rows, computed_at=computed, export_query=request.GET.urlencode(),
        page_today=timezone.localdate(),
    )
    return render(request, "supply/forecast.html", context)


@require_GET
@require_role(*EVERYONE)
def product_cards(request: HttpRequest, product_id: int) -> HttpResponse:
    """A product's cards on each warehouse with their sizes (the row's details, loaded on demand)."""
    cards = list(
        CardForecast.objects.filter(product_id=product_id)
        .select_related("listing__account", "warehouse")
        .order_by("days_left", "id")[:200]
    )
    sizes: dict[tuple[int, int], list[StockLevel]] = {}
    levels = StockLevel.objects.filter(listing__product_id=product_id).exclude(variant_id="").order_by("variant_id")
    for level in levels:
        sizes.setdefault((level.listing_id, level.warehouse_id), []).append(level)
    for card in cards:
        card.sizes = sizes.get((card.listing_id, card.warehouse_id), [])  # type: ignore[attr-defined]
    return render(request, "supply/_cards.html", {"cards": cards})


@require_GET
@require_role(*EVERYONE)
def order_list(request: HttpRequest, fmt: str) -> HttpResponse:
    """What to order now, by supplier: the rows of the list's filter that have a suggested quantity."""
    if fmt not in ("xlsx", "csv"):
        return HttpResponse(status=404)
    filterset = ForecastFilter(request.GET, queryset=_forecasts())
    rows = filterset.qs.filter(reorder_qty__gt=0).order_by("supplier__name", "order_by", "id")[:EXPORT_LIMIT]
    header = [
        _("Supplier"), _("Seller article"), _("Product"), _("Order, pcs"), _("Order by"), _("Runs out on"),
        _("Stock now"), _("Sold per day"), _("Lead time, days"),
    ]

    def lines():  # type: ignore[no-untyped-def]
        for row in rows.iterator(chunk_size=2000):
            yield [
                row.supplier.name if row.supplier else "", row.product.article, row.product.name, row.reorder_qty,
                row.order_by, row.stockout_on, row.stock, row.daily_rate, row.lead_time_days,
            ]

    return export_response(fmt, "order_list", _("Order list"), header, lines())


@require_GET
@require_role(*EVERYONE)
def suppliers(request: HttpRequest) -> HttpResponse:
    rows = Supplier.objects.order_by("name")
    return render(
        request, "supply/suppliers.html", {"suppliers": rows, "can_edit": has_role(request.user, EDITORS)}
    )


@require_role(*EVERYONE)
def supplier_detail(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    supplier = get_object_or_404(Supplier, pk=pk) if pk else Supplier()
    can_edit = has_role(request.user, EDITORS)
    if request.method == "POST" and not can_edit:
        return HttpResponse(status=403)
    form = SupplierForm(request.POST or None, instance=supplier)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_supplier(form.instance, request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Supplier %(name)s saved.") % {"name": saved.name})
            return redirect("supply:supplier", pk=saved.pk)
    terms = (
        SupplierProduct.objects.filter(supplier=supplier).select_related("product").order_by("product__article")
        if supplier.pk else SupplierProduct.objects.none()
    )
    return render(
        request,
        "supply/supplier.html",
        {"supplier": supplier if supplier.pk else None, "form": form, "terms": terms, "can_edit": can_edit,
         "terms_form": ProductTermsForm()},
    )


@require_POST
@require_role(*EDITORS)
def supplier_product(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = get_object_or_404(Supplier, pk=pk)
    form = ProductTermsForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect("supply:supplier", pk=pk)
    data = dict(form.cleaned_data)
    article = data.pop("article")
    try:
        set_product_terms(supplier, article, data, request.user)
    except (SupplyError, ValidationError) as exc:
        messages.error(request, "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    else:
        messages.success(request, _("%(article)s: terms saved.") % {"article": article})
    return redirect("supply:supplier", pk=pk)


@require_POST
@require_role(*EDITORS)
def supplier_product_remove(request: HttpRequest, pk: int, term_id: int) -> HttpResponse:
    row = get_object_or_404(SupplierProduct.objects.select_related("product", "supplier"), pk=term_id, supplier_id=pk)
    remove_product(row, request.user)
    messages.success(request, _("%(article)s removed from the supplier.") % {"article": row.product.article})
    return redirect("supply:supplier", pk=pk)
