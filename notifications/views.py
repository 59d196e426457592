"""The user's notifications: read them, mark them read, choose which to receive."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.roles import EVERYONE, require_role
from notifications.forms import PreferencesForm
from notifications.services import mark_read, notifications_for, preferences_for, preferences_save

PAGE_SIZE = 50


@require_role(*EVERYONE)
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    form = PreferencesForm(current=preferences_for(request.user))
    return render(request, "notifications/list.html", {"page_obj": page, "form": form})


@require_POST
@require_role(*EVERYONE)
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (`id`) or all of them read."""
    ids = [int(value) for value in request.POST.getlist("id") if value.isdigit()]
    mark_read(user=request.user, ids=ids or None)
    return redirect("notifications:list")


@require_POST
@require_role(*EVERYONE)
def notification_preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST, current=preferences_for(request.user))
    if form.is_valid():
        preferences_save(user=request.user, choices=form.choices())
        messages.success(request, _("Notification settings saved."))
    return redirect("notifications:list")
