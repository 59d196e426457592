"""User roles (Administrator only), health check and error pages. The overview lives in dashboard/,
the account settings in integrations/."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.audit import audit_record
from core.forms import UserRoleForm
from core.roles import ADMINS, Role, require_role, role_of, set_role

logger = logging.getLogger(__name__)


@require_POST
@require_role(*ADMINS)
def user_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    form = UserRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return redirect("settings")
    role = Role(form.cleaned_data["role"])
    if user.pk == request.user.pk and role is not Role.ADMIN:
        messages.error(request, _("You cannot remove your own administrator role."))
        return redirect("settings")
    previous = role_of(user)
    if previous is not role:
        set_role(user, role)
        audit_record(
            action="user.role_changed",
            actor=request.user,
            obj=user,
            details={"username": user.get_username(), "from": previous.value if previous else None, "to": role},
            old={"role": previous.value if previous else None},
            new={"role": role.value},
        )
        messages.success(request, _("Role of %(user)s: %(role)s") % {"user": user.get_username(), "role": role.label})
    return redirect("settings")


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For container health checks: is the database answering? Reveals nothing else."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: database unavailable")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """A 500 page that renders without the database or the request context: nothing to leak, nothing to fail."""
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
