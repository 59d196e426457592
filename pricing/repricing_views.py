"""The repricing screens (/prices/rules/): the rules with their last run, a rule's form, the dry-run preview
of one rule or of every enabled rule, the runs with the batch each created, and competitor prices (by hand
and from a file). Managers and administrators edit and run; analysts read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalog.models import Listing
from core.files import FileRejected, read_table
from core.filters import filter_context
from core.pagination import Sort, Sorts, keyset_page
from core.roles import EDITORS, EVERYONE, has_role, require_role
from pricing import competitors, repricing
from pricing.competitors import CompetitorPriceError
from pricing.editor import FileErrors
from pricing.models import CompetitorPrice, RepricingRule, RepricingRun
from pricing.repricing import RuleError
from pricing.repricing_forms import (
    CompetitorFileForm,
    CompetitorPriceFilter,
    CompetitorPriceForm,
    EditCompetitorPriceForm,
    RepricingRuleFilter,
    RepricingRunFilter,
    RuleForm,
)

RULE_SORTS = Sorts(RepricingRule, [Sort("newest", gettext_lazy("Newest first"), ("-id",))])
RUN_SORTS = Sorts(RepricingRun, [Sort("newest", gettext_lazy("Newest first"), ("-created_at", "-id"))])
COMPETITOR_SORTS = Sorts(CompetitorPrice, [Sort("newest", gettext_lazy("Newest first"), ("-observed_at", "-id"))])
SHOWN = 500  # rows of each table of a preview or a run (the rest are counted)
Through = RepricingRun.rules.through


def _last_runs(rules: list[RepricingRule]) -> None:
    """Each rule's newest run as rule.last_run: two queries for the page."""
    rows = (Through.objects.filter(repricingrule_id__in=[r.pk for r in rules])
            .order_by("repricingrule_id", "-repricingrun_id").distinct("repricingrule_id")
            .values_list("repricingrule_id", "repricingrun_id"))
    by_rule = dict(rows)
    runs = RepricingRun.objects.in_bulk(set(by_rule.values())) if by_rule else {}
    for rule in rules:
        rule.last_run = runs.get(by_rule.get(rule.pk))  # type: ignore[attr-defined]


@require_role(*EVERYONE)
def rule_list(request: HttpRequest) -> HttpResponse:
    filterset = RepricingRuleFilter(request.GET, queryset=RepricingRule.objects.select_related("listing", "product"))
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, RULE_SORTS)
    _last_runs(page.rows)
    for rule in page.rows:
        rule.scope_text = repricing.describe_scope(rule)
    context.update(page=page, rows=page.rows, can_edit=has_role(request.user, EDITORS),
                   strategies=RepricingRule.Strategy.choices, schedule_minutes=repricing.schedule_minutes())
    return render(request, "pricing/repricing/rules.html", context)


def _rule_error(form: RuleForm, error: RuleError) -> None:
    field = "target" if error.field in repricing.SCOPE_FIELDS else error.field
    form.add_error(field if field in form.fields else None, str(error))


@require_role(*EVERYONE)
def rule_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(RepricingRule.objects.select_related("listing", "product"), pk=pk) if pk else None
    can_edit = has_role(request.user, EDITORS)
    if request.method == "POST" and not can_edit:
        return HttpResponse(status=403)
    initial = RuleForm.initial_for(rule) if rule else None
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            scope = repricing.resolve_scope(data["scope"], data["target"], data.get("marketplace") or "")
            saved = repricing.save_rule(rule, user=request.user, **form.values(), **scope)
        except RuleError as error:
            _rule_error(form, error)
        else:
            messages.success(request, _("Rule «%(name)s» saved. Here is what it would change now.")
                             % {"name": saved.name})
            return redirect("pricing:rule_preview", saved.pk)
    return render(request, "pricing/repricing/rule_form.html", {
        "rule": rule, "form": form, "can_edit": can_edit, "scope_text": repricing.describe_scope(rule) if rule else "",
    })


@require_role(*EDITORS)
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(RepricingRule, pk=pk)
    repricing.delete_rule(rule, user=request.user)
    messages.success(request, _("Rule «%(name)s» deleted.") % {"name": rule.name})
    return redirect("pricing:rules")


def _preview_page(request: HttpRequest, rules: list[RepricingRule], rule: RepricingRule | None) -> HttpResponse:
    preview = repricing.decide(rules, all_enabled=rule is None)
    changes, skipped = preview.changes, preview.skipped
    return render(request, "pricing/repricing/preview.html", {
        "rule": rule, "rules": rules, "preview": preview, "changes": changes[:SHOWN], "skipped": skipped[:SHOWN],
        "changes_count": len(changes), "skipped_count": len(skipped), "shown": SHOWN,
        "can_edit": has_role(request.user, EDITORS), "max_cards": repricing.max_cards(),
    })


@require_role(*EVERYONE)
def rule_preview(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(RepricingRule.objects.select_related("listing", "product"), pk=pk)
    return _preview_page(request, [rule], rule)


@require_role(*EVERYONE)
def preview_all(request: HttpRequest) -> HttpResponse:
    return _preview_page(request, repricing.enabled_rules(), None)


def _start(request: HttpRequest, rules: list[RepricingRule] | None) -> HttpResponse:
    try:
        run = repricing.start_run(rules=rules, user=request.user)
    except RuleError as error:
        messages.error(request, str(error))
        return redirect("pricing:rules")
    messages.success(request, _("Run #%(id)s is queued; its batch appears here when it is done.") % {"id": run.pk})
    return redirect("pricing:repricing_run", run.pk)


@require_role(*EDITORS)
@require_POST
def rule_run(request: HttpRequest, pk: int) -> HttpResponse:
    return _start(request, [get_object_or_404(RepricingRule, pk=pk)])


@require_role(*EDITORS)
@require_POST
def run_all(request: HttpRequest) -> HttpResponse:
    return _start(request, None)


@require_role(*EVERYONE)
def run_list(request: HttpRequest) -> HttpResponse:
    filterset = RepricingRunFilter(request.GET, queryset=RepricingRun.objects.select_related("created_by", "batch"))
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, RUN_SORTS)  # one rule's filter joins one row per run
    context.update(page=page, rows=page.rows, states=RepricingRun.State.choices,
                   triggers=RepricingRun.Trigger.choices)
    return render(request, "pricing/repricing/runs.html", context)


@require_role(*EVERYONE)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(RepricingRun.objects.select_related("created_by", "batch"), pk=pk)
    decisions: list[dict[str, Any]] = run.decisions or []
    changed = [d for d in decisions if not d.get("skip")]
    skipped = [d for d in decisions if d.get("skip")]
    template = ("pricing/repricing/_run.html" if request.headers.get("HX-Request")
                else "pricing/repricing/run.html")
    return render(request, template, {
        "run": run, "rules": list(run.rules.order_by("pk")), "changed": changed[:SHOWN], "skipped": skipped[:SHOWN],
        "in_progress": run.state in (RepricingRun.State.QUEUED, RepricingRun.State.RUNNING), "shown": SHOWN,
    })


# ---------------------------------------------------------------------------------------------
# Competitor prices


@require_role(*EVERYONE)
def competitor_list(request: HttpRequest) -> HttpResponse:
    can_edit = has_role(request.user, EDITORS)
    if request.method == "POST" and not can_edit:
        return HttpResponse(status=403)
    filterset = CompetitorPriceFilter(request.GET, queryset=CompetitorPrice.objects.select_related("listing__account"))
    context = filter_context(filterset)
    listing_id = context["filters"].get("listing")
    card = None
    if listing_id:
        card = Listing.objects.select_related("account").filter(pk=listing_id).first()
    initial = {"card": card.offer_id, "marketplace": card.account.marketplace} if card else None
    form = CompetitorPriceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        found = competitors.find_cards([data["card"]], data.get("marketplace") or "").get(data["card"].strip(), [])
        if not found:
            form.add_error("card", _("No card “%(value)s”.") % {"value": data["card"]})
        elif len(found) > 1:
            form.add_error("marketplace", _("Several cards match: choose the marketplace."))
        else:
            try:
                competitors.add_competitor_price(
                    listing=found[0], competitor=data["competitor"], price=data["price"], url=data.get("url") or "",
                    observed_at=data.get("observed_at"), user=request.user,
                )
            except CompetitorPriceError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            else:
                messages.success(request, _("The competitor price is saved."))
                return redirect(request.get_full_path())
    page = keyset_page(request, filterset.qs, COMPETITOR_SORTS)
    context.update(page=page, rows=page.rows, card=card, form=form, can_edit=can_edit)
    return render(request, "pricing/repricing/competitors.html", context)


@require_role(*EVERYONE)
def competitor_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(CompetitorPrice.objects.select_related("listing__account"), pk=pk)
    can_edit = has_role(request.user, EDITORS)
    if request.method == "POST" and not can_edit:
        return HttpResponse(status=403)
    form = EditCompetitorPriceForm(request.POST or None, initial={
        "competitor": row.competitor, "price": row.price, "url": row.url, "observed_at": row.observed_at})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            competitors.update_competitor_price(row, user=request.user, competitor=data["competitor"],
                                                price=data["price"], url=data.get("url") or "",
                                                observed_at=data.get("observed_at"))
        except CompetitorPriceError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, _("The competitor price is saved."))
            return redirect(f"{reverse('pricing:competitors')}?listing={row.listing_id}")
    return render(request, "pricing/repricing/competitor_form.html", {"row": row, "form": form, "can_edit": can_edit})


@require_role(*EDITORS)
@require_POST
def competitor_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(CompetitorPrice, pk=pk)
    competitors.delete_competitor_price(row, user=request.user)
    messages.success(request, _("The competitor price is deleted."))
    return redirect(f"{reverse('pricing:competitors')}?listing={row.listing_id}")


@require_role(*EDITORS)
def competitor_import(request: HttpRequest) -> HttpResponse:
    form = CompetitorFileForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            created = competitors.import_competitor_prices(read_table(upload), user=request.user)
        except FileRejected as error:
            context["errors"] = [str(error)]
        except FileErrors as error:
            context["errors"] = error.errors
        else:
            messages.success(request, _("%(count)s competitor prices imported from %(name)s.")
                             % {"count": len(created), "name": upload.name})
            return redirect("pricing:competitors")
    return render(request, "pricing/repricing/competitor_import.html", context, status=422 if "errors" in context
                  else 200)
