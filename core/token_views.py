"""API tokens in the browser (administrators): list, issue (the token is shown on the answer page
once and never again), revoke."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from core.roles import ADMINS, require_role
from core.tokens import TokenError, token_issue, token_revoke, tokens_list


class TokenIssueForm(forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("User"), queryset=get_user_model().objects.filter(is_active=True).order_by("username")
    )
    name = forms.CharField(
        label=gettext_lazy("What it is for"), max_length=100, required=False, help_text=gettext_lazy("e.g. 1C exchange")
    )
    expires_days = forms.IntegerField(
        label=gettext_lazy("Expires after, days"), min_value=1, max_value=3650, required=False,
        help_text=gettext_lazy("Empty: never."),
    )


@never_cache
@sensitive_variables("issued")
@require_role(*ADMINS)
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenIssueForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            issued = token_issue(
                user=form.cleaned_data["user"],
                name=form.cleaned_data["name"],
                expires_days=form.cleaned_data["expires_days"],
                actor=request.user,
            )
        except TokenError as exc:
            form.add_error(None, str(exc))
        else:
            # Rendered into this answer only: not stored, not in a message, not in a redirect.
            context = {"form": TokenIssueForm(), "issued": issued}
    context["tokens"] = tokens_list()
    return render(request, "core/tokens.html", context)  # never_cache: no-store, the token is on it


@require_POST
@require_role(*ADMINS)
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        token = token_revoke(token_id=pk, actor=request.user)
    except TokenError:
        messages.error(request, _("No such token."))
    else:
        messages.success(request, _("Token %(prefix)s revoked.") % {"prefix": token.prefix})
    return redirect("tokens")
