from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        # Register the admin pages of the roll-ups, the reconciliation's tables and the ad statistics;
        # and the tasks in every process (web included): analytics.jobs and analytics.reconciliation
        # send them by their names without importing them.
        from analytics import ads_admin, reconciliation_admin, rollup_admin, tasks  # noqa: F401
