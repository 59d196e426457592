"""The price editor's screens: one product's price, a formula on a selection, a file; the preview
with every card's request fields, economics and warnings; the confirmation that creates a batch;
the price history per batch and per card with rollback, cancel and retry."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.models import Listing, Product
from catalog.statuses import change_label
from core.files import FileRejected, read_table
from core.roles import EDITORS, EVERYONE, has_role, require_role
from pricing import batches
from pricing.batches import BatchRefused, CardPlan
from pricing.editor import FileErrors, apply_to, prices_from_file
from pricing.editor_forms import ConfirmBatchForm, FormulaForm, PriceFileForm
from pricing.models import PriceBatch, PriceBatchItem
from pricing.services import PriceChangeError

MAX_SELECTION = 500  # cards in one preview: each is planned with its economics


def _parse_prices(request: HttpRequest, listing_ids: list[int], product_price: str) -> dict[int, Any]:
    """Per card: its own field (card_<id>) or the product's price."""
    return {pk: request.GET.get(f"card_{pk}", "").strip() or product_price for pk in listing_ids}


def _preview_context(plans: list[CardPlan], formula: str, form: ConfirmBatchForm | None = None,
                     refused: BatchRefused | None = None) -> dict[str, Any]:
    return {
        "plans": plans,
        "formula": formula,
        "form": form or ConfirmBatchForm(initial={"formula": formula}),
        "needs_confirmation": len(plans) > batches.confirm_over(),
        "guarded": sum(1 for p in plans if p.problems),
        "refused": refused,
        "max_change": batches.max_change_percent(),
    }


@require_role(*EDITORS)
def product_editor(request: HttpRequest, product_id: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=product_id)
    listings = list(Listing.objects.filter(product=product, archived=False).select_related("account", "price")
                    .order_by("account__marketplace", "pk"))
    price = request.GET.get("price", "").strip().replace(",", ".").replace(" ", "")
    context: dict[str, Any] = {"product": product, "listings": listings, "price": price}
    if price or any(request.GET.get(f"card_{x.pk}") for x in listings):
        try:
            changes = {pk: v for pk, v in _parse_prices(request, [x.pk for x in listings], price).items() if v}
            plans = batches.plan(changes)
            context.update(_preview_context(plans, _("Price editor: %(article)s") % {"article": product.article}))
        except PriceChangeError as exc:
            context["error"] = str(exc)
    return render(request, "pricing/editor/product.html", context)


@require_role(*EDITORS)
def bulk_change(request: HttpRequest) -> HttpResponse:
    """A formula on the cards selected on the prices list (GET: the preview changes nothing)."""
    ids = [int(x) for x in request.GET.getlist("listings") if x.isdigit()][:MAX_SELECTION]
    form = FormulaForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "ids": ids, "max_selection": MAX_SELECTION}
    if not ids:
        context["error"] = _("Select cards on the prices list first.")
    elif form.is_valid():
        formula = form.formula()
        prices, skipped = apply_to(formula, ids)
        context["skipped"] = skipped
        if prices:
            try:
                context.update(_preview_context(batches.plan(prices), formula.describe()))
            except PriceChangeError as exc:
                context["error"] = str(exc)
    return render(request, "pricing/editor/bulk.html", context)


@require_role(*EDITORS)
def file_change(request: HttpRequest) -> HttpResponse:
    form = PriceFileForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            prices = prices_from_file(read_table(upload))
            context.update(_preview_context(batches.plan(prices), _("File %(name)s") % {"name": upload.name}))
        except FileRejected as exc:
            context["errors"] = [str(exc)]
        except FileErrors as exc:
            context["errors"] = exc.errors
        except PriceChangeError as exc:
            context["errors"] = [str(exc)]
    return render(request, "pricing/editor/file.html", context)


@require_role(*EDITORS)
@require_POST
def create_batch(request: HttpRequest) -> HttpResponse:
    form = ConfirmBatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("pricing:prices")
    data = form.cleaned_data
    try:
        batch = batches.create_batch(
            form.changes, user=request.user, formula=data["formula"], reason=data.get("reason") or "",
            override=bool(data.get("override")), confirmed=bool(data.get("confirmed")),
            scheduled_for=data.get("scheduled_for"),
        )
    except BatchRefused as exc:
        plans = batches.plan(form.changes)
        context = _preview_context(plans, data["formula"], form, exc)
        return render(request, "pricing/editor/refused.html", context, status=422)
    except PriceChangeError as exc:
        messages.error(request, str(exc))
        return redirect("pricing:prices")
    if batch.state == PriceBatch.State.SCHEDULED:
        messages.success(request, _("Batch #%(id)s is scheduled.") % {"id": batch.pk})
    else:
        messages.success(request, _("Batch #%(id)s is queued to the marketplaces.") % {"id": batch.pk})
    return redirect("pricing:batch", batch.pk)


# ---------------------------------------------------------------------------------------------
# History


def _items(queryset: Any) -> Any:
    return queryset.select_related("listing__account", "outbox_change", "batch__created_by")


def _rows(items: list[PriceBatchItem]) -> list[tuple[PriceBatchItem, Any]]:
    return [(item, change_label(item.outbox_change.status) if item.outbox_change else None) for item in items]


@require_role(*EVERYONE)
def batch_list(request: HttpRequest) -> HttpResponse:
    before = request.GET.get("before", "")
    rows = PriceBatch.objects.select_related("created_by").order_by("-id")
    if before.isdigit():
        rows = rows.filter(pk__lt=int(before))
    page = list(rows[:51])
    return render(request, "pricing/editor/batch_list.html", {
        "batches": page[:50], "next_before": page[49].pk if len(page) > 50 else None,
    })


@require_role(*EVERYONE)
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(
        PriceBatch.objects.select_related("created_by", "rollback_of").prefetch_related(
            Prefetch("items", queryset=_items(PriceBatchItem.objects.order_by("pk")))
        ),
        pk=batch_id,
    )
    rows = _rows(list(batch.items.all()))
    in_progress = any(label and item.outbox_change.status in ("pending", "sending", "sent") for item, label in rows)
    template = "pricing/editor/_batch_items.html" if request.headers.get("HX-Request") else "pricing/editor/batch.html"
    return render(request, template, {
        "batch": batch, "rows": rows, "in_progress": in_progress, "can_edit": has_role(request.user, EDITORS),
        "rollbacks": list(batch.rollbacks.order_by("pk").values_list("pk", flat=True)),
    })


@require_role(*EVERYONE)
def card_history(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = get_object_or_404(Listing.objects.select_related("account", "price", "product"), pk=listing_id)
    items = list(_items(PriceBatchItem.objects.filter(listing=listing).order_by("-pk"))[:100])
    return render(request, "pricing/editor/card_history.html", {
        "listing": listing, "rows": _rows(items), "can_edit": has_role(request.user, EDITORS),
    })


def _back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else fallback)


@require_role(*EDITORS)
@require_POST
def rollback(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The whole batch, or the items ticked (item=<id>)."""
    batch = get_object_or_404(PriceBatch, pk=batch_id)
    chosen = [] if request.POST.get("all") else [int(x) for x in request.POST.getlist("item") if x.isdigit()]
    items = PriceBatchItem.objects.filter(batch=batch).select_related("batch")
    if chosen:
        items = items.filter(pk__in=chosen)
    try:
        new = batches.rollback(
            list(items), user=request.user, reason=request.POST.get("reason", ""),
            override=bool(request.POST.get("override")), confirmed=True,
            batch=None if chosen else batch,
        )
    except PriceChangeError as exc:
        messages.error(request, str(exc))
        return _back(request, reverse("pricing:batch", args=[batch.pk]))
    messages.success(request, _("Rollback batch #%(id)s is queued to the marketplaces.") % {"id": new.pk})
    return redirect("pricing:batch", new.pk)


@require_role(*EDITORS)
@require_POST
def cancel(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(PriceBatch, pk=batch_id)
    try:
        batches.cancel_batch(batch, user=request.user)
        messages.success(request, _("Batch #%(id)s is cancelled.") % {"id": batch.pk})
    except PriceChangeError as exc:
        messages.error(request, str(exc))
    return redirect("pricing:batch", batch.pk)


@require_role(*EDITORS)
@require_POST
def retry(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(PriceBatchItem.objects.select_related("outbox_change"), pk=item_id)
    try:
        new = batches.retry_item(item, user=request.user)
    except PriceChangeError as exc:
        messages.error(request, str(exc))
        return redirect("pricing:batch", item.batch_id)
    if new is None:
        messages.success(request, _("The change is queued again."))
        return redirect("pricing:batch", item.batch_id)
    return redirect("pricing:batch", new.pk)

