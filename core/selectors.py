"""Reads for the user and role settings, and the local day. Each function is a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.roles import GROUP_NAMES, Role


def local_day_start(now: datetime | None = None) -> datetime:
    """Midnight of today in the display time zone (Europe/Moscow), as an aware datetime."""
    local = timezone.localtime(now or timezone.now())
    return timezone.make_aware(datetime.combine(local.date(), time.min), local.tzinfo)


@dataclass
class UserRow:
    user: Any
    role: Role | None


def users_with_roles() -> list[UserRow]:
    rows = []
    for user in get_user_model().objects.prefetch_related("groups").order_by("username"):
        names = {g.name for g in user.groups.all()}
        role = Role.ADMIN if user.is_superuser else next((r for r in Role if GROUP_NAMES[r] in names), None)
        rows.append(UserRow(user=user, role=role))
    return rows
