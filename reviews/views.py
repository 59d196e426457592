from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.filters import filter_context
from core.pagination import keyset_page
from core.roles import EDITORS, EVERYONE, has_role, require_role
from reviews.filters import ReviewFilter
from reviews.forms import ReplyTemplateForm
from reviews.models import ReplyTemplate
from reviews.selectors import REVIEW_SORTS, review_list


@require_role(*EVERYONE)
def reviews(request: HttpRequest) -> HttpResponse:
    filterset = ReviewFilter(request.GET, queryset=review_list())
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, REVIEW_SORTS)
    context.update(page=page, rows=page.rows, ratings=range(5, 0, -1))
    return render(request, "reviews/review_list.html", context)


@require_role(*EVERYONE)
def reply_templates(request: HttpRequest) -> HttpResponse:
    """Everyone reads the templates; managers and administrators add them (checked again on POST)."""
    can_edit = has_role(request.user, EDITORS)
    form = ReplyTemplateForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        if form is None:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if form.is_valid():
            template = form.save()
            messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
            return redirect("reviews:templates")
    return render(
        request,
        "reviews/reply_templates.html",
        {"templates": ReplyTemplate.objects.order_by("name"), "form": form, "can_edit": can_edit},
    )
