"""Screens of the promotions desk: /prices/promotions/ and one promotion's cards."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.filters import filter_context
from core.pagination import keyset_page
from core.roles import EDITORS, EVERYONE, has_role, require_role
from integrations.models import OutboxChange
from pricing import promotions_desk as desk
from pricing.costs import CostError, parse_cost
from pricing.desk_filters import PromotionFilter, PromotionOfferFilter
from pricing.models import Promotion, PromotionOffer
from pricing.services import PriceChangeError

TABS = (("participating", PromotionOffer.Status.PARTICIPATING), ("eligible", PromotionOffer.Status.ELIGIBLE))


@require_GET
@require_role(*EVERYONE)
def promotion_list(request: HttpRequest) -> HttpResponse:
    filterset = PromotionFilter(request.GET, queryset=desk.promotion_list())
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, desk.PROMOTION_SORTS)
    counts = desk.offer_counts(p.pk for p in page.rows)
    rows = [{"promotion": p, "state": desk.promotion_state(p), "counts": counts[p.pk], "kind": desk.kind_label(p.kind),
             "leave": desk.leave_supported(p.account.marketplace)} for p in page.rows]
    context.update(page=page, rows=rows, sort_options=desk.PROMOTION_SORTS.options,
                   states=filterset.form.fields["state"].choices)
    return render(request, "pricing/promotions/list.html", context)


def _tab(request: HttpRequest) -> str:
    tab = request.GET.get("tab", "")
    return tab if tab in dict(TABS) else "participating"


def _detail_context(request: HttpRequest, promotion: Promotion) -> dict[str, object]:
    tab = _tab(request)
    filterset = PromotionOfferFilter(request.GET, queryset=desk.promotion_offers(promotion, dict(TABS)[tab]))
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, desk.OFFER_SORTS)
    results = desk.promotion_changes(promotion)
    marketplace = promotion.account.marketplace
    can_edit, leave = has_role(request.user, EDITORS), desk.leave_supported(marketplace)
    context.update(
        promotion=promotion, tab=tab, page=page, rows=desk.offer_rows(promotion, page.rows),
        counts=desk.offer_counts([promotion.pk])[promotion.pk], state=desk.promotion_state(promotion),
        kind=desk.kind_label(promotion.kind),
        can_edit=can_edit, leave_supported=leave, selectable=can_edit and (tab == "eligible" or leave),
        leave_message=desk.leave_unsupported_message(promotion.account),
        price_settable=desk.price_settable(marketplace), results=results, polling=desk.in_progress(results),
        selected={int(v) for v in request.POST.getlist("listing") if v.isdigit()},
    )
    return context


@require_GET
@require_role(*EVERYONE)
def promotion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    promotion = get_object_or_404(Promotion.objects.select_related("account"), pk=pk)
    return render(request, "pricing/promotions/detail.html", _detail_context(request, promotion))


@require_GET
@require_role(*EVERYONE)
def promotion_results(request: HttpRequest, pk: int) -> HttpResponse:
    """The per-item results panel alone: htmx polls it while a change is under way."""
    return _results_panel(request, get_object_or_404(Promotion.objects.select_related("account"), pk=pk))


def _results_panel(request: HttpRequest, promotion: Promotion) -> HttpResponse:
    results = desk.promotion_changes(promotion)
    return render(request, "pricing/promotions/_results.html", {
        "promotion": promotion, "results": results, "polling": desk.in_progress(results),
        "can_edit": has_role(request.user, EDITORS), "out_of_band": True,
    })


def _back(promotion: Promotion, request: HttpRequest) -> HttpResponseRedirect:
    url = reverse("pricing:promotion", args=[promotion.pk])
    tab = request.POST.get("tab")
    return HttpResponseRedirect(f"{url}?tab={tab}" if tab in dict(TABS) else url)


@require_POST
@require_role(*EDITORS)
def promotion_join(request: HttpRequest, pk: int) -> HttpResponse:
    promotion = get_object_or_404(Promotion.objects.select_related("account"), pk=pk)
    ids = [int(v) for v in request.POST.getlist("listing") if v.isdigit()]
    prices: dict[int, Decimal | None] = {}
    try:
        for listing_id in ids:
            raw = request.POST.get(f"price-{listing_id}", "").strip()
            prices[listing_id] = parse_cost(raw) if raw else None
        rows = desk.join_cards(promotion, prices, request.user,
                               below_floor_reason=request.POST.get("reason", "")[:500])
    except (PriceChangeError, CostError) as error:
        messages.error(request, str(error))
        context = _detail_context(request, promotion)
        context["ask_reason"] = isinstance(error, desk.BelowFloorError)
        return render(request, "pricing/promotions/detail.html", context, status=422)
    messages.success(request, _("%(n)s cards are queued to join the promotion; their results appear below.")
                     % {"n": len(rows)})
    return _back(promotion, request)


@require_POST
@require_role(*EDITORS)
def promotion_leave(request: HttpRequest, pk: int) -> HttpResponse:
    promotion = get_object_or_404(Promotion.objects.select_related("account"), pk=pk)
    ids = [int(v) for v in request.POST.getlist("listing") if v.isdigit()]
    try:
        rows = desk.leave_cards(promotion, ids, request.user)
    except PriceChangeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(n)s cards are queued to leave the promotion; their results appear below.")
                         % {"n": len(rows)})
    return _back(promotion, request)


@require_POST
@require_role(*EDITORS)
def promotion_change_retry(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_object_or_404(OutboxChange.objects.select_related("account"), pk=pk, kind__in=desk.PROMO_KINDS)
    promotion = get_object_or_404(Promotion.objects.select_related("account"), account_id=change.account_id,
                                  external_id=change.payload.get("promotion_external_id", ""))
    try:
        desk.retry_promotion_change(change, request.user)
    except PriceChangeError as error:
        messages.error(request, str(error))
    if request.headers.get("HX-Request"):
        return _results_panel(request, promotion)
    return _back(promotion, request)
