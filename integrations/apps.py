from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # Registers the outbox's tasks in every process (web included), so that
        # integrations.outbox can ring the doorbell by the task's name without importing them.
        from integrations import push_tasks  # noqa: F401
