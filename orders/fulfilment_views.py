"""The shipping desk (/orders/shipping/) and the endpoint every order-action button posts to.

Each write calls one function of orders.fulfilment (which checks the role and audits); the answer is
the per-order results: an htmx partial in place, or after a plain submit a redirect back to `next`
with the results kept in the session for the page to show (orders.templatetags.fulfilment_tags)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.filters import filter_context
from core.pagination import Sort, Sorts, keyset_page
from core.roles import EDITORS, EVERYONE, has_role, require_role
from integrations.models import MarketplaceAccount
from orders import fulfilment
from orders.fulfilment_forms import BulkActionForm, ShippingFilter, end_of_today, to_ship
from orders.models import Order, OrderLine, OrderStatus
from orders.templatetags.fulfilment_tags import SESSION_KEY

SHIPPING_SORTS = Sorts(
    Order,
    [  # both on the partial index order_to_ship
        Sort("oldest", gettext_lazy("Oldest first (most urgent)"), ("ordered_at", "id")),
        Sort("newest", gettext_lazy("Newest first"), ("-ordered_at", "-id")),
    ],
)
LABELS_TTL = 15 * 60
ACTION_TITLES = {
    "assemble": gettext_lazy("Assemble / ready to ship"),
    "add_to_supply": gettext_lazy("Add to a supply"),
    "create_supply": gettext_lazy("Create a supply"),
    "deliver_supply": gettext_lazy("Hand the supply over to delivery"),
    "hand_over": gettext_lazy("Shipped"),
    "labels": gettext_lazy("Labels"),
    "cancel": gettext_lazy("Cancel orders"),
}


@require_GET
@require_role(*EVERYONE)
def shipping_desk(request: HttpRequest) -> HttpResponse:
    filterset = ShippingFilter(request.GET, queryset=to_ship())
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, SHIPPING_SORTS)
    rows = list(page.rows)
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=[o.pk for o in rows]).only(
        "order_id", "offer_id", "name", "quantity").order_by("order_id", "id"):
        lines[line.order_id].append(line)
    now, tonight = timezone.now(), end_of_today()
    for order in rows:
        order.desk_lines = lines.get(order.pk, [])  # type: ignore[attr-defined]
        due = order.shipment_due_at
        order.overdue = due is not None and due < now  # type: ignore[attr-defined]
        order.due_today = due is not None and now <= due < tonight  # type: ignore[attr-defined]
    context.update(
        page=page, rows=rows, summary=_summary(now, tonight), user_can_act=has_role(request.user, EDITORS),
        statuses=filterset.form.fields["status"].choices[1:],
        schemes=filterset.form.fields["scheme"].choices[1:], deadlines=filterset.form.fields["deadline"].choices[1:],
    )
    return render(request, "orders/shipping/desk.html", context)


def _summary(now: Any, tonight: Any) -> list[dict[str, Any]]:
    """Per account: to assemble, ready to hand over, overdue, due today; one grouped query on the
    partial index's rows."""
    rows = (
        to_ship().order_by().values("account_id", "account__name", "account__marketplace")
        .annotate(
            to_assemble=Count("id", filter=Q(status__in=[OrderStatus.NEW, OrderStatus.PROCESSING])),
            ready=Count("id", filter=Q(status=OrderStatus.READY_TO_SHIP)),
            overdue=Count("id", filter=Q(shipment_due_at__lt=now)),
            today=Count("id", filter=Q(shipment_due_at__gte=now, shipment_due_at__lt=tonight)),
        )
        .order_by("account__name")
    )
    return list(rows)


@require_POST
@require_role(*EDITORS)
def bulk_action(request: HttpRequest) -> HttpResponse:
    form = BulkActionForm(request.POST)
    labels_url, pages = "", 0
    if not form.is_valid():
        title, rows = _("Nothing was sent"), [{"status": "rejected", "message": m} for m in _errors(form)]
    else:
        action = form.cleaned_data["action"]
        title = str(ACTION_TITLES[action])
        results, bundle = _perform(request, form)
        if bundle is not None and bundle.pages:
            if not request.htmx:  # a plain submit downloads the file itself
                return _pdf(bundle.pdf)
            token = secrets.token_urlsafe(16)
            cache.set(_labels_key(request, token), bundle.pdf, LABELS_TTL)
            labels_url, pages = reverse("orders:shipping_labels", args=[token]), bundle.pages
        rows = _rows(results)
    payload = {"title": title, "rows": rows, "labels_url": labels_url, "pages": pages,
               "applied": sum(1 for r in rows if r["status"] == "applied"),
               "rejected": sum(1 for r in rows if r["status"] != "applied")}
    if request.htmx:
        target = request.htmx.target or "fulfilment-results"
        return render(request, "orders/shipping/_results.html", {"results": payload, "results_id": target})
    request.session[SESSION_KEY] = payload
    return redirect(_next(request, form))


@require_GET
@require_role(*EDITORS)
def label_file(request: HttpRequest, token: str) -> HttpResponse:
    pdf = cache.get(_labels_key(request, token))
    if pdf is None:
        raise Http404(_("These labels are no longer kept: print them again"))
    return _pdf(pdf)


def _perform(request: HttpRequest, form: BulkActionForm) -> tuple[list[fulfilment.ItemResult], Any]:
    data, user = form.cleaned_data, request.user
    action = data["action"]
    orders = Order.objects.filter(pk__in=data["order"]).only("pk").order_by("ordered_at", "id")
    supply = form.supply_parts()
    if action == "assemble":
        return fulfilment.assemble(user, orders, packages=form.packages()), None
    if action in ("add_to_supply", "create_supply"):
        supply_id = supply[1] if supply and action == "add_to_supply" else ""
        return fulfilment.add_to_supply(user, orders, supply_id=supply_id), None
    if action == "deliver_supply":
        assert supply is not None  # the form requires it
        account = MarketplaceAccount.objects.filter(pk=supply[0]).first()
        if account is None:
            return [fulfilment.ItemResult(None, supply[1], "rejected", _("Unknown account"))], None
        return fulfilment.deliver_supply(user, account, supply[1]), None
    if action == "hand_over":
        return fulfilment.hand_over(user, orders), None
    if action == "cancel":
        return fulfilment.cancel(user, orders, reason=data["reason"], message=data.get("message", "")), None
    bundle = fulfilment.labels(user, orders)
    return bundle.results, bundle


def _rows(results: list[fulfilment.ItemResult]) -> list[dict[str, Any]]:
    statuses = dict(OrderStatus.choices)
    return [{
        "order_id": r.order_id, "number": r.external_id, "status": str(r.status),
        "message": r.message, "new_status": _(statuses[r.new_status]) if r.new_status in statuses else "",
        "supply": r.remote_ref,
    } for r in results]


def _errors(form: BulkActionForm) -> list[str]:
    return [str(message) for messages in form.errors.values() for message in messages]


def _next(request: HttpRequest, form: BulkActionForm) -> str:
    wanted = form.data.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure()):
        return str(wanted)
    return "orders:shipping"


def _labels_key(request: HttpRequest, token: str) -> str:
    return f"orders:labels:{request.user.pk}:{token}"


def _pdf(content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="labels-{stamp}.pdf"'
    return response
