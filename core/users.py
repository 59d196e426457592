"""Users and their roles, as administrators manage them from the settings (and the create_user command).

Every change is audited; a password never reaches the audit trail, only the fact that it was set.
An administrator cannot lock themselves out: they cannot deactivate themselves or drop their own role.
Old sessions end by Django's own checks: an inactive user is not authenticated, and a session remembers the
hash of the password it was opened with.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.roles import Role, set_role


class UserChangeError(ValueError):
    """A change an administrator may not make (e.g. deactivating themselves)."""


@transaction.atomic
def create_user(*, username: str, email: str, role: Role, password: str, actor: Any) -> AbstractUser:
    """A new active user with a role; the password must pass the configured validators."""
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("A user with this name already exists.")})
    user = user_model(username=username, email=email, is_active=True)
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save()
    set_role(user, role)
    audit_record(
        action="user.created",
        actor=actor,
        obj=user,
        details={"username": username},
        new={"role": role.value, "email": email, "is_active": True},
    )
    return user


@transaction.atomic
def set_active(*, user: Any, active: bool, actor: Any) -> Any:
    if not active and actor is not None and user.pk == actor.pk:
        raise UserChangeError(_("You cannot deactivate yourself."))
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        action="user.activated" if active else "user.deactivated",
        actor=actor,
        obj=user,
        details={"username": user.get_username()},
        old={"is_active": not active},
        new={"is_active": active},
    )
    return user


@transaction.atomic
def reset_password(*, user: Any, password: str, actor: Any) -> Any:
    """Set a new password chosen by an administrator (validated); the user's open sessions end with it."""
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        action="user.password_reset", actor=actor, obj=user, details={"username": user.get_username()}
    )
    return user
