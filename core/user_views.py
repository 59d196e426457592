"""Users in the settings (Administrator only): create with a role, deactivate and reactivate, reset a password.
The role itself is changed by core.views.user_role."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from core.forms import PasswordResetForm, UserCreateForm
from core.roles import ADMINS, Role, require_role
from core.users import UserChangeError, create_user, reset_password, set_active


def _add_errors(form: UserCreateForm | PasswordResetForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error("password", exc.messages)


@sensitive_post_parameters("password", "password_again")
@require_role(*ADMINS)
def user_add(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = create_user(
                username=data["username"],
                email=data["email"],
                role=Role(data["role"]),
                password=data["password"],
                actor=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("User %(user)s created.") % {"user": user.get_username()})
            return redirect("settings")
    return render(request, "core/user_form.html", {"form": form})


@require_POST
@require_role(*ADMINS)
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    active = request.POST.get("active") == "1"
    try:
        set_active(user=user, active=active, actor=request.user)
    except UserChangeError as exc:
        messages.error(request, str(exc))
    else:
        message = _("%(user)s can sign in again.") if active else _("%(user)s is deactivated and signed out.")
        messages.success(request, message % {"user": user.get_username()})
    return redirect("settings")


@sensitive_post_parameters("password", "password_again")
@require_role(*ADMINS)
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reset_password(user=user, password=form.cleaned_data["password"], actor=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("New password of %(user)s saved; their sessions ended.") % {"user": user.get_username()}
            )
            return redirect("settings")
    return render(request, "core/user_password.html", {"form": form, "subject": user})
