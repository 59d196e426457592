from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = _("Prices")

    def ready(self) -> None:
        # Registers the tasks in every process (web included): pricing.repricing sends a run's task
        # by its name without importing it.
        from pricing import tasks  # noqa: F401
