"""The import screens: upload an edited file, see what will change, confirm."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalog.imports import ImportKind, apply_plan, build_plan
from catalog.services import CatalogChangeError
from core.files import MAX_IMPORT_ROWS, MAX_UPLOAD_BYTES, FileRejected, read_table
from core.roles import EDITORS, require_role

SESSION_KEY = "catalog_import"
PREVIEW_ROWS = 500
# Where to see the result of each kind: the pushes' per-item results live on these pages.
RESULT_PAGES = {ImportKind.STOCK: "catalog:stock", ImportKind.CONTENT: "catalog:listings",
                ImportKind.LINKS: "catalog:listings"}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices, label=gettext_lazy("What to change"))
    file = forms.FileField(
        label=gettext_lazy("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
        help_text=gettext_lazy("An exported .xlsx or .csv file, edited."),
    )


def _limits() -> dict[str, int]:
    return {"max_mb": MAX_UPLOAD_BYTES // 1024 // 1024, "max_rows": MAX_IMPORT_ROWS}


@require_role(*EDITORS)
def upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = ImportForm(initial={"kind": request.GET.get("kind", ImportKind.STOCK)})
        return render(request, "catalog/import_upload.html", {"form": form, **_limits()})
    form = ImportForm(request.POST, request.FILES)
    context = {"form": form, **_limits()}
    if not form.is_valid():
        return render(request, "catalog/import_upload.html", context, status=400)
    kind = form.cleaned_data["kind"]
    try:
        table = read_table(form.cleaned_data["file"])
    except FileRejected as error:
        context["file_error"] = str(error)
        return render(request, "catalog/import_upload.html", context, status=400)
    plan = build_plan(kind, table)
    context["plan"] = plan
    if plan.errors:
        return render(request, "catalog/import_upload.html", context, status=400)
    if not plan.changes:
        messages.info(request, _("The file changes nothing: every value is already as in the file."))
        return redirect(f"{reverse('catalog:import')}?kind={kind}")
    token = uuid.uuid4().hex
    request.session[SESSION_KEY] = {"token": token, "kind": kind, "filename": table.filename,
                                    "changes": plan.stored()}
    context.update(token=token, kind_label=ImportKind(kind).label, preview=plan.changes[:PREVIEW_ROWS],
                   more=max(0, len(plan.changes) - PREVIEW_ROWS))
    return render(request, "catalog/import_preview.html", context)


@require_POST
@require_role(*EDITORS)
def confirm(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token"):
        messages.error(request, _("This preview is no longer current: upload the file again."))
        return redirect("catalog:import")
    kind = pending["kind"]
    try:
        count = apply_plan(kind, pending["changes"], request.user, filename=pending["filename"])
    except CatalogChangeError as error:
        messages.error(request, _("Nothing was changed: %(error)s") % {"error": error})
        return redirect(f"{reverse('catalog:import')}?kind={kind}")
    del request.session[SESSION_KEY]
    messages.success(request, _("%(count)s changes from “%(file)s” are saved and queued for the marketplaces.")
                     % {"count": count, "file": pending["filename"]})
    return redirect(RESULT_PAGES[ImportKind(kind)])
