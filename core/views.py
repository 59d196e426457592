"""Overview, settings (accounts and users; Administrator only), health check and error pages."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from core.audit import audit_record
from core.forms import AccountForm, UserRoleForm
from core.roles import ADMINS, EVERYONE, Role, require_role, role_of, set_role
from core.selectors import accounts_with_health, overview_summary, users_with_roles, with_health
from integrations.accounts import AccountError, account_persist
from integrations.models import MarketplaceAccount

logger = logging.getLogger(__name__)


@require_role(*EVERYONE)
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "core/overview.html", {"summaries": overview_summary()})


@require_role(*ADMINS)
def settings_page(request: HttpRequest) -> HttpResponse:
    accounts = with_health(list(accounts_with_health()))
    return render(
        request,
        "core/settings.html",
        {"accounts": accounts, "users": users_with_roles(), "role_form": UserRoleForm()},
    )


@sensitive_variables("secret")
@sensitive_post_parameters("secret")
@require_role(*ADMINS)
def account_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    account = get_object_or_404(MarketplaceAccount, pk=pk) if pk is not None else MarketplaceAccount()
    form = AccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        secret = form.cleaned_data.get("secret") or None
        changed = [name for name in form.changed_data if name != "secret"]
        try:
            result = account_persist(account=form.instance, secret=secret, changed_fields=changed, actor=request.user)
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Account “%(name)s” saved. Key: %(hint)s")
                % {"name": result.account.name, "hint": result.account.credentials_hint},
            )
            return redirect("settings")
    return render(request, "core/account_form.html", {"form": form, "account": account if pk else None})


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
