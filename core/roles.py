"""Roles: Administrator, Manager, Analyst.

Each role is a Django Group with model permissions (so the Django admin and `user.has_perm` agree with
the pages), and the pages check the role itself through `require_role` / `RoleRequiredMixin`:
- Administrator: accounts, keys, users, everything;
- Manager: edits the catalogue, orders, prices and answers; reads everything else;
- Analyst: reads and exports only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    ANALYST = "analyst"

    @property
    def group_name(self) -> str:
        return GROUP_NAMES[self]

    @property
    def label(self) -> str:
        return str(LABELS[self])


GROUP_NAMES = {Role.ADMIN: "Administrator", Role.MANAGER: "Manager", Role.ANALYST: "Analyst"}
LABELS = {Role.ADMIN: _("Administrator"), Role.MANAGER: _("Manager"), Role.ANALYST: _("Analyst")}
# Strongest first: a user in several groups gets the strongest role.
_PRECEDENCE = (Role.ADMIN, Role.MANAGER, Role.ANALYST)

# Who may do what, for groups of views.
EVERYONE = frozenset(Role)
EDITORS = frozenset({Role.ADMIN, Role.MANAGER})
ADMINS = frozenset({Role.ADMIN})

DOMAIN_APPS = ("core", "integrations", "catalog", "orders", "pricing", "reviews", "analytics")
# What a manager edits; everything else is read-only for them.
MANAGER_EDITABLE_APPS = ("catalog", "orders", "pricing", "reviews")
ADMIN_EXTRA_APPS = ("auth", "axes")


def _permissions(app_labels: Iterable[str], actions: Iterable[str] | None = None) -> list[Permission]:
    query = Permission.objects.filter(content_type__app_label__in=list(app_labels))
    if actions is not None:
        wanted = tuple(f"{action}_" for action in actions)
        return [p for p in query if p.codename.startswith(wanted)]
    return list(query)


def ensure_roles() -> dict[Role, Group]:
    """Create the three groups with their permissions. Idempotent: safe on every migrate."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    # Permissions of apps migrated after core would not exist yet when post_migrate reaches us.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)

    wanted = {
        Role.ADMIN: _permissions((*DOMAIN_APPS, *ADMIN_EXTRA_APPS)),
        Role.MANAGER: _permissions(DOMAIN_APPS, ["view"]) + _permissions(MANAGER_EDITABLE_APPS),
        Role.ANALYST: _permissions(DOMAIN_APPS, ["view"]),
    }
    groups: dict[Role, Group] = {}
    with transaction.atomic():
        for role, permissions in wanted.items():
            group, _created = Group.objects.get_or_create(name=role.group_name)
            group.permissions.set(permissions)
            groups[role] = group
    return groups


def role_of(user: AbstractBaseUser | AnonymousUser | None) -> Role | None:
    """The user's role, or None (anonymous, inactive or in no role group). Cached on the user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    cached: Role | str | None = getattr(user, "_prilavok_role", "unset")
    if cached != "unset":
        return cached  # type: ignore[return-value]
    role: Role | None
    if getattr(user, "is_superuser", False):
        role = Role.ADMIN
    else:
        names = set(Group.objects.filter(user__pk=user.pk).values_list("name", flat=True))
        role = next((r for r in _PRECEDENCE if r.group_name in names), None)
    user._prilavok_role = role  # type: ignore[attr-defined]
    return role


def set_role(user: Any, role: Role) -> None:
    """Put the user in exactly one role group. Administrators may also open the Django admin."""
    by_name = {g.name: g for g in Group.objects.filter(name__in=GROUP_NAMES.values())}
    if len(by_name) < len(GROUP_NAMES):
        ensure_roles()
        by_name = {g.name: g for g in Group.objects.filter(name__in=GROUP_NAMES.values())}
    groups = {r: by_name[r.group_name] for r in Role}
    with transaction.atomic():
        user.groups.remove(*[g for r, g in groups.items() if r != role])
        user.groups.add(groups[role])
        user.is_staff = role is Role.ADMIN
        user.save(update_fields=["is_staff"])
    user._prilavok_role = role


def has_role(user: Any, allowed: Iterable[Role]) -> bool:
    role = role_of(user)
    return role is not None and role in set(allowed)


ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def require_role(*allowed: Role) -> Callable[[ViewFunc], ViewFunc]:
    """Function-view decorator: anonymous -> login page, signed in without the role -> 403."""
    allowed_set = frozenset(allowed)

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, allowed_set):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = allowed_set  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


class RoleRequiredMixin(AccessMixin):
    """Class-based views: set `allowed_roles`; safe methods may be opened wider with `read_roles`."""

    allowed_roles: frozenset[Role] = ADMINS
    read_roles: frozenset[Role] | None = None

    def roles_for(self, request: HttpRequest) -> frozenset[Role]:
        if self.read_roles is not None and request.method in ("GET", "HEAD", "OPTIONS"):
            return self.read_roles
        return self.allowed_roles

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.roles_for(request)):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


# The main navigation: (url name, label, roles that see it).
NAVIGATION: tuple[tuple[str, Any, frozenset[Role]], ...] = (
    ("overview", _("Overview"), EVERYONE),
    ("catalog:products", _("Catalog"), EVERYONE),
    ("catalog:stock", _("Stock"), EVERYONE),
    ("supply:forecast", _("Purchasing"), EVERYONE),
    ("orders:list", _("Orders"), EVERYONE),
    ("orders:shipping", _("Shipping"), EVERYONE),
    ("orders:returns", _("Returns"), EVERYONE),
    ("pricing:prices", _("Prices"), EVERYONE),
    ("reviews:list", _("Reviews"), EVERYONE),
    ("analytics:sales", _("Analytics"), EVERYONE),
    ("settings", _("Settings"), ADMINS),
)


def navigation_for(request: HttpRequest) -> list[dict[str, Any]]:
    role = role_of(getattr(request, "user", None))
    if role is None:
        return []
    items = []
    for url_name, label, roles in NAVIGATION:
        if role not in roles:
            continue
        url = reverse(url_name)
        items.append({"url": url, "label": label, "active": False})
    # The item whose url the path starts with, the longest one (/catalog/stock/ is Stock); else the
    # item of the same section (/catalog/ and /catalog/cards/… belong to the catalogue's products).
    path = request.path
    prefixed = [i for i in items if (path == i["url"] if i["url"] == "/" else path.startswith(i["url"]))]
    section = [i for i in items if i["url"] != "/" and i["url"].split("/")[1] == path.split("/")[1]]
    chosen = max(prefixed, key=lambda i: len(i["url"])) if prefixed else (section[0] if section else None)
    if chosen is not None:
        chosen["active"] = True
    return items
