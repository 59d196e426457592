"""What we notify about, and who hears of it by default (each user may change it on /notifications/)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.roles import Role


class Kind(models.TextChoices):
    SYNC_FAILED = "sync_failed", _("Sync failed")
    KEY_EXPIRING = "key_expiring", _("Key expiring")
    PUSH_REJECTED = "push_rejected", _("Change rejected by a marketplace")
    LOW_RATING = "low_rating", _("Low rating")
    STOCKOUT_AHEAD = "stockout_ahead", _("Stock-out ahead")
    MONEY_AT_RISK = "money_at_risk", _("Money at risk")


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class ChannelPref(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("By email")


# (in the app, by email) per role. Administrators hear of what breaks the connection to a
# marketplace; managers of what needs their hands (rejected changes, reviews, stock); analysts read.
DEFAULTS: dict[str, dict[Role, tuple[bool, bool]]] = {
    Kind.SYNC_FAILED: {Role.ADMIN: (True, True), Role.MANAGER: (True, False), Role.ANALYST: (False, False)},
    Kind.KEY_EXPIRING: {Role.ADMIN: (True, True), Role.MANAGER: (False, False), Role.ANALYST: (False, False)},
    Kind.PUSH_REJECTED: {Role.ADMIN: (True, False), Role.MANAGER: (True, True), Role.ANALYST: (False, False)},
    Kind.LOW_RATING: {Role.ADMIN: (True, False), Role.MANAGER: (True, True), Role.ANALYST: (False, False)},
    Kind.STOCKOUT_AHEAD: {Role.ADMIN: (True, False), Role.MANAGER: (True, True), Role.ANALYST: (True, False)},
    Kind.MONEY_AT_RISK: {Role.ADMIN: (True, True), Role.MANAGER: (True, False), Role.ANALYST: (True, False)},
}


def default_channels(kind: str, role: Role | None) -> tuple[bool, bool]:
    if role is None:
        return (False, False)
    return DEFAULTS[kind][role]
