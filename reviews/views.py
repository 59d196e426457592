"""The customer inbox ("Отзывы и вопросы") and the reply templates.

Reads for every role; answers, bulk answers and resolving alerts for managers and administrators
(an analyst's page has no such controls, and the server refuses the POST anyway). Each write calls
one service (reviews.services), which owns the transaction, the outbox rows and the audit rows.
Every item's answer state is a small partial that asks again every few seconds until it settles.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from core.roles import EDITORS, EVERYONE, has_role, require_role
from reviews import services
from reviews.filters import InboxFilter
from reviews.forms import ReplyTemplateForm
from reviews.inbox import IN_FLIGHT_STATES, InboxItem
from reviews.models import Alert, ReplyTemplate
from reviews.selectors import (
    inbox_list_page,
    items_by_key,
    one_item,
    open_alerts,
    reply_templates,
    templates_for,
    templates_with_usage,
)

# How often an item whose answer is on its way asks for its state (ms).
POLL_SECONDS = 3


def _htmx(request: HttpRequest) -> bool:
    """An htmx request (django_htmx's request.htmx): answered with a partial, else with a page."""
    return bool(getattr(request, "htmx", False))


def _item_key(kind: str, pk: int) -> str:
    if kind not in ("review", "question"):
        raise Http404
    return f"{kind}:{pk}"


def _item_or_404(kind: str, pk: int) -> InboxItem:
    item = one_item(_item_key(kind, pk))
    if item is None:
        raise Http404
    return item


@require_GET
@require_role(*EVERYONE)
def reviews(request: HttpRequest) -> HttpResponse:
    filterset = InboxFilter(request.GET, queryset=ReplyTemplate.objects.none())
    filters = filterset.inbox_filters()
    query = {k: str(v) for k, v in request.GET.items()}
    page = inbox_list_page(filters, query, sort_key=filterset.sort_key())
    can_edit = has_role(request.user, EDITORS)
    alerts = open_alerts()
    context: dict[str, Any] = {
        "filterset": filterset,
        "filters": filterset.cleaned(),
        "marketplaces": filterset.filters["marketplace"].extra["choices"],
        "kinds": filterset.filters["kind"].extra["choices"],
        "page": page,
        "rows": page.rows,
        "counts": page.counts,
        "ratings": range(5, 0, -1),
        "can_edit": can_edit,
        "alerts": alerts,
        "alerts_total": getattr(alerts[0], "open_total", 0) if alerts else 0,
        "templates": list(reply_templates()) if can_edit else [],
        "poll_seconds": POLL_SECONDS,
        "in_flight": IN_FLIGHT_STATES,
    }
    return render(request, "reviews/inbox.html", context)


def _item_context(request: HttpRequest, item: InboxItem, **extra: Any) -> dict[str, Any]:
    return {
        "item": item,
        "can_edit": has_role(request.user, EDITORS),
        "poll_seconds": POLL_SECONDS,
        "in_flight": IN_FLIGHT_STATES,
        **extra,
    }


@require_GET
@require_role(*EVERYONE)
def item(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """One item as the list shows it (the answer form's "Cancel" puts it back)."""
    return render(request, "reviews/_item.html", _item_context(request, _item_or_404(kind, pk)))


@require_GET
@require_role(*EVERYONE)
def answer_state(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The item's answer state; polled while the answer is on its way. Once it settles (published,
    rejected), the whole item is redrawn: its "answered" badge, checkbox and buttons change too."""
    item = _item_or_404(kind, pk)
    if _htmx(request) and item.answer_state not in IN_FLIGHT_STATES:
        response = render(request, "reviews/_item.html", _item_context(request, item))
        return reswap(retarget(response, f"#item-{kind}-{pk}"), "outerHTML")
    return render(request, "reviews/_answer_state.html", _item_context(request, item))


def _answer_form(request: HttpRequest, item: InboxItem, *, text: str, template: ReplyTemplate | None,
                 error: str = "") -> HttpResponse:
    templates = templates_for(item, list(reply_templates()))
    return render(request, "reviews/_answer_form.html", _item_context(
        request, item, templates=templates, chosen=template, text=text, error=error,
    ))


@require_role(*EDITORS)
def answer(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """GET: the inline answer form under the item; ?template= fills the text from that template (its
    buyer and product names put in) for editing. POST: send it (reviews.services.answer_one)."""
    key = _item_key(kind, pk)
    source = request.POST if request.method == "POST" else request.GET
    template = None
    if template_id := source.get("template", ""):
        template = ReplyTemplate.objects.filter(pk=template_id).first() if template_id.isdigit() else None
    if request.method == "GET":
        item = _item_or_404(kind, pk)
        text, error = request.GET.get("text", item.sent_text if item.answer_state else ""), ""
        if template is not None:
            text, error = services.template_text(template, key)
        return _answer_form(request, item, text=text, template=template, error=error)
    if request.method != "POST":
        return HttpResponse(status=405)
    text = request.POST.get("text", "")
    result = services.answer_one(key, text, request.user, template)
    if not _htmx(request):
        if result.ok:
            messages.success(request, _("The answer is queued for the marketplace."))
        else:
            messages.error(request, _("Not sent: %(reason)s") % {"reason": result.reason})
        return redirect(_back(request))
    item = _item_or_404(kind, pk)
    if not result.ok:  # the item again, its form open with what was typed and why it was not sent
        templates = templates_for(item, list(reply_templates()))
        return render(request, "reviews/_item.html", _item_context(
            request, item, form_open=True, templates=templates, chosen=template, text=text, error=result.reason,
        ))
    return render(request, "reviews/_item.html", _item_context(request, item))


@require_POST
@require_role(*EDITORS)
def resend(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """"Send again" for an answer that was rejected or not delivered."""
    result = services.resend_answer(_item_key(kind, pk), request.user)
    item = _item_or_404(kind, pk)
    return render(request, "reviews/_answer_state.html", _item_context(
        request, item, error="" if result.ok else result.reason,
    ))


def _selection(request: HttpRequest) -> tuple[list[str], ReplyTemplate | None]:
    keys = list(dict.fromkeys(request.POST.getlist("items")))[:500]
    template_id = request.POST.get("template", "")
    template = ReplyTemplate.objects.filter(pk=template_id).first() if template_id.isdigit() else None
    return keys, template


@require_POST
@require_role(*EDITORS)
def bulk_preview(request: HttpRequest) -> HttpResponse:
    """What a bulk answer would send: per text, how many items get it; the refused ones with why."""
    keys, template = _selection(request)
    decisions = services.preview_many(keys, "", template) if template is not None and keys else []
    groups: dict[str, list[Any]] = {}
    for decision in decisions:
        if not decision.reason:
            groups.setdefault(decision.text, []).append(decision)
    context = {
        "keys": keys,
        "template": template,
        "groups": sorted(groups.items(), key=lambda pair: -len(pair[1])),
        "accepted": sum(len(group) for group in groups.values()),
        "refused": [d for d in decisions if d.reason],
        "no_template": template is None,
        "next": _back(request),
    }
    name = "reviews/_bulk_preview.html" if _htmx(request) else "reviews/bulk_page.html"
    return render(request, name, context)


@require_POST
@require_role(*EDITORS)
def bulk_answer(request: HttpRequest) -> HttpResponse:
    keys, template = _selection(request)
    if template is None or not keys:
        return bulk_preview(request)
    results = services.answer_many(keys, "", request.user, template)
    accepted = [r for r in results if r.ok]
    refused = [r for r in results if not r.ok]
    if not _htmx(request):
        messages.success(request, _("Answers queued: %(ok)s, refused: %(refused)s.") % {
            "ok": len(accepted), "refused": len(refused)})
        return redirect(_back(request))
    items = items_by_key([r.key for r in results])
    rows = [{"key": r.key, "ok": r.ok, "reason": r.reason, "item": items.get(r.key)} for r in results]
    return render(request, "reviews/_bulk_results.html", {
        "accepted": accepted, "refused": refused, "rows": rows, "can_edit": True,
        "states": [items[r.key] for r in accepted if r.key in items],
        "poll_seconds": POLL_SECONDS, "in_flight": IN_FLIGHT_STATES,
    })


@require_POST
@require_role(*EDITORS)
def resolve_alert(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    services.resolve_alert(alert.pk, request.user)
    if _htmx(request):
        return HttpResponse("")
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/reviews/"


@require_role(*EVERYONE)
def reply_templates_page(request: HttpRequest) -> HttpResponse:
    """Everyone reads the templates; managers and administrators add them (checked again on POST)."""
    can_edit = has_role(request.user, EDITORS)
    form = ReplyTemplateForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            template = form.save()
            messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
            return redirect("reviews:templates")
    return render(
        request,
        "reviews/reply_templates.html",
        {"templates": templates_with_usage(), "form": form, "can_edit": can_edit,
         "example_buyer": services.EXAMPLE_BUYER, "example_product": services.EXAMPLE_PRODUCT},
    )
