"""Settings: the marketplace accounts (Administrator only) next to the users and their roles."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from core.forms import UserRoleForm
from core.roles import ADMINS, require_role
from core.selectors import users_with_roles
from integrations.accounts import AccountError, account_persist, check_base_url
from integrations.forms import AccountForm
from integrations.key_check import check_key, describe
from integrations.models import MarketplaceAccount
from integrations.selectors import accounts_with_health, with_health


@require_role(*ADMINS)
def settings_page(request: HttpRequest) -> HttpResponse:
    accounts = with_health(list(accounts_with_health()))
    return render(
        request,
        "integrations/settings.html",
        {"accounts": accounts, "users": users_with_roles(), "role_form": UserRoleForm()},
    )


@sensitive_variables("secret")
@sensitive_post_parameters("secret", "performance_client_id", "performance_client_secret")
@require_role(*ADMINS)
def account_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    account = get_object_or_404(MarketplaceAccount, pk=pk) if pk is not None else MarketplaceAccount()
    form = AccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        secret = form.cleaned_data.get("secret") or None
        changed = [name for name in form.changed_data
                   if name not in ("secret", "performance_client_id", "performance_client_secret")]
        try:
            check_base_url(form.instance.base_url)
            # A new key is tried before it is stored: a key the marketplace refuses is not saved.
            check = check_key(form.instance, secret) if secret else None
            if check is not None and check.refused:
                form.add_error("secret", describe(check))
                raise _Refused
            result = account_persist(account=form.instance, secret=secret, changed_fields=changed, actor=request.user,
                                     extra_secrets=form.extra_secrets())
        except AccountError as exc:
            form.add_error(None, str(exc))
        except _Refused:
            pass
        else:
            messages.success(
                request,
                _("Account “%(name)s” saved. Key: %(hint)s")
                % {"name": result.account.name, "hint": result.account.credentials_hint},
            )
            if check is not None:
                (messages.success if check.outcome == "ok" else messages.warning)(request, describe(check))
            return redirect("settings")
    return render(request, "integrations/account_form.html", {"form": form, "account": account if pk else None})


class _Refused(Exception):
    pass


@require_POST
@require_role(*ADMINS)
def account_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Try the saved key now and say what it may do; nothing about the account changes."""
    account = get_object_or_404(MarketplaceAccount, pk=pk)
    check = check_key(account)
    level = {"ok": messages.success, "refused": messages.error}.get(check.outcome, messages.warning)
    level(request, f"{account.name}: {describe(check)}")
    return redirect("settings")
