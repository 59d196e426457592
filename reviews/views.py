from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.filters import choice_param, int_param, marketplace_param
from core.models import Marketplace
from core.pagination import paginate
from core.roles import EDITORS, EVERYONE, has_role, require_role
from reviews.forms import ReplyTemplateForm
from reviews.models import ReplyTemplate
from reviews.selectors import review_list

ANSWERED_CHOICES = {"yes": True, "no": False}


@require_role(*EVERYONE)
def reviews(request: HttpRequest) -> HttpResponse:
    marketplace = marketplace_param(request)
    rating = int_param(request, "rating", low=1, high=5)
    answered = choice_param(request, "answered", ANSWERED_CHOICES)
    queryset = review_list(marketplace=marketplace, rating=rating, answered=ANSWERED_CHOICES.get(answered))
    context = {
        "marketplaces": Marketplace.choices,
        "marketplace": marketplace,
        "rating": rating,
        "ratings": range(5, 0, -1),
        "answered": answered,
        **paginate(request, queryset),
    }
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
