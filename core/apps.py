from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_roles(**kwargs: Any) -> None:
    from core.roles import ensure_roles

    ensure_roles()


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # After every migrate, so a fresh database (and the test database) has the role groups.
        post_migrate.connect(_ensure_roles, sender=self, dispatch_uid="core.ensure_roles")
        # Celery tasks act on the sync channel in the audit trail.
        from core.request_context import connect_task_signals

        connect_task_signals()
