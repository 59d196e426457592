"""Money at risk (/prices/risk/): the queue of cards losing money now, and its actions."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.filters import filter_context
from core.pagination import Sort, Sorts, keyset_page
from core.roles import EDITORS, EVERYONE, has_role, require_role
from integrations.base import WriteStatus
from pricing import promotions_desk as desk
from pricing import risk
from pricing.desk_filters import MoneyAtRiskFilter
from pricing.models import MoneyAtRisk
from pricing.services import PriceChangeError
from pricing.tasks import refresh_money_at_risk_task

RISK_SORTS = Sorts(MoneyAtRisk, [
    Sort("stake", _("Most money at stake"), ("-at_stake", "-id")),
])


def risk_queryset() -> QuerySet[MoneyAtRisk]:
    return MoneyAtRisk.objects.select_related("listing", "account", "promotion", "change", "quarantine")


@require_GET
@require_role(*EVERYONE)
def risk_list(request: HttpRequest) -> HttpResponse:
    filterset = MoneyAtRiskFilter(request.GET, queryset=risk_queryset())
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, RISK_SORTS)
    leave = {m: desk.leave_supported(m) for m in {row.account.marketplace for row in page.rows}}
    confirm = {m: risk.quarantine_confirmable(m) for m in leave}
    for row in page.rows:
        row.can_leave = leave[row.account.marketplace]
        row.can_confirm = confirm[row.account.marketplace]
    context.update(page=page, rows=page.rows, reasons=MoneyAtRisk.Reason.choices,
                   can_edit=has_role(request.user, EDITORS), summary=risk.risk_summary())
    return render(request, "pricing/risk/list.html", context)


@require_POST
@require_role(*EDITORS)
def risk_confirm_quarantine(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(MoneyAtRisk.objects.select_related("quarantine__account"), pk=pk,
                             reason=MoneyAtRisk.Reason.QUARANTINE, quarantine__isnull=False)
    quarantined = item.quarantine
    assert quarantined is not None
    try:
        results = risk.confirm_quarantined_prices(quarantined.account, [quarantined.offer_id], request.user)
    except PriceChangeError as error:
        messages.error(request, str(error))
        return redirect("pricing:risk")
    for result in results:
        if result.status == WriteStatus.APPLIED:
            messages.success(request, _("The price of %(article)s is confirmed: the card sells at it again.")
                             % {"article": quarantined.offer_id})
        else:
            messages.error(request, _("The marketplace did not confirm the price of %(article)s: %(message)s")
                           % {"article": quarantined.offer_id, "message": result.message})
    return redirect("pricing:risk")


@require_POST
@require_role(*EDITORS)
def risk_leave_promotion(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(MoneyAtRisk.objects.select_related("promotion__account"), pk=pk,
                             reason=MoneyAtRisk.Reason.PROMO_BELOW_FLOOR, promotion__isnull=False)
    assert item.promotion is not None
    try:
        desk.leave_cards(item.promotion, [item.listing_id], request.user)
    except PriceChangeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The card is queued to leave «%(title)s»; the result is on the promotion's page.")
                         % {"title": item.promotion.title})
    return redirect("pricing:risk")


@require_POST
@require_role(*EDITORS)
def risk_refresh(request: HttpRequest) -> HttpResponse:
    transaction.on_commit(refresh_money_at_risk_task.delay)
    messages.info(request, _("The queue is being recounted; reload the page in a minute."))
    return redirect("pricing:risk")
